/**
 * Secrets (API keys, session cookies) are only ever shown or stored as a short
 * hash, so logs and captured requests can be shared without leaking them yet
 * still tell two credentials apart.
 */
export function fingerprint(secret: string): string {
  return `fp:${sha256Hex(secret).slice(0, 8)}`;
}

export function sha256Hex(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}
