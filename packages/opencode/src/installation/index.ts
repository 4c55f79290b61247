export * as Installation from "./installation"
