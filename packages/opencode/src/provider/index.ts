export * as Provider from "./provider"
export * as ProviderCatalog from "./catalog"
export * as ProviderError from "./error"
export * as ProviderErrorMessage from "./error-message"
