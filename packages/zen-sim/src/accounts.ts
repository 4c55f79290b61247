import type { MemberConfig, WorkspaceConfig } from "./config.ts";
import { sha256Hex } from "./fingerprint.ts";
import { calendarWeek, fiveHours, monthsFrom, SpendWindow, SubscriptionWindows } from "./spend-window.ts";

/**
 * The mutable side of the configured workspaces: balances and spend move as
 * requests are charged, while the configuration they started from is kept so
 * a reset can restore it. Keys are indexed by hash so no lookup structure
 * holds a raw key.
 */

export type GoWindowName = "5 hour" | "weekly" | "monthly";
export type BlackWindowName = "rolling" | "weekly";

// The order the gateway checks the windows in: with several spent, the first of these is reported.
export const GO_CHECK_ORDER: readonly GoWindowName[] = ["weekly", "monthly", "5 hour"];
export const BLACK_CHECK_ORDER: readonly BlackWindowName[] = ["weekly", "rolling"];

export const DEFAULT_GO_LIMITS_USD: Record<GoWindowName, number> = { "5 hour": 12, weekly: 30, monthly: 60 };

// Invented figures scaled to the plan price; the real limits are not public.
export const DEFAULT_BLACK_LIMITS_USD: Record<"20" | "100" | "200", Record<BlackWindowName, number>> = {
  "20": { rolling: 5, weekly: 25 },
  "100": { rolling: 25, weekly: 125 },
  "200": { rolling: 50, weekly: 250 },
};

export interface WorkspaceAccount {
  config: WorkspaceConfig;
  balanceUSD: number;
  monthlyUsageUSD: number;
  timeMonthlyUsageUpdated: Date;
  members: MemberAccount[];
}

export interface MemberAccount {
  config: MemberConfig;
  workspace: WorkspaceAccount;
  /** The member's spend in the month of `timeMonthlyUsageUpdated` (the per-member limit counts the current UTC month). */
  spentUSD: number;
  timeMonthlyUsageUpdated: Date;
  go: SubscriptionWindows<GoWindowName> | null;
  black: SubscriptionWindows<BlackWindowName> | null;
}

export interface SessionAccount {
  userID: string;
  memberships: MemberAccount[];
  lastWorkspaceID: string;
}

export class Accounts {
  private readonly byKeyHash = new Map<string, MemberAccount>();
  private readonly byCookieHash = new Map<string, SessionAccount>();
  private readonly workspaces = new Map<string, WorkspaceAccount>();

  constructor(configs: WorkspaceConfig[], now: Date) {
    for (const config of configs) {
      const workspace: WorkspaceAccount = {
        config,
        balanceUSD: config.balanceUSD,
        monthlyUsageUSD: config.monthlyUsageUSD,
        timeMonthlyUsageUpdated: now,
        members: [],
      };
      this.workspaces.set(config.id, workspace);
      for (const memberConfig of config.members) {
        const member = createMember(memberConfig, workspace, now);
        workspace.members.push(member);
        for (const key of memberConfig.keys) this.byKeyHash.set(sha256Hex(key), member);
        if (memberConfig.cookie !== null) this.addSession(sha256Hex(memberConfig.cookie), member);
      }
    }
  }

  memberForKey(key: string): MemberAccount | undefined {
    return this.byKeyHash.get(sha256Hex(key));
  }

  sessionForCookie(cookie: string): SessionAccount | undefined {
    return this.byCookieHash.get(sha256Hex(cookie));
  }

  workspace(id: string): WorkspaceAccount | undefined {
    return this.workspaces.get(id);
  }

  private addSession(cookieHash: string, member: MemberAccount): void {
    const session = this.byCookieHash.get(cookieHash);
    if (session) session.memberships.push(member);
    else {
      this.byCookieHash.set(cookieHash, {
        userID: member.config.userID,
        memberships: [member],
        lastWorkspaceID: member.workspace.config.id,
      });
    }
  }
}

function createMember(config: MemberConfig, workspace: WorkspaceAccount, now: Date): MemberAccount {
  return {
    config,
    workspace,
    spentUSD: config.spentUSD,
    timeMonthlyUsageUpdated: now,
    go: config.go ? goWindows(config.go, now) : null,
    black: config.black ? blackWindows(config.black) : null,
  };
}

function goWindows(go: NonNullable<MemberConfig["go"]>, now: Date): SubscriptionWindows<GoWindowName> {
  const limit = (name: GoWindowName) => go.limits[name] ?? DEFAULT_GO_LIMITS_USD[name];
  const anchor = go.subscribedAt ? Date.parse(go.subscribedAt) : now.getTime();
  return new SubscriptionWindows<GoWindowName>([
    { name: "5 hour", limitUSD: limit("5 hour"), window: new SpendWindow(fiveHours) },
    { name: "weekly", limitUSD: limit("weekly"), window: new SpendWindow(calendarWeek) },
    { name: "monthly", limitUSD: limit("monthly"), window: new SpendWindow(monthsFrom(anchor)) },
  ], GO_CHECK_ORDER);
}

function blackWindows(black: NonNullable<MemberConfig["black"]>): SubscriptionWindows<BlackWindowName> {
  const defaults = DEFAULT_BLACK_LIMITS_USD[black.plan];
  return new SubscriptionWindows<BlackWindowName>([
    { name: "rolling", limitUSD: black.limits.rolling ?? defaults.rolling, window: new SpendWindow(fiveHours) },
    { name: "weekly", limitUSD: black.limits.weekly ?? defaults.weekly, window: new SpendWindow(calendarWeek) },
  ], BLACK_CHECK_ORDER);
}

/**
 * A monthly figure as the gateway reads it: stored with the time it was last updated, and
 * counted only while that time is in the current UTC calendar month.
 */
export function currentMonthUSD(usageUSD: number, updated: Date, now: Date): number {
  const sameMonth = updated.getUTCFullYear() === now.getUTCFullYear() && updated.getUTCMonth() === now.getUTCMonth();
  return sameMonth ? usageUSD : 0;
}
