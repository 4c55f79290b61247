import { Probe, ProbeRelay, ProbeRender, ProbeTarget } from "../../probe"
import * as Args from "../args"
import type { IO } from "../io"

export const help = `Usage: cli probe [--base-url <url>] [--model <free model>] [--max-requests N] [--json]
                 [--key-env <VAR>] [--go-key-env <VAR>] [${ProbeTarget.REAL_QUOTA_FLAG}]
       cli probe --relay <url> [--model <free model>] [--max-requests N] [--json]

First asks whether the gateway serves this runtime's anonymous free requests at all: one request
from a fresh anonymous install with the runtime's own headers, never retried; "gated" (403
FreeTierError) or "outdated" (426) skips the cases that need the anonymous free tier.
Then finds out which identity an OpenCode gateway keys its limits on. For each case it creates two
fresh throwaway installs (own data dir, own install token, removed afterwards), spends one
install's allowance through the real runtime, then sends once from the other and records what
each got. Cases: two anonymous installs on different networks; on the same network; a saved
key versus no key; an env key versus a saved key; with a Go key, who shares the Go windows.
It never waits on a quota and never sends more than --max-requests HTTP requests in total.

Against the local simulator (quick run):
  ${Probe.QUICK_SIM} --port 4096
  bun run cli probe --base-url http://127.0.0.1:4096
"Different networks" are simulated with the x-real-ip header, which the simulator only honours
with --trust-proxy (the probe detects when it does not). The header is only sent to loopback.

Relay mode (--relay): whether a PawWork relay gives installs on one network allowances of their
own. Two fresh anonymous installs on this machine, with the relay as their opencode baseURL:
install A sends until the relay refuses it, then install B sends once. "separate": B was served
(each install has its own allowance); "shared": B got A's refusal.
  bun run relay --config packages/relay/relay.example.json --install-daily-requests 3
  bun run cli probe --relay http://127.0.0.1:8787/v1

Options:
  --relay <url>        probe a PawWork relay instead (its base URL, as in opencode.json); a
                       non-loopback relay needs ${ProbeTarget.REAL_QUOTA_FLAG} too
  --base-url <url>     gateway origin (default ${ProbeTarget.DEFAULT_BASE_URL}); zen = <url>/zen/v1,
                       go = <url>/zen/go/v1. A non-loopback URL is refused unless
                       ${ProbeTarget.REAL_QUOTA_FLAG} is given: it spends real quota.
  --model <model>      free Zen model to use (default opencode/big-pickle)
  --max-requests N     total HTTP requests, all cases together (default ${Probe.DEFAULT_MAX_REQUESTS})
  --key-env <VAR>      variable holding an OpenCode key, for the keyed cases (skipped without)
  --go-key-env <VAR>   variable holding an OpenCode Go key, for the Go windows case
  --json               print { "target", "network", "budget", "freeTier", "cases": [...],
                       "conclusion": { "anonymousFreeQuota": "ip"|"install"|"key"|"none"|"unknown", "text",
                       "anonymousFreeTier": "served"|"gated"|"outdated"|"unknown", "freeTierText" } }
  -h, --help           show this help

Exit status: 0 when the probe ran (whatever it concluded), 2 for a refused target or a bad flag.`

export async function run(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = Args.parse(
    argv,
    {
      "base-url": { type: "string" },
      relay: { type: "string" },
      model: { type: "string" },
      "max-requests": { type: "string" },
      json: { type: "boolean" },
      "key-env": { type: "string" },
      "go-key-env": { type: "string" },
      [ProbeTarget.REAL_QUOTA_FLAG.slice(2)]: { type: "boolean" },
    },
    "cli probe",
  )
  if (values.help) return io.stdout(help + "\n"), 0
  if (positionals.length) throw new Args.UsageError(`probe takes no arguments (got ${JSON.stringify(positionals[0])}). See \`cli probe --help\`.`)
  const max = values["max-requests"]
  if (max !== undefined && !/^\d{1,9}$/.test(max)) throw new Args.UsageError("--max-requests takes a whole number, 0 or more. See `cli probe --help`.")
  const keyFrom = (name: string | undefined) => {
    if (name === undefined) return undefined
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Args.UsageError(`--key-env and --go-key-env take a variable name (got ${JSON.stringify(name.slice(0, 40))}), never the key itself.`)
    return { env: name, value: io.env[name]?.trim() || undefined }
  }
  try {
    if (values.relay !== undefined) {
      if (values["base-url"] !== undefined || values["key-env"] !== undefined || values["go-key-env"] !== undefined)
        throw new Args.UsageError("--relay probes a PawWork relay with anonymous installs: it takes no --base-url, --key-env or --go-key-env. See `cli probe --help`.")
      const report = await ProbeRelay.relay({
        relayURL: values.relay,
        ...(values.model !== undefined ? { model: values.model } : {}),
        ...(max !== undefined ? { maxRequests: Number(max) } : {}),
        acceptRealQuota: values[ProbeTarget.REAL_QUOTA_FLAG.slice(2)] === true,
        progress: (line) => io.stderr(line + "\n"),
      })
      io.stdout(values.json ? JSON.stringify(report) + "\n" : ProbeRelay.render(report))
      return 0
    }
    const report = await Probe.run({
      ...(values["base-url"] !== undefined ? { baseURL: values["base-url"] } : {}),
      ...(values.model !== undefined ? { model: values.model } : {}),
      ...(max !== undefined ? { maxRequests: Number(max) } : {}),
      key: keyFrom(values["key-env"]),
      goKey: keyFrom(values["go-key-env"]),
      acceptRealQuota: values[ProbeTarget.REAL_QUOTA_FLAG.slice(2)] === true,
      progress: (line) => io.stderr(line + "\n"),
    })
    io.stdout(values.json ? JSON.stringify(report) + "\n" : ProbeRender.text(report))
    return 0
  } catch (error) {
    // A refusal is the user's call to make, like a bad flag: exit 2, and say so in --json too.
    if (error instanceof ProbeTarget.ProbeRefusedError || error instanceof ProbeTarget.InvalidTargetError || error instanceof Probe.InvalidProbeOptionError) {
      io.stderr(error.message + "\n")
      if (values.json) io.stdout(JSON.stringify({ error: { code: error.code, message: error.message } }) + "\n")
      return 2
    }
    throw error
  }
}
