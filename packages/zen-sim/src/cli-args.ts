import { parseArgs } from "node:util";
import { CLOCK_RANGE, inClockRange } from "./clock.ts";
import type { SimConfigInput } from "./config.ts";
import type { SimOptions } from "./server.ts";

/** Turns `bun run sim` flags into simulator options. Pure, so it can be tested without spawning. */

export const USAGE = `Usage: bun run sim [flags]

  --port N                  port to listen on (default 0: a free port)
  --host H                  address to bind (default 127.0.0.1)
  --config FILE             JSON config file (see packages/zen-sim/README.md)
  --trust-proxy             take the client IP from x-real-ip and the region from cf-ipcountry
  --quota-key ip|install    count anonymous free usage per IP (default) or per x-pawwork-install value
  --free-daily-limit N      free-model requests per client per UTC day (default 200)
  --fallback-daily-limit N  the same for clients without an expected x-opencode-client
                            (default 20, or the free limit if lower; never above it)
  --no-new-client-bonus     do not double the allowance of new clients (lifetime use under 7 days' worth)
  --free-tier-gate MODE     off|session|session+ua|closed: what anonymous free-model requests must carry
                            (default session: a canonical x-opencode-session; off: before 2026-09-17;
                            closed: every one refused)
  --min-client-version V    session+ua: lowest opencode/<version> User-Agent served (default 1.17.0)
  --session-max-age SEC     the time inside the session id must be within SEC of the clock
                            (unconfirmed rule; default: not checked)
  --go-session-gate MODE    required|off: the Go endpoint needs an x-opencode-session (default required)
  --now ISO                 start the simulated clock at this time
  --key KEY                 add a Zen key with a $20 balance in its own workspace (repeatable)
  --go-key KEY              add a key with an OpenCode Go subscription in its own workspace (repeatable)
  --help                    show this help`;

export class CliUsageError extends Error {
  override readonly name = "CliUsageError";
}

export type CliCommand =
  | { kind: "help" }
  | {
      kind: "run";
      options: Omit<SimOptions, "config">;
      configFile: string | undefined;
      /** Applied over the config file's top-level fields. */
      overrides: CliOverrides;
      zenKeys: string[];
      goKeys: string[];
    };

type CliOverrides = Pick<
  SimConfigInput,
  | "freeDailyLimit"
  | "fallbackDailyLimit"
  | "newClientBonus"
  | "freeTierGate"
  | "minClientVersion"
  | "freeTierSessionMaxAgeSec"
  | "goSessionGate"
>;

export function parseCliArgs(argv: string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        config: { type: "string" },
        "trust-proxy": { type: "boolean" },
        "quota-key": { type: "string" },
        "free-daily-limit": { type: "string" },
        "fallback-daily-limit": { type: "string" },
        "no-new-client-bonus": { type: "boolean" },
        "free-tier-gate": { type: "string" },
        "min-client-version": { type: "string" },
        "session-max-age": { type: "string" },
        "go-session-gate": { type: "string" },
        now: { type: "string" },
        key: { type: "string", multiple: true },
        "go-key": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    // node:util's messages name the flag, never a value, so they are safe to show.
    throw new CliUsageError(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  if (v.help) return { kind: "help" };

  const quotaKey = v["quota-key"];
  if (quotaKey !== undefined && quotaKey !== "ip" && quotaKey !== "install") {
    throw new CliUsageError(`--quota-key: expected "ip" or "install"`);
  }
  if (v.now !== undefined && Number.isNaN(Date.parse(v.now))) throw new CliUsageError("--now: expected an ISO date-time");
  // Before anything listens: a start the clock cannot show would fail every request.
  if (v.now !== undefined && !inClockRange(Date.parse(v.now))) throw new CliUsageError(`--now: out of range; the clock runs ${CLOCK_RANGE}`);

  const overrides: CliOverrides = {};
  if (v["free-daily-limit"] !== undefined) overrides.freeDailyLimit = count("--free-daily-limit", v["free-daily-limit"]);
  if (v["fallback-daily-limit"] !== undefined) {
    overrides.fallbackDailyLimit = count("--fallback-daily-limit", v["fallback-daily-limit"]);
  }
  if (v["no-new-client-bonus"]) overrides.newClientBonus = false;
  const gate = v["free-tier-gate"];
  if (gate !== undefined) {
    if (gate !== "off" && gate !== "session" && gate !== "session+ua" && gate !== "closed") {
      throw new CliUsageError(`--free-tier-gate: expected "off", "session", "session+ua" or "closed"`);
    }
    overrides.freeTierGate = gate;
  }
  const minVersion = v["min-client-version"];
  if (minVersion !== undefined) {
    if (!/^\d{1,9}\.\d{1,9}\.\d{1,9}$/.test(minVersion)) throw new CliUsageError("--min-client-version: expected a release version such as 1.17.0");
    overrides.minClientVersion = minVersion;
  }
  if (v["session-max-age"] !== undefined) {
    const seconds = count("--session-max-age", v["session-max-age"]);
    if (seconds < 1) throw new CliUsageError("--session-max-age: expected at least 1 second");
    overrides.freeTierSessionMaxAgeSec = seconds;
  }
  const goGate = v["go-session-gate"];
  if (goGate !== undefined) {
    if (goGate !== "required" && goGate !== "off") throw new CliUsageError(`--go-session-gate: expected "required" or "off"`);
    overrides.goSessionGate = goGate;
  }

  const options: Omit<SimOptions, "config"> = {};
  if (v.port !== undefined) {
    const port = count("--port", v.port);
    if (port > 65_535) throw new CliUsageError("--port: expected 0-65535");
    options.port = port;
  }
  if (v.host !== undefined) options.hostname = v.host;
  if (v["trust-proxy"]) options.trustProxy = true;
  if (quotaKey !== undefined) options.quotaKey = quotaKey;
  if (v.now !== undefined) options.now = v.now;

  return { kind: "run", options, configFile: v.config, overrides, zenKeys: v.key ?? [], goKeys: v["go-key"] ?? [] };
}

function count(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new CliUsageError(`${flag}: expected a whole number`);
  return Number(text);
}
