import { currentMonthUSD, type Accounts, type MemberAccount } from "./accounts.ts";
import type { Endpoint, Format, ModelEntry } from "./catalogue.ts";
import { effectiveModels, type SimConfig } from "./config.ts";
import { GatewayError, secondsUntil } from "./errors.ts";
import type { FreeQuota } from "./free-quota.ts";
import { enforceFreeTierGate } from "./free-tier-gate.ts";
import { enforceGoSessionGate } from "./go-session-gate.ts";
import { formatDuration, localise, type Language } from "./messages.ts";
import type { PaidRateLimiter } from "./rate-limit.ts";
import { sha256Hex } from "./fingerprint.ts";

/**
 * The gateway's admission pipeline for a model request, in the order the real
 * gateway applies its checks (region, free quota, paid rate limit, auth, the
 * model's and workspace's settings, then billing: Go windows, Black windows or
 * the balance). Everything here is synchronous, so concurrent requests cannot
 * interleave between a check and its charge.
 */

export interface ChatAttempt {
  endpoint: Endpoint;
  /** The request shape: chat completions, messages or responses. */
  format: Format;
  modelID: string | undefined;
  /** Bearer key; null for none or `public`. */
  key: string | null;
  quotaIdentity: string;
  identifiedClient: boolean;
  /** The `x-opencode-session` and `User-Agent` values, or null when absent: the client gates read them. */
  session: string | null;
  userAgent: string | null;
  region: string;
  language: Language;
}

export interface Admission {
  model: ModelEntry;
  member: MemberAccount | null;
  /** Charges the request; called only once the upstream has answered successfully. */
  recordUsage(): void;
  /**
   * Counts the request against the free allowance or the key's minute limit; called as soon as it
   * goes to a provider, whatever the provider answers (research rows 3 and 7).
   */
  reachedProvider(): void;
}

export interface GatewayDeps {
  config: SimConfig;
  now: Date;
  accounts: Accounts;
  freeQuota: FreeQuota;
  rateLimiter: PaidRateLimiter;
}

type Billing = "free" | "balance" | "go" | "black";

const CONSOLE = "https://opencode.ai/workspace";

export function admitChat(deps: GatewayDeps, attempt: ChatAttempt): Admission {
  const { config, accounts } = deps;
  const now = deps.now.getTime();
  // The catalogue has to be consulted first: which limiter applies depends on whether the model is free.
  const model = lookupModel(config, attempt);

  // Newer gateway copies refuse a country before anything is counted or authenticated.
  if (config.regionCheck === "first") checkRegion(model, attempt.region);

  // The client gates (go-session-gate.ts, free-tier-gate.ts) come before the limiters, so a
  // refused request uses none of the allowance.
  if (attempt.endpoint === "go") enforceGoSessionGate(config.goSessionGate, attempt.session);
  if (model.free && attempt.key === null) enforceFreeTierGate(config, attempt, now);

  // 1. Free models: per identity per UTC day, key or no key; 2. paid models: per key per model per minute.
  // Both only check here; reachedProvider() counts.
  let countRequest = (): void => {};
  if (model.free) {
    const verdict = deps.freeQuota.check(
      {
        identity: attempt.quotaIdentity,
        identifiedClient: attempt.identifiedClient,
        modelID: model.id,
        modelDailyLimit: model.dailyLimit ?? null,
      },
      now,
      config,
    );
    if (!verdict.allowed) {
      // The same text as RateLimitError: only the type differs (research row 6).
      throw new GatewayError(429, "FreeUsageLimitError", localise("rateLimit", attempt.language), {
        metadata: {},
        retryAfterSec: verdict.retryAfterSec,
      });
    }
    countRequest = verdict.count;
  } else if (attempt.key !== null) {
    const verdict = deps.rateLimiter.check(sha256Hex(attempt.key), model.id, now, config.paidRateLimitPerMinute);
    if (!verdict.allowed) {
      throw new GatewayError(429, "RateLimitError", localise("rateLimit", attempt.language), {
        metadata: {},
        retryAfterSec: 60,
      });
    }
    countRequest = verdict.count;
  }

  // 3. Authentication.
  let member: MemberAccount | null = null;
  if (attempt.key !== null) {
    member = accounts.memberForKey(attempt.key) ?? null;
    if (!member) throw new GatewayError(401, "AuthError", "Invalid API key.");
    // Flagged and blocked workspaces get the same answer from the gateway.
    if (member.workspace.config.blocked) throw new GatewayError(401, "AuthError", "Request blocked by upstream provider.");
  }
  if (!model.free && !member) throw new GatewayError(401, "AuthError", "Missing API key.");

  // 4. The model's own state and the workspace's settings for it.
  checkModelSettings(model, member, now);

  // 5. Billing: Go windows, Black windows or the balance.
  const billing: Billing = model.free || !member ? "free" : chooseBilling(deps, attempt, member);

  if (config.regionCheck === "after-billing") checkRegion(model, attempt.region);

  return { model, member, recordUsage: () => recordUsage(deps, attempt, member, billing), reachedProvider: countRequest };
}

function lookupModel(config: SimConfig, attempt: ChatAttempt): ModelEntry {
  const id = attempt.modelID ?? "(none)";
  const model = effectiveModels(config)[attempt.endpoint].find((m) => m.id === attempt.modelID);
  if (!model) throw new GatewayError(401, "ModelError", `Model ${id} not supported`);
  if (model.formats && !model.formats.includes(attempt.format)) {
    throw new GatewayError(401, "ModelError", `Model ${id} not supported for format ${attempt.format}`);
  }
  return model;
}

function checkRegion(model: ModelEntry, region: string): void {
  if (model.regions && !model.regions.includes(region)) {
    throw new GatewayError(403, "RegionError", `Model ${model.id} is not available in your region (${region}).`);
  }
}

function checkModelSettings(model: ModelEntry, member: MemberAccount | null, now: number): void {
  // The trial's wording is not known; the type and status are.
  if (model.trialEndsAt !== null && now >= Date.parse(model.trialEndsAt)) {
    throw new GatewayError(401, "ModelError", `Model ${model.id} trial has ended`);
  }
  if (!model.providerAvailable) throw new GatewayError(401, "ModelError", "No provider available");
  if (!member) return;
  const workspace = member.workspace.config;
  if (workspace.disabledModels.includes(model.id)) throw new GatewayError(401, "ModelError", "Model is disabled");
  if (workspace.modelAllowList !== null && !workspace.modelAllowList.includes(model.id)) {
    throw new GatewayError(403, "ModelAccessError", `Your workspace does not have access to model ${model.id}.`);
  }
  if (model.dataPolicyOptIn && !workspace.dataPolicyOptIn) {
    throw new GatewayError(
      403,
      "DataPolicyError",
      `Model ${model.id} requires accepting its provider's data policy. Manage it here: ${CONSOLE}/${workspace.id}/settings`,
    );
  }
}

/**
 * Which account pays for a paid request. On the Go endpoint a Go subscription pays until one of
 * its windows is spent (then the balance, if the member turned on "use balance"); a Black
 * subscription pays on either endpoint until one of its windows is spent (then the balance with
 * its useBalance); everyone else, a Go-endpoint key without Go included, pays from the balance.
 */
function chooseBilling(deps: GatewayDeps, attempt: ChatAttempt, member: MemberAccount): Billing {
  const now = deps.now.getTime();
  const workspaceID = member.workspace.config.id;
  if (attempt.endpoint === "go" && member.go) {
    const exhausted = member.go.firstExhausted(now);
    if (!exhausted) return "go";
    if (!member.config.go?.useBalance) {
      const retryAfterSec = secondsUntil(exhausted.resetsAt, now);
      const window = exhausted.name === "5 hour" ? "5-hour" : exhausted.name === "weekly" ? "Weekly" : "Monthly";
      throw new GatewayError(
        deps.config.goLimitStatus,
        "GoUsageLimitError",
        localise("goUsage", attempt.language, {
          window,
          resetsIn: formatDuration(retryAfterSec),
          goPage: `${CONSOLE}/${workspaceID}/go`,
        }),
        { metadata: { workspace: workspaceID, limitName: exhausted.name }, retryAfterSec },
      );
    }
  } else if (member.black) {
    const exhausted = member.black.firstExhausted(now);
    if (!exhausted) return "black";
    if (!member.config.black?.useBalance) {
      const retryAfterSec = secondsUntil(exhausted.resetsAt, now);
      const name = deps.config.blackLimitErrorName;
      throw new GatewayError(
        429,
        name,
        localise("blackUsage", attempt.language, { resetsIn: formatDuration(retryAfterSec) }),
        // The older name carried no metadata; the current one an empty object.
        { metadata: name === "BlackUsageLimitError" ? {} : undefined, retryAfterSec },
      );
    }
  }
  requireBalance(member, deps.now);
  return "balance";
}

function requireBalance(member: MemberAccount, now: Date): void {
  const workspace = member.workspace;
  const id = workspace.config.id;
  if (workspace.balanceUSD <= 0) {
    throw new GatewayError(401, "CreditsError", `Insufficient balance. Manage your billing here: ${CONSOLE}/${id}/billing`);
  }
  const monthlyLimit = workspace.config.monthlyLimitUSD;
  if (monthlyLimit !== null && currentMonthUSD(workspace.monthlyUsageUSD, workspace.timeMonthlyUsageUpdated, now) >= monthlyLimit) {
    throw new GatewayError(
      401,
      "MonthlyLimitError",
      `Your workspace has reached its monthly spending limit of $${monthlyLimit}. Manage your limits here: ${CONSOLE}/${id}/billing`,
    );
  }
  const memberLimit = member.config.spendLimitUSD;
  if (memberLimit !== null && currentMonthUSD(member.spentUSD, member.timeMonthlyUsageUpdated, now) >= memberLimit) {
    throw new GatewayError(
      401,
      "UserLimitError",
      `You have reached your monthly spending limit of $${memberLimit}. Manage your limits here: ${CONSOLE}/${id}/members`,
    );
  }
}

function recordUsage(deps: GatewayDeps, attempt: ChatAttempt, member: MemberAccount | null, billing: Billing): void {
  const now = deps.now;
  // The price is the model's, whoever pays: Go models cost goRequestCostUSD, Zen models requestCostUSD.
  const cost = attempt.endpoint === "go" ? deps.config.goRequestCostUSD : deps.config.requestCostUSD;
  switch (billing) {
    case "free":
      return; // counted by reachedProvider(), whatever the provider answered
    case "go":
      member?.go?.spend(now.getTime(), cost);
      return;
    case "black":
      member?.black?.spend(now.getTime(), cost);
      return;
    case "balance": {
      if (!member) return;
      // A month's usage starts again from this charge when the last one was in an earlier month.
      const workspace = member.workspace;
      workspace.balanceUSD -= cost;
      workspace.monthlyUsageUSD = currentMonthUSD(workspace.monthlyUsageUSD, workspace.timeMonthlyUsageUpdated, now) + cost;
      workspace.timeMonthlyUsageUpdated = now;
      member.spentUSD = currentMonthUSD(member.spentUSD, member.timeMonthlyUsageUpdated, now) + cost;
      member.timeMonthlyUsageUpdated = now;
      return;
    }
  }
}
