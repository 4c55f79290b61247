import { SecretSet } from "@pawwork/secrets"
import { ask as makeAsk, type Ask, type Usage } from "./allowance"
import { addressKey, clientAddress } from "./client-ip"
import { parseConfig, type RelayConfig, type RelayConfigInput } from "./config"
import { dayOf } from "./day"
import { fingerprint } from "./fingerprint"
import { Limiter } from "./limiter"
import { Log, stderrSink, type LogSink } from "./log"
import { MemoryStore } from "./memory-store"
import { Metrics } from "./metrics"
import { RedisStore } from "./redis-store"
import { errorResponse, refusalResponse, unavailableResponse } from "./refusal"
import { forward } from "./upstream"

/**
 * The relay: an OpenAI-compatible front for one upstream gateway that gives every PawWork install
 * its own daily allowance, counted in Redis and shared by every relay instance. A request is
 * validated (install token, model, size) before anything is counted, counted before it is
 * forwarded, and its concurrency slot is freed when its answer ends, fails or is abandoned.
 */

export interface RelayOptions {
  config: RelayConfigInput
  /** The upstream key; default: the environment variable named by `upstream.keyEnv`. */
  upstreamKey?: string
  /** Where log lines go; default stderr. */
  logSink?: LogSink
  /** The relay's clock (tests freeze it); default Date.now. */
  now?: () => number
}

export interface Relay {
  url: string
  config: RelayConfig
  metrics: Metrics
  stop(): Promise<void>
}

export class MissingUpstreamKeyError extends Error {
  override readonly name = "MissingUpstreamKeyError"
}

export class InvalidUpstreamKeyError extends Error {
  override readonly name = "InvalidUpstreamKeyError"
}

/** The token shape the runtime mints: `pwi_` + 32 random bytes in base64url. */
export const INSTALL_TOKEN = /^pwi_[A-Za-z0-9_-]{43}$/
const INSTALL_HEADER = "x-pawwork-install"
// Slots of a relay killed mid-answer free themselves this long after the longest possible answer.
const SLOT_GRACE_MS = 60_000
// A body arriving slower than this is cut off: a client must not hold a connection open by trickling.
const BODY_READ_TIMEOUT_MS = 30_000

export async function startRelay(options: RelayOptions): Promise<Relay> {
  const config = parseConfig(options.config)
  const key = (options.upstreamKey ?? process.env[config.upstream.keyEnv] ?? "").trim()
  if (!key) throw new MissingUpstreamKeyError(`The upstream key is missing: set the environment variable ${config.upstream.keyEnv} (upstream.keyEnv) to the gateway API key the relay should use.`)
  // Such a key cannot go in a header: every request would be counted, then fail inside the relay.
  if (!/^[\x21-\x7e]+$/.test(key))
    throw new InvalidUpstreamKeyError(
      `The upstream key in ${config.upstream.keyEnv} has a space, control or non-ASCII character inside, which cannot be sent in a header: set it again to the key alone.`,
    )
  const now = options.now ?? Date.now
  const metrics = new Metrics()
  const secrets = SecretSet.of([key])
  const log = new Log(options.logSink ?? stderrSink, secrets, now)
  const redis = new RedisStore(config.redisUrl, config.redisTimeoutMs, {
    roundTrip: (seconds) => {
      metrics.inc("relay_redis_round_trips_total")
      metrics.inc("relay_redis_latency_seconds_sum", {}, seconds)
      metrics.inc("relay_redis_latency_seconds_count")
    },
    error: () => metrics.inc("relay_redis_errors_total"),
    state: (up) => {
      metrics.set("relay_redis_up", up ? 1 : 0)
      if (up) log.info("relay.redis.up")
      else log.warn("relay.redis.down", { policy: config.redisPolicy })
    },
  })
  await redis.start()
  const limiter = new Limiter(redis, new MemoryStore(), config.redisPolicy, metrics, log)
  const upstreamURL = `${config.upstream.baseURL.replace(/\/+$/, "")}/chat/completions`
  const models = new Set(config.models)
  const slotLifetimeMs = config.upstream.firstByteTimeoutMs + config.upstream.responseTimeoutMs + SLOT_GRACE_MS
  const count = (route: string, outcome: string) => metrics.inc("relay_requests_total", { route, outcome })

  const askFor = (install: string, ipKey: string, at: number): Ask =>
    makeAsk({ prefix: config.keyPrefix, installToken: install, ipKey, now: at, requestID: crypto.randomUUID(), slotLifetimeMs, limits: config.limits })

  async function chat(request: Request, socketAddress: string | null): Promise<Response> {
    const install = request.headers.get(INSTALL_HEADER)?.trim() ?? ""
    if (!INSTALL_TOKEN.test(install)) {
      count("chat", "rejected")
      return errorResponse(
        400,
        "InstallTokenError",
        "The PawWork relay gives each install its own allowance, so it needs the x-pawwork-install header the PawWork runtime sends. Turn the install identity back on (remove PAWWORK_INSTALL_IDENTITY=0 or pawwork.installIdentity=false).",
      )
    }
    const body = await readBounded(request, config.bounds.maxBodyBytes)
    if (body === "too-large") {
      count("chat", "rejected")
      return errorResponse(413, "RequestTooLargeError", `The request body is larger than the relay accepts (${config.bounds.maxBodyBytes} bytes).`)
    }
    if (body === "failed") {
      count("chat", "rejected")
      return errorResponse(400, "BadRequestError", "The request body could not be read.")
    }
    const parsed = parseChat(body)
    if (!parsed) {
      count("chat", "rejected")
      return errorResponse(400, "BadRequestError", "The request body must be a JSON chat-completion request with a model.")
    }
    if (!models.has(parsed.model)) {
      count("chat", "rejected")
      const named = /^[A-Za-z0-9._:/-]{1,128}$/.test(parsed.model) ? parsed.model : "this model"
      return errorResponse(400, "ModelError", `Model ${named} is not offered by this PawWork relay. It offers: ${config.models.join(", ")}.`)
    }

    const at = now()
    const ipKey = addressKey(clientAddress(request.headers, socketAddress, config.trustProxy))
    const ask = askFor(install, ipKey, at)
    const who = { install: fingerprint(install), network: fingerprint(ipKey), model: parsed.model, stream: parsed.stream }
    const admission = await limiter.admit(ask)
    if (!admission.ok) {
      count("chat", "refused")
      if ("unavailable" in admission) {
        metrics.inc("relay_refusals_total", { scope: "redis" })
        log.warn("relay.refused", { ...who, scope: "redis" })
        return unavailableResponse()
      }
      metrics.inc("relay_refusals_total", { scope: admission.verdict.scope })
      log.info("relay.refused", { ...who, scope: admission.verdict.scope, limitName: admission.verdict.limitName, limit: admission.verdict.limit })
      return refusalResponse(admission.verdict, at, dayOf(at).resetAt)
    }

    metrics.inc("relay_active_requests", {}, 1)
    const started = now()
    return forward({
      url: upstreamURL,
      key,
      secrets,
      body: parsed.forwarded,
      headers: request.headers,
      stream: parsed.stream,
      firstByteTimeoutMs: config.upstream.firstByteTimeoutMs,
      responseTimeoutMs: config.upstream.responseTimeoutMs,
      clientSignal: request.signal,
      done: ({ status, costUSD, outcome }) => {
        metrics.inc("relay_active_requests", {}, -1)
        metrics.inc("relay_upstream_responses_total", { status: String(status) })
        count("chat", outcome === "complete" && status < 400 ? "served" : outcome === "aborted" ? "aborted" : "failed")
        log.info("relay.request", { ...who, via: admission.via, status, outcome, costUSD, ms: now() - started, used: admission.usage.installRequests })
        void limiter.release(admission, costUSD)
      },
    })
  }

  async function usage(request: Request, socketAddress: string | null): Promise<Response> {
    const install = request.headers.get(INSTALL_HEADER)?.trim() ?? ""
    if (!INSTALL_TOKEN.test(install)) return errorResponse(400, "InstallTokenError", "GET /v1/usage needs this install's x-pawwork-install header.")
    const at = now()
    const ipKey = addressKey(clientAddress(request.headers, socketAddress, config.trustProxy))
    const ask = askFor(install, ipKey, at)
    const found = await limiter.usage(ask)
    if (!found) return unavailableResponse()
    return Response.json(usageBody(fingerprint(install), found.usage, found.via, config, at))
  }

  const server = Bun.serve({
    port: config.port,
    hostname: config.hostname,
    idleTimeout: config.bounds.clientIdleTimeoutSec,
    // The bound is the handler's (readBounded: the declared length first, then the bytes read),
    // which answers in the gateway's shape. Bun's own check would answer first, with an empty 413
    // that a client cannot tell from any proxy's; unread bodies are not buffered, so lifting it
    // costs no memory.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    async fetch(request, srv) {
      return withRelayHeader(await handle(request, srv.requestIP(request)?.address ?? null))
    },
    error: () => withRelayHeader(errorResponse(500, "error", "Internal server error")),
  })

  async function handle(request: Request, socketAddress: string | null): Promise<Response> {
    const path = new URL(request.url).pathname
    const route = ROUTES[`${request.method} ${path}`] ?? "other"
    try {
      if (countHeaders(request.headers) > config.bounds.maxHeaders) {
        count(route, "rejected")
        return errorResponse(431, "BadRequestError", `Too many request headers (the relay accepts ${config.bounds.maxHeaders}).`)
      }
      switch (route) {
        case "chat":
          return await chat(request, socketAddress)
        case "models":
          count(route, "served")
          return Response.json({ object: "list", data: config.models.map((id) => ({ id, object: "model", created: 0, owned_by: "pawwork-relay" })) })
        case "usage": {
          const answer = await usage(request, socketAddress)
          count(route, answer.ok ? "served" : "rejected")
          return answer
        }
        case "healthz":
          return Response.json({ status: "ok", redis: redis.connected ? "up" : "down", policy: config.redisPolicy })
        case "metrics":
          // The connection as it is now, not as it was at the last request: an idle relay's outage shows too.
          metrics.set("relay_redis_up", redis.connected ? 1 : 0)
          return new Response(metrics.text(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } })
      }
      count("other", "rejected")
      return errorResponse(404, "NotFoundError", `No route for ${request.method} ${path.length > 128 ? `${path.slice(0, 128)}…` : path} on the PawWork relay.`)
    } catch (error) {
      count(route, "failed")
      log.error("relay.internal_error", { route, error: error instanceof Error ? error.name : "unknown" })
      return errorResponse(500, "error", "Internal server error")
    }
  }

  log.info("relay.started", { port: server.port, upstream: new URL(upstreamURL).origin, models: config.models, policy: config.redisPolicy })
  return {
    url: `http://${server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname}:${server.port}`,
    config,
    metrics,
    async stop() {
      await server.stop(true)
      redis.close()
    },
  }
}

/**
 * On every answer of the relay, its own and those it passes through from the upstream: a gateway
 * error passed through (FreeUsageLimitError, CreditsError, ...) is about the relay's own key and
 * address, not the install's, and the runtime words it so when it sees this header.
 */
export const RELAY_HEADER = "x-pawwork-relay"

function withRelayHeader(response: Response): Response {
  response.headers.set(RELAY_HEADER, "1")
  return response
}

const ROUTES: Record<string, string> = {
  "POST /v1/chat/completions": "chat",
  "GET /v1/models": "models",
  "GET /v1/usage": "usage",
  "GET /healthz": "healthz",
  "GET /metrics": "metrics",
}

function countHeaders(headers: Headers): number {
  let n = 0
  for (const _ of headers.keys()) n++
  return n
}

/** The body, read no further than `max` bytes and no longer than BODY_READ_TIMEOUT_MS. */
async function readBounded(request: Request, max: number): Promise<Uint8Array | "too-large" | "failed"> {
  const declared = Number(request.headers.get("content-length"))
  if (Number.isFinite(declared) && declared > max) return "too-large"
  if (!request.body) return new Uint8Array()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  const timer = setTimeout(() => reader.cancel().catch(() => {}), BODY_READ_TIMEOUT_MS)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > max) {
        await reader.cancel().catch(() => {})
        return "too-large"
      }
      chunks.push(value)
    }
  } catch {
    return "failed"
  } finally {
    clearTimeout(timer)
  }
  const out = new Uint8Array(size)
  let offset = 0
  for (const c of chunks) {
    out.set(c, offset)
    offset += c.byteLength
  }
  return out
}

/**
 * The model and stream flag, and the body to forward: the parsed request written out again, so the
 * upstream reads the very model that was checked. Forwarding the bytes as sent would let a body
 * with two "model" keys pass the check with one and reach an upstream whose parser keeps the other.
 */
function parseChat(body: Uint8Array): { model: string; stream: boolean; forwarded: Uint8Array } | null {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(body))
    if (typeof value !== "object" || value === null || Array.isArray(value)) return null
    const { model, stream } = value as Record<string, unknown>
    if (typeof model !== "string" || !model) return null
    return { model, stream: stream === true, forwarded: new TextEncoder().encode(JSON.stringify(value)) }
  } catch {
    return null
  }
}

function usageBody(install: string, u: Usage, via: "redis" | "memory", config: RelayConfig, at: number) {
  const l = config.limits
  const left = (limit: number | null, used: number) => (limit === null ? null : Math.max(0, round(limit - used)))
  const day = dayOf(at)
  return {
    install,
    day: day.name,
    resetsAt: new Date(day.resetAt).toISOString(),
    requests: { used: u.installRequests, limit: l.installDailyRequests, remaining: left(l.installDailyRequests, u.installRequests) },
    spendUSD: { used: round(u.installSpendUSD), limit: l.installDailySpendUSD, remaining: left(l.installDailySpendUSD, u.installSpendUSD) },
    network: { requests: { used: u.ipRequests, limit: l.ipDailyRequests, remaining: left(l.ipDailyRequests, u.ipRequests) } },
    concurrent: { used: u.concurrent, limit: l.concurrentStreamsPerInstall },
    // Whether the relay-wide budget still serves anyone today; its figures are PawWork's, not the install's.
    budgetLeft:
      (l.globalDailyRequests === null || u.globalRequests < l.globalDailyRequests) && (l.globalDailySpendUSD === null || u.globalSpendUSD < l.globalDailySpendUSD),
    source: via,
  }
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6
}
