import type { Accounts, MemberAccount } from "./accounts.ts";
import type { Endpoint, ModelEntry } from "./catalogue.ts";
import { effectiveModels, type SimConfig } from "./config.ts";
import { GatewayError, secondsUntil } from "./errors.ts";
import type { FreeQuota } from "./free-quota.ts";
import { enforceFreeTierGate } from "./free-tier-gate.ts";
import { enforceGoSessionGate } from "./go-session-gate.ts";
import { formatDuration, localise, type Language } from "./messages.ts";
import type { PaidRateLimiter } from "./rate-limit.ts";
import { sha256Hex } from "./fingerprint.ts";

/**
 * The gateway's admission pipeline for a chat request, in the order the real
 * gateway applies its checks (free quota, paid rate limit, auth and billing,
 * region, Go windows, Black windows). Everything here is synchronous, so
 * concurrent requests cannot interleave between a check and its charge.
 */

export interface ChatAttempt {
  endpoint: Endpoint;
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

export function admitChat(deps: GatewayDeps, attempt: ChatAttempt): Admission {
  const { config, accounts } = deps;
  const now = deps.now.getTime();
  // The catalogue has to be consulted first: which limiter applies depends on whether the model is free.
  const model = effectiveModels(config)[attempt.endpoint].find((m) => m.id === attempt.modelID);
  if (!model) throw new GatewayError(401, "ModelError", `Model ${attempt.modelID ?? "(none)"} is not supported`);

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

  // 3. Authentication, then billing.
  let member: MemberAccount | null = null;
  if (attempt.key !== null) {
    member = accounts.memberForKey(attempt.key) ?? null;
    if (!member) throw new GatewayError(401, "AuthError", "Invalid API key.");
    if (member.workspace.config.blocked) throw new GatewayError(401, "AuthError", "Workspace is blocked.");
  }
  let billing: Billing = "free";
  if (!model.free) {
    if (!member) throw new GatewayError(401, "AuthError", "Missing API key.");
    if (attempt.endpoint === "go") {
      // The research note does not say what the chat endpoint answers for a key without Go; an
      // authentication failure is what a client would treat the same way as an unusable key.
      if (!member.go) throw new GatewayError(401, "AuthError", "This API key has no OpenCode Go subscription.");
      billing = "go";
    } else if (member.black) {
      billing = "black"; // the subscription pays; its windows are checked in step 6
    } else {
      requireBalance(member);
      billing = "balance";
    }
  }

  // 4. Region allow-list.
  if (model.regions && !model.regions.includes(attempt.region)) {
    throw new GatewayError(403, "RegionError", `Model ${model.id} is not available in your region (${attempt.region}).`);
  }

  // 5. Go windows.
  if (billing === "go" && member?.go) {
    const exhausted = member.go.firstExhausted(now);
    if (exhausted) {
      const retryAfterSec = secondsUntil(exhausted.resetsAt, now);
      const window = exhausted.name === "5 hour" ? "5 hour" : exhausted.name === "weekly" ? "Weekly" : "Monthly";
      throw new GatewayError(
        config.goLimitStatus,
        "GoUsageLimitError",
        localise("goUsage", attempt.language, { window, resetsIn: formatDuration(retryAfterSec) }),
        { metadata: { workspace: member.workspace.config.id, limitName: exhausted.name }, retryAfterSec },
      );
    }
  }

  // 6. Black windows; with useBalance an exhausted subscription falls back to the balance.
  if (billing === "black" && member?.black) {
    const exhausted = member.black.firstExhausted(now);
    if (exhausted && member.config.black?.useBalance) {
      requireBalance(member);
      billing = "balance";
    } else if (exhausted) {
      const retryAfterSec = secondsUntil(exhausted.resetsAt, now);
      throw new GatewayError(
        429,
        "BlackUsageLimitError",
        localise("blackUsage", attempt.language, { window: exhausted.name, resetsIn: formatDuration(retryAfterSec) }),
        { metadata: {}, retryAfterSec },
      );
    }
  }

  return { model, member, recordUsage: () => recordUsage(deps, attempt, member, billing), reachedProvider: countRequest };
}

function requireBalance(member: MemberAccount): void {
  const workspace = member.workspace;
  const id = workspace.config.id;
  if (workspace.balanceUSD <= 0) {
    throw new GatewayError(
      401,
      "CreditsError",
      `Insufficient balance. Add credits at https://opencode.ai/workspace/${id}/billing`,
    );
  }
  const monthlyLimit = workspace.config.monthlyLimitUSD;
  if (monthlyLimit !== null && workspace.monthlyUsageUSD >= monthlyLimit) {
    throw new GatewayError(401, "MonthlyLimitError", `Workspace monthly spending limit of $${monthlyLimit} reached.`);
  }
  const memberLimit = member.config.spendLimitUSD;
  if (memberLimit !== null && member.spentUSD >= memberLimit) {
    throw new GatewayError(401, "UserLimitError", `Your spending limit of $${memberLimit} in this workspace is reached.`);
  }
}

function recordUsage(deps: GatewayDeps, attempt: ChatAttempt, member: MemberAccount | null, billing: Billing): void {
  const now = deps.now;
  const { requestCostUSD, goRequestCostUSD } = deps.config;
  switch (billing) {
    case "free":
      return; // counted by reachedProvider(), whatever the provider answered
    case "go":
      member?.go?.spend(now.getTime(), goRequestCostUSD);
      return;
    case "black":
      member?.black?.spend(now.getTime(), requestCostUSD);
      return;
    case "balance":
      if (!member) return;
      member.workspace.balanceUSD -= requestCostUSD;
      member.workspace.monthlyUsageUSD += requestCostUSD;
      member.workspace.timeMonthlyUsageUpdated = now;
      member.spentUSD += requestCostUSD;
      return;
  }
}
