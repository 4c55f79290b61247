import { createHash } from "node:crypto"

/**
 * The same one-way tag the runtime prints for a secret (`fp_` + 12 hex of its SHA-256): logs,
 * metrics and Redis keys carry it, never an install token or an address itself.
 */
export function fingerprint(secret: string): string {
  return "fp_" + createHash("sha256").update(secret).digest("hex").slice(0, 12)
}
