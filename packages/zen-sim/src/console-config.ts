import { z } from "zod";

/**
 * Configuration of the new console (console-api.ts), kept apart from the gateway's: a workspace's
 * `console` object, a member's `consoleSession`, and the top-level switches. config.ts plugs these
 * into its one schema.
 */

const usd = z.number().finite().min(0);
const count = z.number().int().min(0);
const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "expected an ISO date-time");

/** The console's x-org-id check: `org_` ids, and legacy `wrk_` ids still accepted. */
export const ORG_ID = /^(?:org|wrk)_[A-Za-z0-9]+$/;

const usageEntrySchema = z.strictObject({
  at: isoTime,
  costUSD: usd.default(0),
  requests: count.default(1),
  inputTokens: count.default(0),
  outputTokens: count.default(0),
  cacheReadTokens: count.default(0),
  cacheWrite5mTokens: count.default(0),
  cacheWrite1hTokens: count.default(0),
});

export const workspaceConsoleSchema = z
  .strictObject({
    // The org id the console lists; without one, a `wrk_` workspace id is its own org id.
    orgID: z.string().regex(ORG_ID, "expected org_ or wrk_ followed by letters and digits").optional(),
    // The org requires SSO: cookie sessions get 403 SsoRequired (service-account keys do not).
    ssoRequired: z.boolean().default(false),
    // Service-account keys (oc_sk_...) that read this org's console API as Bearer, without a cookie.
    serviceAccountKeys: z.array(z.string().min(1)).default([]),
    billingMode: z.enum(["prepaid", "credit"]).default("prepaid"),
    mode: z.enum(["pay-as-you-go", "invoiceable"]).default("pay-as-you-go"),
    // What can be spent beyond the balance: availableMicroCents = balance + creditLimit.
    creditLimitUSD: usd.default(0),
    // The usage the summary reports (requests through the simulator are not added to it).
    usage: z.array(usageEntrySchema).default([]),
  })
  .default({ ssoRequired: false, serviceAccountKeys: [], billingMode: "prepaid", mode: "pay-as-you-go", creditLimitUSD: 0, usage: [] });

/** A member's `__Host-console_session` cookie value (the old `auth` cookie is `cookie`). */
export const consoleSessionSchema = z.string().min(1).nullable().default(null);

/**
 * "on": since 2026-09-20, /workspace/<id>[/billing] redirect to /console/login unless the workspace
 * has an active Black subscription; "off": the old dashboard for every workspace.
 */
export const dashboardMigrationSchema = z.enum(["on", "off"]).default("on");

/** How go/status says "no Go subscription": a `null` body, or a body with `access: null`. */
export const consoleNoGoBodySchema = z.enum(["null", "access-null"]).default("null");
