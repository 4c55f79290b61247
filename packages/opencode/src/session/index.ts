export * as SessionLLM from "./llm"
export * as SessionHeaders from "./headers"
export * as SessionProcessor from "./processor"
export * as SessionRetry from "./retry"
