import { INSTALL_HEADER } from "./client-identity.ts";
import { fingerprint } from "./fingerprint.ts";

/**
 * The log of requests the simulator received, for tests to inspect what a
 * client really sent. Credentials are reduced to fingerprints before they are
 * stored, and the log is bounded so long demo runs do not grow without limit.
 */

export interface CapturedRequest {
  time: string;
  method: string;
  path: string;
  clientIP: string;
  headers: Record<string, string>;
  status?: number;
}

export const DEFAULT_CAPTURE_LIMIT = 10_000;

// Headers whose value is "<scheme> <credential>".
const SCHEMED_CREDENTIALS = new Set(["authorization", "proxy-authorization"]);
// Headers whose whole value is secret; the install token identifies a person's machine, so it is treated as one.
const OPAQUE_CREDENTIALS = new Set(["cookie", "x-api-key", INSTALL_HEADER]);

export class RequestLog {
  private entries: CapturedRequest[] = [];

  constructor(private readonly limit = DEFAULT_CAPTURE_LIMIT) {}

  /** Stores the request and returns its entry so the status can be filled in once known. */
  record(request: Request, path: string, clientIP: string, time: Date): CapturedRequest {
    const entry: CapturedRequest = {
      time: time.toISOString(),
      method: request.method,
      path,
      clientIP,
      headers: redactHeaders(request.headers),
    };
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.shift();
    return entry;
  }

  list(): CapturedRequest[] {
    return this.entries.map((e) => ({ ...e, headers: { ...e.headers } }));
  }

  clear(): void {
    this.entries = [];
  }
}

export function redactHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, rawName) => {
    const name = rawName.toLowerCase();
    if (SCHEMED_CREDENTIALS.has(name)) out[name] = redactSchemedCredential(value);
    else if (OPAQUE_CREDENTIALS.has(name)) out[name] = fingerprint(value);
    else out[name] = value;
  });
  return out;
}

function redactSchemedCredential(value: string): string {
  const match = /^\s*(\S+)\s+(.*\S)\s*$/.exec(value);
  return match ? `${match[1]} ${fingerprint(match[2] ?? "")}` : fingerprint(value.trim());
}
