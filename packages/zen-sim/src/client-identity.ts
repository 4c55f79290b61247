import { sha256Hex } from "./fingerprint.ts";
import { ipKey } from "./ip.ts";

/**
 * Who a request comes from, as the gateway sees it: the client address (from
 * the edge's `x-real-ip` when behind a trusted proxy), the bearer key, and the
 * country the edge reports.
 */

export type QuotaKeyMode = "ip" | "install";

export const INSTALL_HEADER = "x-pawwork-install";

/**
 * Behind a trusted edge only `x-real-ip` counts, and without it every request shares the bucket
 * `unknown`, as at the gateway; otherwise the socket address stands in for it (local use).
 */
export function clientIP(headers: Headers, socketAddress: string | null, trustProxy: boolean): string {
  return ipKey(trustProxy ? headers.get("x-real-ip") : socketAddress);
}

/** The bearer token, or null when there is none or it is the anonymous `public`. */
export function bearerKey(headers: Headers): string | null {
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "");
  const key = match?.[1];
  return key === undefined || key === "public" ? null : key;
}

/**
 * What the free-usage counter is keyed on; prefixed so an install token can never collide with an IP,
 * and hashed so the simulator's memory never holds the token itself.
 */
export function quotaIdentity(headers: Headers, ip: string, mode: QuotaKeyMode): string {
  const install = mode === "install" ? headers.get(INSTALL_HEADER)?.trim() : undefined;
  return install ? `install:${sha256Hex(install)}` : `ip:${ip}`;
}

// Only a trusted edge sets cf-ipcountry; from anyone else it would let a client pick its region.
export function requestRegion(headers: Headers, trustProxy: boolean, defaultRegion: string): string {
  const country = trustProxy ? headers.get("cf-ipcountry")?.trim().toUpperCase() : undefined;
  return country || defaultRegion;
}

export function isIdentifiedClient(headers: Headers, expectedValues: readonly string[]): boolean {
  const value = headers.get("x-opencode-client");
  return value !== null && expectedValues.includes(value);
}
