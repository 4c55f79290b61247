export * as Probe from "./run"
export * as ProbeTarget from "./target"
export * as ProbeRender from "./render"
export * as ProbeReport from "./report"
