import { createHash } from "node:crypto"

/**
 * A short, stable, one-way tag for a secret (API key, install token, cookie), safe to print and log:
 * enough to tell two credentials apart in a support report, useless for recovering the secret.
 */
export function fingerprint(secret: string): string {
  return "fp_" + createHash("sha256").update(secret).digest("hex").slice(0, 12)
}
