export * as FetchLayer from "./fetch-layer"
export * as FetchLayerSettings from "./settings"
export * as GatewayHosts from "./gateway-hosts"
