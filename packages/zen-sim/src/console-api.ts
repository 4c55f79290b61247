import type { MemberAccount, WorkspaceAccount } from "./accounts.ts";
import { usdToMicroCents } from "./billing-page.ts";
import { ORG_ID } from "./console-config.ts";
import { jsonResponse } from "./errors.ts";
import { monthsFrom } from "./spend-window.ts";
import type { SimState } from "./state.ts";

/**
 * The new console's JSON API (console-api-2026.md): `GET /console/api/orgs`, `orgs/current`,
 * `billing/status`, `go/status` and `usage/summary`, read with the console session cookie or a
 * service-account key as Bearer, scoped by `x-org-id`. Errors are `{"_tag", "message"}` bodies.
 * Where the research leaves a detail unconfirmed, the choice made here is in the README.
 */

export const CONSOLE_PREFIX = "/console";
export const CONSOLE_LOGIN = "/console/login";
const SESSION_COOKIES = ["__Host-console_session", "console_session"];
const HOUR_MS = 3_600_000;
const RANGES_MS: Record<string, number | null> = { "24h": 24 * HOUR_MS, "7d": 7 * 24 * HOUR_MS, "30d": 30 * 24 * HOUR_MS, all: null };

type Caller = { kind: "session"; memberships: MemberAccount[] } | { kind: "key"; workspace: WorkspaceAccount };

export function handleConsole(request: Request, path: string, state: SimState): Response | null {
  if (path === CONSOLE_LOGIN && request.method === "GET") {
    return new Response(`<!DOCTYPE html><html><head><title>Sign in · OpenCode Console</title></head><body><h1>Sign in</h1></body></html>`, {
      status: 200,
      headers: { "content-type": "text/html; charset=utf-8" },
    });
  }
  if (!path.startsWith(`${CONSOLE_PREFIX}/api/`)) return null;
  if (request.method !== "GET") return tagged(404, "NotFound", `No route for ${request.method} ${path}`);
  const caller = callerOf(request, state);
  if (!caller) return tagged(401, "Unauthorized", "Unauthorized");
  const rest = path.slice(`${CONSOLE_PREFIX}/api`.length);
  if (rest === "/orgs") return jsonResponse(listOrgs(caller).map(orgJson));

  const scoped = scope(request, caller, state);
  if (scoped instanceof Response) return scoped;
  const { workspace, member } = scoped;
  if (rest === "/orgs/current") return jsonResponse({ ...orgJson(workspace), hasGoSubscription: goMember(workspace) !== undefined });
  // The org's usage and billing are admin pages; a service-account key reads them for its org.
  if (member && member.config.role !== "admin") return tagged(403, "Forbidden", "Only org admins can view usage and billing.");
  const now = state.clock.now().getTime();
  if (rest === "/billing/status") return jsonResponse(billingStatus(workspace));
  if (rest === "/go/status") return goStatus(workspace, now, state);
  if (rest === "/usage/summary") return usageSummary(request, workspace, now);
  return tagged(404, "NotFound", `No route for GET ${path}`);
}

function tagged(status: number, tag: string, message: string): Response {
  return jsonResponse({ _tag: tag, message }, status);
}

function callerOf(request: Request, state: SimState): Caller | undefined {
  const bearer = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  if (bearer !== undefined) {
    const workspace = allWorkspaces(state).find((w) => w.config.console.serviceAccountKeys.includes(bearer));
    return workspace ? { kind: "key", workspace } : undefined;
  }
  const session = sessionCookie(request.headers.get("cookie"));
  if (session === undefined) return undefined;
  const memberships = allWorkspaces(state).flatMap((w) => w.members.filter((m) => m.config.consoleSession === session));
  return memberships.length > 0 ? { kind: "session", memberships } : undefined;
}

/** The console's session cookie; the old dashboard's `auth` cookie is not one (401). */
function sessionCookie(header: string | null): string | undefined {
  for (const pair of (header ?? "").split(";")) {
    const eq = pair.indexOf("=");
    if (eq !== -1 && SESSION_COOKIES.includes(pair.slice(0, eq).trim())) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

function allWorkspaces(state: SimState): WorkspaceAccount[] {
  return state.config.workspaces.map((w) => state.accounts.workspace(w.id)).filter((w): w is WorkspaceAccount => w !== undefined);
}

function listOrgs(caller: Caller): WorkspaceAccount[] {
  return caller.kind === "key" ? [caller.workspace] : caller.memberships.map((m) => m.workspace);
}

export function orgIDOf(workspace: WorkspaceAccount): string {
  return workspace.config.console.orgID ?? workspace.config.id;
}

function orgJson(workspace: WorkspaceAccount): { id: string; name: string } {
  return { id: orgIDOf(workspace), name: workspace.config.name ?? workspace.config.id };
}

/**
 * The org a read is for: `x-org-id`, or a key's own org without it. An org the caller does not
 * belong to is 404 NotFound, like one that does not exist, so ids cannot be probed.
 */
function scope(request: Request, caller: Caller, state: SimState): { workspace: WorkspaceAccount; member: MemberAccount | null } | Response {
  const orgID = request.headers.get("x-org-id");
  if (orgID === null || orgID === "") {
    if (caller.kind === "key") return { workspace: caller.workspace, member: null };
    return tagged(400, "OrgRequired", "x-org-id is required");
  }
  if (!ORG_ID.test(orgID)) return tagged(400, "OrgRequired", "x-org-id must be an org id (org_ or wrk_)");
  if (caller.kind === "key") {
    const own = caller.workspace;
    return orgID === orgIDOf(own) || orgID === own.config.id ? { workspace: own, member: null } : tagged(404, "NotFound", "Org not found");
  }
  const member = caller.memberships.find((m) => orgID === orgIDOf(m.workspace) || orgID === m.workspace.config.id);
  if (!member || !allWorkspaces(state).includes(member.workspace)) return tagged(404, "NotFound", "Org not found");
  if (member.workspace.config.console.ssoRequired) return tagged(403, "SsoRequired", "This organization requires single sign-on.");
  return { workspace: member.workspace, member };
}

function microCents(usd: number): string {
  return BigInt(usdToMicroCents(usd)).toString();
}

function billingStatus(workspace: WorkspaceAccount): object {
  const c = workspace.config.console;
  return {
    billingMode: c.billingMode,
    mode: c.mode,
    balanceMicroCents: microCents(workspace.balanceUSD),
    availableMicroCents: microCents(workspace.balanceUSD + c.creditLimitUSD),
  };
}

// Go is an org's subscription here: the first member holding one, as the billing page shows it.
function goMember(workspace: WorkspaceAccount): MemberAccount | undefined {
  return workspace.members.find((m) => m.go !== null);
}

function goStatus(workspace: WorkspaceAccount, now: number, state: SimState): Response {
  const member = goMember(workspace);
  if (!member?.go) return jsonResponse(state.config.consoleNoGoBody === "null" ? null : { subscriberUserID: null, product: null, renewalProduct: null, cancelAtPeriodEnd: false, access: null });
  const [fiveHour, week, month] = member.go.status(now);
  if (!fiveHour || !week || !month) return jsonResponse(null);
  // The subscription period is the monthly window's: it ends where the month meter resets.
  const period = monthsFrom(month.resetsAt).containing(now);
  const meter = (w: typeof fiveHour) => ({ limitMicroCents: microCents(w.limitUSD), usedMicroCents: microCents(w.spentUSD) });
  return jsonResponse({
    subscriberUserID: member.config.userID,
    product: "go",
    renewalProduct: "go",
    cancelAtPeriodEnd: false,
    access: {
      startsAt: new Date(period.start).toISOString(),
      endsAt: new Date(period.end).toISOString(),
      cancelAtPeriodEnd: false,
      meters: {
        // The 5-hour block exists only once something was spent in it.
        fiveHour: fiveHour.spentUSD > 0
          ? { startsAt: new Date(fiveHour.resetsAt - 5 * HOUR_MS).toISOString(), resetsAt: new Date(fiveHour.resetsAt).toISOString(), ...meter(fiveHour) }
          : meter(fiveHour),
        week: { startsAt: new Date(week.resetsAt - 7 * 24 * HOUR_MS).toISOString(), resetsAt: new Date(week.resetsAt).toISOString(), ...meter(week) },
        // No resetsAt: the month ends with the subscription period (access.endsAt).
        month: meter(month),
      },
    },
  });
}

function usageSummary(request: Request, workspace: WorkspaceAccount, now: number): Response {
  const range = new URL(request.url).searchParams.get("range") ?? "all";
  if (!(range in RANGES_MS)) return tagged(400, "BadRequest", `range must be one of ${Object.keys(RANGES_MS).join(", ")}`);
  const span = RANGES_MS[range] ?? null;
  const entries = workspace.config.console.usage.filter((e) => {
    const at = Date.parse(e.at);
    return at <= now && (span === null || at > now - span);
  });
  const sum = (f: (e: (typeof entries)[number]) => number) => entries.reduce((n, e) => n + f(e), 0);
  return jsonResponse({
    totalRequests: sum((e) => e.requests),
    totalInputTokens: sum((e) => e.inputTokens),
    totalOutputTokens: sum((e) => e.outputTokens),
    totalCacheReadTokens: sum((e) => e.cacheReadTokens),
    totalCacheWrite5mTokens: sum((e) => e.cacheWrite5mTokens),
    totalCacheWrite1hTokens: sum((e) => e.cacheWrite1hTokens),
    totalCostMicroCents: entries.reduce((n, e) => n + BigInt(usdToMicroCents(e.costUSD)), 0n).toString(),
  });
}

/**
 * Since 2026-09-20 the old dashboard's workspace pages send everyone to the console's sign-in,
 * session or not, unless the workspace has an active Black subscription (302 for GET, 303 else).
 */
export function legacyDashboardRedirect(request: Request, path: string, state: SimState): Response | null {
  if (state.config.dashboardMigration === "off") return null;
  const id = /^\/workspace\/([^/]+)(?:\/billing)?\/?$/.exec(path)?.[1];
  if (id === undefined) return null;
  const workspace = state.accounts.workspace(id);
  if (workspace?.members.some((m) => m.config.black !== null)) return null;
  return new Response(null, { status: request.method === "GET" ? 302 : 303, headers: { location: CONSOLE_LOGIN } });
}
