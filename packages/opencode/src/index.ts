// The module's public surface for a host that embeds it (an OpenCode-runtime fork: see
// docs/adopting.md). The fetch-level layer has its own entry, `@pawwork/opencode/integration`,
// so a fetch host never loads the runtime's wiring.
export * as Identifier from "./id/id"
export { Installation } from "./installation"
export { Config } from "./config"
export { Paths } from "./global"
export * as Auth from "./auth"
export * as Identity from "./auth/identity"
export { Provider, ProviderCatalog, ProviderError, ProviderErrorMessage } from "./provider"
export { SessionLLM, SessionHeaders, SessionProcessor, SessionRetry, SessionDiagnostics, SessionDeadline } from "./session"
