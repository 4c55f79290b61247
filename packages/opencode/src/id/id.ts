import { randomBytes } from "node:crypto"

const PREFIX = { session: "ses", message: "msg", request: "req" } as const
export type Kind = keyof typeof PREFIX

let lastTime = 0
let counter = 0

/**
 * Time-ordered ids in OpenCode's shape (`ses_…`, `msg_…`): 12 hex digits of milliseconds plus a
 * per-millisecond counter, then random base62, so ids sort by creation even within one millisecond.
 */
export function ascending(kind: Kind): string {
  const now = Date.now()
  if (now === lastTime) counter++
  else {
    lastTime = now
    counter = 0
  }
  const time = (BigInt(now) * 0x1000n + BigInt(counter & 0xfff)).toString(16).padStart(15, "0")
  return `${PREFIX[kind]}_${time}${random(14)}`
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
function random(length: number) {
  const bytes = randomBytes(length)
  let out = ""
  for (const byte of bytes) out += ALPHABET[byte % 62]
  return out
}
