import type { LanguageModelUsage } from "ai"
import { SecretSet } from "@pawwork/secrets"
import { Config } from "../../config"
import { Provider, ProviderError, ProviderErrorMessage } from "../../provider"
import { SessionDeadline, SessionDiagnostics, SessionProcessor, SessionRetry } from "../../session"
import { QuotaRecorder, QuotaTurn } from "../../quota"
import * as Identifier from "../../id/id"
import { printableAnswer, printableJson } from "../../util/scrub"
import * as Args from "../args"
import type { IO } from "../io"

export const help = `Usage: cli run [--model <provider>/<model>] [--session <id>] [--json] [--debug] "<prompt>"

Streams the model's answer to stdout.

Options:
  --model <provider>/<model>  model to use (default: opencode.json "model", else opencode/big-pickle)
  --session <id>              session id to send (default: a new ses_... id)
  --json                      print one JSON object instead of streaming text
  --debug                     on failure, also print the stack trace
  -h, --help                  show this help

Rate limits, overloads, server and network errors are retried (at most ${SessionRetry.MAX_ATTEMPTS} attempts,
one line on stderr per retry); a spent quota, billing, auth or request error ends the turn at once.
Deadlines (opencode.json "pawwork": { "timeouts": { ... } }, in milliseconds): no answer within
firstByteMs (default ${SessionDeadline.DEFAULTS.firstByteMs}) is retried once; no stream event for streamIdleMs (default
${SessionDeadline.DEFAULTS.streamIdleMs}) or an answer unfinished after responseMs (default ${SessionDeadline.DEFAULTS.responseMs}) ends the turn; the waits
between retries stop at turnWaitBudgetMs (default ${SessionDeadline.DEFAULTS.turnWaitBudgetMs}) in all.
On failure: exit code 1, one paragraph on stderr, and with --json a JSON error object on stdout
carrying the normalized failure (kind, retryable, action, statusCode, upstreamType, resetAt, ...)
and stopReason, why the turn was not tried again.`

export async function run(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = Args.parse(
    argv,
    { model: { type: "string" }, session: { type: "string" }, json: { type: "boolean" }, debug: { type: "boolean" } },
    "cli run",
  )
  if (values.help) return io.stdout(help + "\n"), 0
  const prompt = positionals.join(" ").trim()
  if (!prompt) throw new Args.UsageError('run needs a prompt, for example: cli run "Say hello". See `cli run --help`.')
  const sessionID = values.session ?? Identifier.create("session")
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(sessionID))
    throw new Args.UsageError("--session takes 1 to 128 letters, digits, '_' or '-'. See `cli run --help`.")

  const { providerID, modelID } = values.model ? Provider.parseModel(values.model) : await Provider.defaultModel(io.env)
  const model = await Provider.getModel(providerID, modelID, io.env)
  const pawwork = (await Config.load(io.env)).info.pawwork
  const timeouts = pawwork?.timeouts
  const requestID = Identifier.ascending("message")
  // A gateway can put the request's own secrets in the answer too: they are removed as it streams.
  const secrets = SecretSet.of(Provider.secretsOf(model))
  const answer = secrets.stream()
  const diagnostics = SessionDiagnostics.hooks({ model, sessionID, requestID, env: io.env })
  // Counted in the quota ledger; Go meters checked against the thresholds beside the request.
  const quota = QuotaTurn.forTurn({ model, env: io.env, settings: pawwork?.quota, onWarning: (text) => io.stderr(text + "\n") })
  const result = await SessionProcessor.process({
    model,
    sessionID,
    requestID,
    messages: [{ role: "user", content: prompt }],
    // The answer is the gateway's text: nothing in it may drive the terminal (util/scrub.ts).
    ...(values.json ? {} : { onText: (delta: string) => io.stdout(printableAnswer(answer.push(delta))) }),
    decide: SessionRetry.policy(),
    ...(timeouts ? { timeouts } : {}),
    onTurnStart: quota.onTurnStart,
    onSuccess: (attempt, usage) => {
      diagnostics.onSuccess?.(attempt, usage)
      quota.onSuccess(attempt, usage)
    },
    onFailure: (failure, decision) => {
      diagnostics.onFailure?.(failure, decision)
      quota.onFailure(failure, decision)
      if (decision.action === "retry")
        io.stderr(ProviderErrorMessage.retrying(failure.info, decision.delayMs, failure.attempt + 1, SessionRetry.maxAttempts(failure.info.kind)) + "\n")
    },
  })
  // A usage read still running (a slow usage API) may hold the exit at most QUOTA_SETTLE_MS: its
  // warning then comes on a later turn. The ledger is written either way.
  await Promise.all([SessionDiagnostics.flush(), settleWithin(quota.settled(), QUOTA_SETTLE_MS).then(() => QuotaRecorder.flushAll())])
  if (!values.json) io.stdout(printableAnswer(answer.end()))
  if (!result.ok) {
    if (!values.json && result.text) io.stdout("\n")
    throw new ProviderError.ProviderFailure(result.failure, { cause: result.error, attempts: result.attempts, stopReason: result.stopReason })
  }
  if (values.json)
    io.stdout(
      printableJson(JSON.stringify({
        model: `${providerID}/${modelID}`,
        sessionID,
        requestID,
        text: secrets.remove(result.text),
        usage: tokenCounts(result.usage),
        attempts: result.attempts,
        // Which identity the request went out with: the tag and fingerprints, never the key or token.
        authSource: model.provider.credential.source,
        ...(model.provider.credential.envVar ? { authEnvVar: model.provider.credential.envVar } : {}),
        ...(model.provider.credential.fingerprint ? { keyFingerprint: model.provider.credential.fingerprint } : {}),
        install: { fingerprint: model.install.fingerprint ?? null, sent: model.install.sent },
      })) + "\n",
    )
  else io.stdout(result.text.endsWith("\n") ? "" : "\n")
  return 0
}

const QUOTA_SETTLE_MS = 2_000

function settleWithin(work: Promise<void>, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined
  const cap = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
    timer.unref?.()
  })
  return Promise.race([work, cap]).finally(() => clearTimeout(timer))
}

// The SDK passes the gateway's own usage object on verbatim as `raw`: a gateway can put anything in
// it (an echoed key, the install token). Only the counts the SDK parsed into numbers are printed.
function tokenCounts(usage: LanguageModelUsage | undefined) {
  if (!usage) return usage
  const { raw: _raw, ...counts } = usage as LanguageModelUsage & { raw?: unknown }
  return counts
}
