export * as Config from "./config"
