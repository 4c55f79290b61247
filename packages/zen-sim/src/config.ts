import { z } from "zod";
import { DEFAULT_GO_MODELS, DEFAULT_ZEN_MODELS } from "./catalogue.ts";
import { CLOCK_RANGE, inClockRange } from "./clock.ts";
import { consoleNoGoBodySchema, consoleSessionSchema, dashboardMigrationSchema, workspaceConsoleSchema } from "./console-config.ts";
import { STALLS } from "./stall.ts";

/**
 * One schema for every way configuration reaches the simulator (JSON file,
 * `POST /__sim/config`, `startSimulator({ config })`), so all three reject the
 * same mistakes with the same field paths.
 */

const usd = z.number().finite().min(0);
const count = z.number().int().min(0);
const isoTime = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), "expected an ISO date-time")
  .refine((s) => Number.isNaN(Date.parse(s)) || inClockRange(Date.parse(s)), `out of range: times run ${CLOCK_RANGE}`);
// Workspace ids end up in URLs and in the hydration key of the billing page.
const urlSafeId = z.string().regex(/^[A-Za-z0-9_-]+$/, "expected letters, digits, '_' or '-'");
const region = z.string().regex(/^[A-Z]{2}$/, "expected a two-letter upper-case country code");

// The gateway's names for the three request shapes: chat completions, messages, responses.
export const FORMATS = ["oa-compat", "anthropic", "openai"] as const;

const modelSchema = z.strictObject({
  id: z.string().min(1),
  free: z.boolean().default(false),
  // Allow-list of `cf-ipcountry` values; absent or null = everywhere.
  regions: z.array(region).nullable().default(null),
  // The model's own free daily limit: its own bucket per client per UTC day, with this allowance (free-quota.ts).
  dailyLimit: count.nullable().default(null),
  // Request shapes the model is offered in; null = all three.
  formats: z.array(z.enum(FORMATS)).nullable().default(null),
  // False: every provider behind the model is disabled (401 ModelError "No provider available").
  providerAvailable: z.boolean().default(true),
  // A trial model stops answering at this time (401 ModelError).
  trialEndsAt: isoTime.nullable().default(null),
  // Served only to workspaces that opted in to the provider's data policy (403 DataPolicyError).
  dataPolicyOptIn: z.boolean().default(false),
});

const goSchema = z.strictObject({
  limits: z
    .strictObject({ "5 hour": usd.optional(), weekly: usd.optional(), monthly: usd.optional() })
    .default({}),
  // Anchors the monthly window; defaults to the simulator's start time.
  subscribedAt: isoTime.optional(),
  // The Go page's "use balance" setting: a spent Go window falls back to the workspace balance.
  useBalance: z.boolean().default(false),
});

const blackSchema = z.strictObject({
  plan: z.enum(["20", "100", "200"]),
  useBalance: z.boolean().default(false),
  limits: z.strictObject({ rolling: usd.optional(), weekly: usd.optional() }).default({}),
});

const memberSchema = z.strictObject({
  userID: urlSafeId,
  role: z.enum(["admin", "member"]).default("member"),
  keys: z.array(z.string().min(1)).default([]),
  cookie: z.string().min(1).nullable().default(null),
  consoleSession: consoleSessionSchema,
  spendLimitUSD: usd.nullable().default(null),
  spentUSD: usd.default(0),
  go: goSchema.nullable().default(null),
  black: blackSchema.nullable().default(null),
});

const workspaceSchema = z.strictObject({
  id: urlSafeId,
  name: z.string().optional(),
  blocked: z.boolean().default(false),
  balanceUSD: z.number().finite().default(0),
  monthlyLimitUSD: usd.nullable().default(null),
  monthlyUsageUSD: usd.default(0),
  customerID: z.string().nullable().default(null),
  paymentMethod: z
    .strictObject({ type: z.string().default("card"), last4: z.string().regex(/^\d{4}$/, "expected 4 digits") })
    .nullable()
    .default(null),
  reload: z
    .strictObject({
      enabled: z.boolean().default(false),
      amountUSD: usd.default(20),
      triggerUSD: usd.default(5),
      error: z.string().nullable().default(null),
      errorAt: isoTime.nullable().default(null),
    })
    .default({ enabled: false, amountUSD: 20, triggerUSD: 5, error: null, errorAt: null }),
  members: z.array(memberSchema).default([]),
  // Models this workspace's keys may use; null = all (403 ModelAccessError for the others).
  modelAllowList: z.array(z.string().min(1)).nullable().default(null),
  // Models an admin disabled for the workspace (401 ModelError "Model is disabled").
  disabledModels: z.array(z.string().min(1)).default([]),
  // Opted in to the data policy some models need (see the model's dataPolicyOptIn).
  dataPolicyOptIn: z.boolean().default(false),
  // The new console's view of the workspace (console-config.ts).
  console: workspaceConsoleSchema,
});

const faultSchema = z
  .strictObject({
    endpoint: z.enum(["zen", "go"]).optional(),
    model: z.string().optional(),
    status: z.number().int().min(100).max(599),
    count: z.number().int().min(-1).default(1),
    kind: z.enum(["json", "html", "empty", "raw", "internal"]).default("json"),
    provider: z.string().min(1).default("anthropic"),
    // The name in the gateway's "Error from provider (<name>): " prefix; null: no display name, no prefix.
    displayName: z.string().min(1).nullable().optional(),
    // "edge": sent by something in front of the gateway (CDN, proxy), verbatim, outside its passthrough rules.
    source: z.enum(["upstream", "edge"]).default("upstream"),
    message: z.string().optional(),
    body: z.string().optional(),
    type: z.string().min(1).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    afterChunks: count.optional(),
    midStream: z.enum(["error-event", "abort"]).default("error-event"),
    // A stall instead of a failure (src/stall.ts); `status` is the status line it sends, if any.
    stall: z.enum(STALLS).optional(),
    // Between keep-alive comments or trickled events; a minute at most, so a test cannot wait on it for long.
    intervalMs: z.number().int().min(1).max(60_000).optional(),
    // Hold the fault's answer this long first: a gateway or CDN that fails only after waiting on
    // its upstream (a 504, Cloudflare's 524 after 100 s). A minute at most, as above.
    delayMs: z.number().int().min(1).max(60_000).optional(),
  })
  .refine((f) => f.kind !== "raw" || f.body !== undefined, { message: "kind \"raw\" needs a body", path: ["body"] });

export const DEFAULT_CLIENT_HEADER_VALUES = ["cli", "desktop", "tui", "app", "vscode"];
export const DEFAULT_FREE_DAILY_LIMIT = 200;
/** The longest configured `reply`: far more than any test asserts on, far less than would hurt. */
export const MAX_REPLY_CHARS = 256 * 1024;
export const DEFAULT_FALLBACK_DAILY_LIMIT = 20;

const configObject = z.strictObject({
  freeDailyLimit: count.default(DEFAULT_FREE_DAILY_LIMIT),
  // Left out or null: DEFAULT_FALLBACK_DAILY_LIMIT capped at freeDailyLimit (see fillFallbackDailyLimit).
  fallbackDailyLimit: count.nullable().optional(),
  newClientBonus: z.boolean().default(true),
  clientHeaderValues: z.array(z.string()).default(DEFAULT_CLIENT_HEADER_VALUES),
  paidRateLimitPerMinute: count.default(500),
  requestCostUSD: usd.default(0.01),
  goRequestCostUSD: usd.default(0.05),
  defaultRegion: region.default("US"),
  // Streamed a word per chunk: a reply of megabytes would be millions of chunks held in memory.
  reply: z.string().max(MAX_REPLY_CHARS, `at most ${MAX_REPLY_CHARS} characters (it is streamed a word per chunk)`).nullable().default(null),
  goUsageResetFormat: z.enum(["resetsAt", "resetInSec"]).default("resetsAt"),
  goLimitStatus: z.number().int().min(200).max(599).default(429),
  // The free tier's client gate (free-tier-gate.ts); "off" is the gateway before 2026-09-17, "closed" refuses every anonymous free request.
  freeTierGate: z.enum(["off", "session", "session+ua", "closed"]).default("session"),
  // session+ua: the lowest OpenCode version a User-Agent may name (a release, e.g. "1.17.0").
  minClientVersion: z.string().regex(/^\d{1,9}\.\d{1,9}\.\d{1,9}$/, "expected a release version such as 1.17.0").default("1.17.0"),
  // Unconfirmed (krouter #14): seconds the time inside the session id may be from the clock; null = not checked.
  freeTierSessionMaxAgeSec: z.number().int().min(1).nullable().default(null),
  // The Go endpoint's x-opencode-session requirement (go-session-gate.ts); "off" is the gateway before 2026-09-06.
  goSessionGate: z.enum(["required", "off"]).default("required"),
  // "first": newer gateway copies check the country before the limiters and auth; "after-billing": the older order.
  regionCheck: z.enum(["first", "after-billing"]).default("first"),
  // The Black limit error's name: the current one (metadata {}) or the older one (no metadata).
  blackLimitErrorName: z.enum(["BlackUsageLimitError", "SubscriptionUsageLimitError"]).default("BlackUsageLimitError"),
  // The dashboard's move to the console (console-config.ts); "off" is the dashboard before 2026-09-20.
  dashboardMigration: dashboardMigrationSchema,
  consoleNoGoBody: consoleNoGoBodySchema,
  workspaces: z.array(workspaceSchema).default([]),
  faults: z.array(faultSchema).default([]),
  models: z
    .strictObject({ zen: z.array(modelSchema).optional(), go: z.array(modelSchema).optional() })
    .default({}),
});

/** The fields as parsed, before the derived defaults are filled in. */
type ParsedFields = z.output<typeof configObject>;

export const configSchema = configObject
  .superRefine(checkIdentitiesAreUnambiguous)
  .superRefine(checkFallbackIsNotLarger)
  .transform(fillFallbackDailyLimit);

export type SimConfigInput = z.input<typeof configSchema>;
export type SimConfig = z.output<typeof configSchema>;
export type WorkspaceConfig = SimConfig["workspaces"][number];
export type MemberConfig = WorkspaceConfig["members"][number];
export type FaultConfig = SimConfig["faults"][number];
export type ModelConfig = z.output<typeof modelSchema>;

export interface ConfigIssue {
  field: string;
  message: string;
}

/** Bad configuration. `field` is the path of the first problem, e.g. `workspaces[0].members[1].keys[0]`. */
export class SimConfigError extends Error {
  override readonly name = "SimConfigError";
  readonly field: string;
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join("; "));
    this.field = issues[0]?.field ?? "";
  }
}

export function parseConfig(input: unknown): SimConfig {
  // reportInput lets us name the type that was found; the value itself is never printed.
  const result = configSchema.safeParse(input ?? {}, { reportInput: true });
  if (!result.success) throw new SimConfigError(result.error.issues.flatMap(describeIssue));
  return result.data;
}

/** Top-level keys in the patch replace the current ones (arrays and objects wholesale). */
export function mergeConfigInput(current: SimConfigInput, patch: unknown): SimConfigInput {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    throw new SimConfigError([{ field: "", message: `expected an object, got ${describeValueType(patch)}` }]);
  }
  return { ...current, ...(patch as SimConfigInput) };
}

export function effectiveModels(config: SimConfig): { zen: ModelConfig[]; go: ModelConfig[] } {
  return { zen: config.models.zen ?? DEFAULT_ZEN_MODELS, go: config.models.go ?? DEFAULT_GO_MODELS };
}

/**
 * The gateway gives a client that does not identify itself the smaller "fallback" allowance
 * (research note, "The limiters"). A larger one would reward leaving the header out, the opposite
 * of what the simulator models, so a fallback set above the normal allowance is a mistake.
 */
function checkFallbackIsNotLarger(config: ParsedFields, ctx: z.RefinementCtx): void {
  const fallback = config.fallbackDailyLimit;
  if (fallback === undefined || fallback === null || fallback <= config.freeDailyLimit) return;
  ctx.addIssue({
    code: "custom",
    path: ["fallbackDailyLimit"],
    message:
      `${fallback} is above freeDailyLimit (${config.freeDailyLimit}): ` +
      "the fallback allowance, for clients that do not identify themselves, is never the larger one",
  });
}

/** A fallback left out follows a lowered freeDailyLimit, so `freeDailyLimit: 2` alone gives 2 and 2, not 2 and 20. */
function fillFallbackDailyLimit(config: ParsedFields): Omit<ParsedFields, "fallbackDailyLimit"> & { fallbackDailyLimit: number } {
  return {
    ...config,
    fallbackDailyLimit: config.fallbackDailyLimit ?? Math.min(DEFAULT_FALLBACK_DAILY_LIMIT, config.freeDailyLimit),
  };
}

function checkIdentitiesAreUnambiguous(config: ParsedFields, ctx: z.RefinementCtx): void {
  const workspaceIDs = new Set<string>();
  const keyOwners = new Map<string, string>();
  const cookieUsers = new Map<string, string>();
  config.workspaces.forEach((workspace, w) => {
    if (workspaceIDs.has(workspace.id)) {
      ctx.addIssue({ code: "custom", path: ["workspaces", w, "id"], message: "duplicate workspace id" });
    }
    workspaceIDs.add(workspace.id);
    workspace.members.forEach((member, m) => {
      const here = formatPath(["workspaces", w, "members", m]);
      member.keys.forEach((key, k) => {
        const path = ["workspaces", w, "members", m, "keys", k];
        // The wording never includes the key: config errors get printed.
        if (key === "public") {
          ctx.addIssue({ code: "custom", path, message: "\"public\" is the anonymous key and cannot be assigned" });
        } else if (keyOwners.has(key)) {
          ctx.addIssue({ code: "custom", path, message: `key already assigned to ${keyOwners.get(key)}` });
        } else {
          keyOwners.set(key, here);
        }
      });
      if (member.cookie !== null) {
        const owner = cookieUsers.get(member.cookie);
        if (owner !== undefined && owner !== member.userID) {
          ctx.addIssue({
            code: "custom",
            path: ["workspaces", w, "members", m, "cookie"],
            message: "cookie already belongs to another userID (a cookie is one account)",
          });
        }
        cookieUsers.set(member.cookie, member.userID);
      }
    });
  });
}

function describeIssue(issue: z.core.$ZodIssue): ConfigIssue[] {
  const field = formatPath(issue.path);
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({ field: formatPath([...issue.path, key]), message: "unknown field" }));
    case "invalid_type":
      return [
        {
          field,
          message:
            issue.input === undefined
              ? `missing (expected ${issue.expected})`
              : `expected ${issue.expected}, got ${describeValueType(issue.input)}`,
        },
      ];
    default:
      return [{ field, message: issue.message.replace(/^Invalid input: /, "") }];
  }
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_$][\w$]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

function describeValueType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
