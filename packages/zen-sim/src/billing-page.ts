/**
 * The workspace billing page as the OpenCode console serves it: server-rendered
 * HTML whose data rides along in SolidStart hydration scripts, encoded the way
 * seroval writes JavaScript values (see billing-page-format.md). Parser tests
 * depend on these exact forms, so each form the real pages use is produced
 * somewhere: long-hand and short-hand resolver helpers, promise placeholders
 * settled in a later <script>, back-references across scripts, `!0`/`!1`,
 * `void 0`, `new Date(...)`, and an unrelated analytics script to skip.
 */

export type HydrationValue =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | Date
  | HydrationValue[]
  | Map<HydrationValue, HydrationValue>
  | Set<HydrationValue>
  | { [key: string]: HydrationValue };

/** Money as the console stores balances and usage: 1 USD = 100,000,000 micro-cents. */
export function usdToMicroCents(usd: number): number {
  return Math.round(usd * 100_000_000);
}

/** The cache key SolidStart gives a server query: its name followed by its JSON arguments. */
export function queryKey(name: string, ...args: unknown[]): string {
  return `${name}${JSON.stringify(args)}`;
}

// Slots the page's runtime keeps for its helpers: 2 creates a pending promise, 16 resolves one.
const CREATE_PROMISE_SLOT = 2;
const RESOLVE_PROMISE_SLOT = 16;
const FIRST_FREE_SLOT = 20;

/**
 * Writes values as seroval does: every object, array, date, map and set gets a
 * `$R[n]=` slot, and the slot numbers keep increasing across all scripts of a
 * page, so a later script can refer back to an earlier value.
 */
export class HydrationWriter {
  private nextSlot = FIRST_FREE_SLOT;
  private helpersDefined = { create: false, resolve: false };

  slot(): number {
    const n = this.nextSlot++;
    return n === CREATE_PROMISE_SLOT || n === RESOLVE_PROMISE_SLOT ? this.slot() : n;
  }

  value(v: HydrationValue): string {
    if (v === null) return "null";
    if (v === undefined) return "void 0";
    if (typeof v === "boolean") return v ? "!0" : "!1";
    if (typeof v === "number") return encodeNumber(v);
    if (typeof v === "bigint") return `${v}n`;
    if (typeof v === "string") return encodeString(v);
    const ref = `$R[${this.slot()}]=`;
    if (v instanceof Date) return `${ref}new Date(${encodeString(v.toISOString())})`;
    if (v instanceof Map) {
      return `${ref}new Map([${[...v].map(([k, val]) => `[${this.value(k)},${this.value(val)}]`).join(",")}])`;
    }
    if (v instanceof Set) return `${ref}new Set([${[...v].map((item) => this.value(item)).join(",")}])`;
    if (Array.isArray(v)) {
      // Holes stay holes (`[,1]`), as in a sparse array.
      const items = Array.from({ length: v.length }, (_, i) => (i in v ? this.value(v[i]) : ""));
      return `${ref}[${items.join(",")}${v.length > 0 && !(v.length - 1 in v) ? "," : ""}]`;
    }
    const entries = Object.entries(v).map(([k, val]) => `${encodeKey(k)}:${this.value(val)}`);
    return `${ref}{${entries.join(",")}}`;
  }

  /** `_$HY.r["<key>"]=<value>;` for a query whose result is known up front. */
  resolvedQuery(key: string, value: HydrationValue): string {
    return `_$HY.r[${encodeString(key)}]=${this.value(value)};`;
  }

  /**
   * `_$HY.r["<key>"]=$R[a]=$R[2]($R[b]={p:0,s:0,f:0});` for a query streamed
   * later. Returns the placeholder's slot, to settle with `settleQuery`.
   */
  pendingQuery(key: string): { script: string; placeholder: number } {
    const result = this.slot();
    const placeholder = this.slot();
    const script = `_$HY.r[${encodeString(key)}]=$R[${result}]=${this.createHelper()}($R[${placeholder}]={p:0,s:0,f:0});`;
    return { script, placeholder };
  }

  /** `$R[16]($R[b],<value>);`, which fulfils the placeholder of a pending query. */
  settleQuery(placeholder: number, value: HydrationValue): string {
    return `${this.resolveHelper()}($R[${placeholder}],${this.value(value)});`;
  }

  // The first use of a helper defines it inline (the long-hand form); later uses only name its slot.
  private createHelper(): string {
    if (this.helpersDefined.create) return `$R[${CREATE_PROMISE_SLOT}]`;
    this.helpersDefined.create = true;
    return `($R[${CREATE_PROMISE_SLOT}]=r=>(r.p=new Promise((s,f)=>{r.s=s,r.f=f})))`;
  }

  private resolveHelper(): string {
    if (this.helpersDefined.resolve) return `$R[${RESOLVE_PROMISE_SLOT}]`;
    this.helpersDefined.resolve = true;
    return `($R[${RESOLVE_PROMISE_SLOT}]=(r,d)=>{r.s(d),r.p.s=1,r.p.v=d})`;
  }
}

export interface BillingRecord {
  customerID: string | null;
  paymentMethodID: string | null;
  paymentMethodType: string | null;
  paymentMethodLast4: string | null;
  /** micro-cents */
  balance: number;
  reload: boolean;
  /** dollars */
  reloadAmount: number;
  reloadAmountMin: number;
  /** dollars */
  reloadTrigger: number;
  reloadTriggerMin: number;
  /** dollars, null = no limit */
  monthlyLimit: number | null;
  /** micro-cents */
  monthlyUsage: number;
  timeMonthlyUsageUpdated: Date | undefined;
  reloadError: string | undefined;
  timeReloadError: Date | undefined;
  subscription: { plan: string; useBalance: boolean } | null;
  subscriptionID: string | undefined;
  subscriptionPlan: string | undefined;
  lite: { plan: string; timeSubscribed: Date } | null;
  liteSubscriptionID: string | undefined;
}

export interface BlackUsageRecord {
  status: "ok" | "rate-limited";
  resetInSec: number;
  usagePercent: number;
}

export interface BlackSubscriptionRecord {
  plan: string;
  useBalance: boolean;
  rollingUsage: BlackUsageRecord;
  weeklyUsage: BlackUsageRecord;
}

export interface BillingPageInput {
  workspaceID: string;
  workspaceName: string;
  /** null when the viewer is not an admin: the page then has no billing section and no billing.get entry. */
  billing: BillingRecord | null;
  /** The Black subscription, shown to admins only. */
  blackSubscription: BlackSubscriptionRecord | null;
}

export function renderBillingPage(input: BillingPageInput): string {
  const writer = new HydrationWriter();
  const workspaceKey = queryKey("workspace.get", input.workspaceID);
  const firstScript = [`(self.$R=self.$R||{})["server-fn:0"]=[];`];
  firstScript.push(writer.resolvedQuery(workspaceKey, { id: input.workspaceID, name: input.workspaceName }));
  const billing = input.billing ? writer.pendingQuery(queryKey("billing.get", input.workspaceID)) : null;
  const black = input.billing && input.blackSubscription ? writer.pendingQuery(queryKey("subscription.get", input.workspaceID)) : null;
  if (billing) firstScript.push(billing.script);
  if (black) firstScript.push(black.script);

  // Streamed pages settle their queries near the end, after more markup has gone out.
  const laterScripts: string[] = [];
  if (billing && input.billing) laterScripts.push(writer.settleQuery(billing.placeholder, billingValue(input.billing)));
  if (black && input.blackSubscription) laterScripts.push(writer.settleQuery(black.placeholder, blackValue(input.blackSubscription)));

  const name = escapeHtml(input.workspaceName);
  const section = input.billing
    ? `<section data-component="billing-section"><h2>Billing</h2><!--$--><div data-slot="balance">Loading…</div><!--/--></section>`
    : "";
  return [
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">`,
    `<title>${name} · Billing · OpenCode</title>`,
    `<script>window._$HY||(e=>{let t=e=>e&&e.hasAttribute&&(e.hasAttribute("data-hk")?e:t(e.host&&e.host.nodeType?e.host:e.parentNode));["click","input"].forEach(o=>document.addEventListener(o,o=>{if(!e.events)return;let s=t(o.composedPath&&o.composedPath()[0]||o.target);s&&!e.completed.has(s)&&e.events.push([s,o])}))})(_$HY={events:[],completed:new WeakSet,r:{},fe(){}});</script>`,
    `<script async src="https://www.googletagmanager.com/gtag/js?id=G-ZENSIM0000"></script>`,
    `<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}gtag("js",new Date());gtag("config","G-ZENSIM0000",{page_path:"/workspace/billing"});</script>`,
    `</head><body><div id="app" data-hk="0"><main data-page="workspace-billing"><h1>${name}</h1>${section}</main></div>`,
    `<script>${firstScript.join("")}</script>`,
    `<footer data-component="footer"><a href="https://opencode.ai/docs">Docs</a></footer>`,
    ...laterScripts.map((s) => `<script>${s}</script>`),
    `<script type="module" src="/_build/assets/client-sim.js" async></script>`,
    `</body></html>`,
  ].join("\n");
}

export function renderNotFoundPage(): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Not Found · OpenCode</title></head><body><main><h1>404</h1><p>Page not found</p></main></body></html>`;
}

function billingValue(b: BillingRecord): HydrationValue {
  return {
    customerID: b.customerID,
    paymentMethodID: b.paymentMethodID,
    paymentMethodType: b.paymentMethodType,
    paymentMethodLast4: b.paymentMethodLast4,
    balance: b.balance,
    reload: b.reload,
    reloadAmount: b.reloadAmount,
    reloadAmountMin: b.reloadAmountMin,
    reloadTrigger: b.reloadTrigger,
    reloadTriggerMin: b.reloadTriggerMin,
    monthlyLimit: b.monthlyLimit,
    monthlyUsage: b.monthlyUsage,
    timeMonthlyUsageUpdated: b.timeMonthlyUsageUpdated,
    reloadError: b.reloadError,
    timeReloadError: b.timeReloadError,
    subscription: b.subscription,
    subscriptionID: b.subscriptionID,
    subscriptionPlan: b.subscriptionPlan,
    lite: b.lite,
    liteSubscriptionID: b.liteSubscriptionID,
  };
}

function blackValue(s: BlackSubscriptionRecord): HydrationValue {
  return { plan: s.plan, useBalance: s.useBalance, rollingUsage: { ...s.rollingUsage }, weeklyUsage: { ...s.weeklyUsage } };
}

function encodeNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  return Object.is(n, -0) ? "-0" : String(n);
}

// JSON string syntax is valid JavaScript; `<` is escaped so no value can close the <script> early.
function encodeString(s: string): string {
  return JSON.stringify(s).replace(/</g, "\\u003C").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

function encodeKey(key: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key) && key !== "__proto__") return key;
  if (/^(0|[1-9]\d*)$/.test(key)) return key;
  return encodeString(key);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
