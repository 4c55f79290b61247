export * as Paths from "./paths"
