/**
 * Removal of known secrets (@pawwork/secrets) from a 64 KiB error body, the largest the classifier
 * reads, with an echo of each secret planted in it: with 1 secret and with 200, and the exact
 * split/join removal it replaced as the baseline. SecretSet hashes every 8-character window of every
 * secret once, so `secrets_200_vs_1_ratio` should stay near 1 (the cost follows the text, not the
 * number of secrets), where exact removal grows with the number of secrets. It only runs on a
 * failure, but a hostile gateway chooses the body.
 */
import { SecretSet } from "@pawwork/secrets"

const BODY_CHARS = 64 * 1024
const ROUNDS = 30

function secret(i: number) {
  return `sec${i}/PLANTED+${crypto.randomUUID().slice(0, 18)}`
}

function body(secrets: string[]) {
  const filler = "Error from provider (x): upstream said no. "
  const parts: string[] = []
  let length = 0
  for (let i = 0; length < BODY_CHARS; i++) {
    const piece = i % 8 === 0 ? encodeURIComponent(secrets[(i / 8) % secrets.length]!) : filler
    parts.push(piece)
    length += piece.length
  }
  return parts.join("").slice(0, BODY_CHARS)
}

function median(run: () => void) {
  for (let i = 0; i < 3; i++) run() // warm-up
  const times: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now()
    run()
    times.push(performance.now() - started)
  }
  return times.sort((a, b) => a - b)[ROUNDS >> 1]!
}

export async function bench(): Promise<Record<string, number>> {
  const one = [secret(0)]
  const many = Array.from({ length: 200 }, (_, i) => secret(i))
  const text = body(many)
  let sink = 0
  const single = SecretSet.of(one)
  const set = SecretSet.of(many)
  const oneMs = median(() => void (sink += single.remove(text).length))
  const manyMs = median(() => void (sink += set.remove(text).length))
  // What it replaced: one exact pass per secret, which finds neither encoded nor partial echoes.
  const exactMs = median(() => void (sink += many.reduce((out, s) => out.split(s).join("[redacted]"), text).length))
  if (sink === 0) throw new Error("bench: nothing was measured")
  return {
    secrets_64k_1_secret_ms: oneMs,
    secrets_64k_200_secrets_ms: manyMs,
    secrets_64k_200_exact_baseline_ms: exactMs,
    secrets_200_vs_1_ratio: manyMs / oneMs,
  }
}
