import { expect, test } from "bun:test"
import { SessionDeadline } from "../src/session"

// The watch on its own, with deadlines of tens of milliseconds: which deadline a silence is charged
// to. What is asserted is which one ran out, never when.

const settle = (watch: SessionDeadline.Watch) =>
  new Promise<void>((resolve) => (watch.signal.aborted ? resolve() : watch.signal.addEventListener("abort", () => resolve(), { once: true })))
const timeouts = (t: Partial<SessionDeadline.Timeouts>) => ({ ...SessionDeadline.DEFAULTS, ...t })

test("no answer: first_byte, even when responseMs is the shorter deadline", async () => {
  const watch = new SessionDeadline.Watch(timeouts({ firstByteMs: 60_000, responseMs: 30 }))
  await settle(watch)
  expect(watch.expired?.deadline).toBe("first_byte")
  expect(watch.expired?.ms).toBe(30)
})

test("an answer then silence: stream_idle, even when the first-byte deadline was further off", async () => {
  const watch = new SessionDeadline.Watch(timeouts({ firstByteMs: 60_000, streamIdleMs: 30 }))
  watch.answer()
  await settle(watch)
  expect(watch.expired?.deadline).toBe("stream_idle")
})

test("steady progress: only the response deadline ends it", async () => {
  const watch = new SessionDeadline.Watch(timeouts({ streamIdleMs: 40, responseMs: 120 }))
  watch.answer()
  const ticking = setInterval(() => watch.progress(), 5)
  await settle(watch)
  clearInterval(ticking)
  expect(watch.expired?.deadline).toBe("response")
})

test("a stopped watch never fires", async () => {
  const watch = new SessionDeadline.Watch(timeouts({ firstByteMs: 10 }))
  watch.stop()
  await Bun.sleep(30)
  expect(watch.expired).toBeUndefined()
  expect(watch.signal.aborted).toBe(false)
})

test("watches share one timer: a shorter deadline started later still runs out, and so do the others after it", async () => {
  const long = new SessionDeadline.Watch(timeouts({ firstByteMs: 60_000 }))
  const short = new SessionDeadline.Watch(timeouts({ firstByteMs: 20 }))
  const later = new SessionDeadline.Watch(timeouts({ firstByteMs: 40 }))
  await settle(short)
  expect(short.expired?.deadline).toBe("first_byte")
  await settle(later)
  expect(later.expired?.deadline).toBe("first_byte")
  expect(long.expired).toBeUndefined()
  long.stop()
})
