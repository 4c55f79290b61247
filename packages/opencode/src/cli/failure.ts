import { APICallError } from "ai"
import { RuntimeError } from "../util/error"
import { UsageError } from "./args"

export interface Described {
  code: string
  message: string
  details?: Record<string, unknown>
}

/** One human paragraph (and a stable code) for anything a command can fail with. */
export function describe(error: unknown): Described {
  if (error instanceof UsageError) return { code: "usage", message: error.message }
  if (RuntimeError.isInstance(error)) return { code: error.code, message: error.message }
  if (APICallError.isInstance(error)) {
    const type = upstreamType(error.responseBody)
    return {
      code: "provider_error",
      message: `The provider answered HTTP ${error.statusCode ?? "?"}${type ? ` (${type})` : ""}: ${truncate(error.message, 300)}`,
      details: { statusCode: error.statusCode, upstreamType: type },
    }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { code: "unexpected", message: `Unexpected error: ${truncate(message, 300)}` }
}

function upstreamType(body: string | undefined) {
  if (!body) return undefined
  try {
    const parsed = JSON.parse(body) as { error?: { type?: unknown } }
    return typeof parsed?.error?.type === "string" ? parsed.error.type : undefined
  } catch {
    return undefined
  }
}

function truncate(text: string, max: number) {
  return text.length > max ? text.slice(0, max) + "…" : text
}
