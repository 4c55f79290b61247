import type { MemberAccount, SessionAccount, WorkspaceAccount } from "./accounts.ts";
import {
  renderBillingPage,
  renderNotFoundPage,
  usdToMicroCents,
  type BillingRecord,
  type BlackSubscriptionRecord,
} from "./billing-page.ts";
import { legacyDashboardRedirect } from "./console-api.ts";
import { secondsUntil } from "./errors.ts";
import type { SimState } from "./state.ts";

/**
 * The console's cookie-authenticated pages: `/`, `/workspace`,
 * `/workspace/<id>` and `/workspace/<id>/billing`. A missing or unknown
 * session goes to `/auth/authorize`, like the real dashboard.
 */

const SIGN_IN = "/auth/authorize";

export function handleDashboard(request: Request, path: string, state: SimState): Response | null {
  const moved = legacyDashboardRedirect(request, path, state);
  if (moved) return moved;
  if (request.method !== "GET") return null;
  if (path === SIGN_IN) return html(200, `<!DOCTYPE html><html><head><title>Sign in · OpenCode</title></head><body><h1>Sign in</h1></body></html>`);
  const match = /^\/workspace(?:\/([^/]+)(\/billing)?)?\/?$/.exec(path);
  if (path !== "/" && !match) return null;

  const session = sessionFromCookie(request.headers.get("cookie"), state);
  if (!session) return redirect(SIGN_IN);
  const workspaceID = match?.[1];
  if (workspaceID === undefined) return redirect(`/workspace/${session.lastWorkspaceID}`);

  const workspace = state.accounts.workspace(workspaceID);
  if (!workspace) return html(404, renderNotFoundPage());
  const member = session.memberships.find((m) => m.workspace === workspace);
  // Signed in, but not for this workspace: the console sends the browser to sign in again.
  if (!member) return redirect(SIGN_IN);
  session.lastWorkspaceID = workspace.config.id;

  const isAdmin = member.config.role === "admin";
  const now = state.clock.now().getTime();
  return html(
    200,
    renderBillingPage({
      workspaceID: workspace.config.id,
      workspaceName: workspace.config.name ?? workspace.config.id,
      billing: isAdmin ? billingRecord(workspace) : null,
      blackSubscription: isAdmin ? blackSubscription(workspace, now) : null,
    }),
  );
}

function sessionFromCookie(header: string | null, state: SimState): SessionAccount | undefined {
  for (const pair of (header ?? "").split(";")) {
    const eq = pair.indexOf("=");
    if (eq !== -1 && pair.slice(0, eq).trim() === "auth") return state.accounts.sessionForCookie(pair.slice(eq + 1).trim());
  }
  return undefined;
}

function billingRecord(workspace: WorkspaceAccount): BillingRecord {
  const config = workspace.config;
  const black = blackMember(workspace)?.config.black ?? null;
  const go = workspace.members.find((m) => m.config.go !== null)?.config.go ?? null;
  const id = config.id;
  return {
    customerID: config.customerID,
    paymentMethodID: config.paymentMethod ? `pm_sim_${id}` : null,
    paymentMethodType: config.paymentMethod?.type ?? null,
    paymentMethodLast4: config.paymentMethod?.last4 ?? null,
    balance: usdToMicroCents(workspace.balanceUSD),
    reload: config.reload.enabled,
    reloadAmount: config.reload.amountUSD,
    reloadAmountMin: 10,
    reloadTrigger: config.reload.triggerUSD,
    reloadTriggerMin: 5,
    monthlyLimit: config.monthlyLimitUSD,
    monthlyUsage: usdToMicroCents(workspace.monthlyUsageUSD),
    timeMonthlyUsageUpdated: workspace.timeMonthlyUsageUpdated,
    reloadError: config.reload.error ?? undefined,
    timeReloadError: config.reload.errorAt ? new Date(config.reload.errorAt) : undefined,
    subscription: black ? { plan: black.plan, useBalance: black.useBalance } : null,
    subscriptionID: black ? `sub_sim_${id}` : undefined,
    subscriptionPlan: black?.plan,
    lite: go ? { plan: "go", timeSubscribed: new Date(go.subscribedAt ?? workspace.timeMonthlyUsageUpdated) } : null,
    liteSubscriptionID: go ? `sub_go_sim_${id}` : undefined,
  };
}

// The page shows one Black subscription per workspace: the first member that has one.
function blackMember(workspace: WorkspaceAccount): MemberAccount | undefined {
  return workspace.members.find((m) => m.config.black !== null);
}

function blackSubscription(workspace: WorkspaceAccount, now: number): BlackSubscriptionRecord | null {
  const member = blackMember(workspace);
  if (!member?.black || !member.config.black) return null;
  const [rolling, weekly] = member.black.status(now);
  if (!rolling || !weekly) return null;
  const usage = (w: typeof rolling) => ({
    status: w.exhausted ? ("rate-limited" as const) : ("ok" as const),
    resetInSec: secondsUntil(w.resetsAt, now),
    usagePercent: w.percent,
  });
  return {
    plan: member.config.black.plan,
    useBalance: member.config.black.useBalance,
    rollingUsage: usage(rolling),
    weeklyUsage: usage(weekly),
  };
}

function html(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}

function redirect(location: string): Response {
  return new Response(null, { status: 302, headers: { location } });
}
