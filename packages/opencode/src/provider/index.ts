export * as Provider from "./provider"
export * as ProviderCatalog from "./catalog"
