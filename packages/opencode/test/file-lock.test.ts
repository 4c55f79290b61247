import { afterEach, beforeEach, expect, test } from "bun:test"
import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { withLock, LockTimeoutError } from "../src/util/file-lock"

let dir: string
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-lock-"))
})
afterEach(() => fs.rm(dir, { recursive: true, force: true }))

async function oldLock(file: string, pid: number, ageMs: number) {
  await fs.writeFile(file, `${pid} ${new Date().toISOString()}\n`)
  const when = new Date(Date.now() - ageMs)
  await fs.utimes(file, when, when)
}

test("an old lock whose owner is gone is broken", async () => {
  const lock = path.join(dir, "a.lock")
  // A pid from a process that has exited.
  const done = Bun.spawn(["true"])
  await done.exited
  await oldLock(lock, done.pid, 60_000)
  expect(await withLock(lock, async () => "ran")).toBe("ran")
  await expect(fs.stat(lock)).rejects.toThrow()
})

test("an old lock whose owner still runs is kept: the waiter times out instead of breaking it", async () => {
  const lock = path.join(dir, "b.lock")
  const owner = Bun.spawn(["sleep", "30"])
  try {
    await oldLock(lock, owner.pid, 60_000)
    await expect(withLock(lock, async () => "ran", { waitMs: 300 })).rejects.toBeInstanceOf(LockTimeoutError)
    expect(await fs.readFile(lock, "utf8")).toStartWith(`${owner.pid} `)
  } finally {
    owner.kill()
  }
}, 30_000)

test("an abandoned lock is broken whatever its pid says", async () => {
  const lock = path.join(dir, "c.lock")
  await oldLock(lock, process.pid, 10 * 60_000)
  expect(await withLock(lock, async () => "ran")).toBe("ran")
})

test("a FIFO at the lock's path: the waiter times out instead of blocking on it", async () => {
  const lock = path.join(dir, "fifo.lock")
  expect(Bun.spawnSync(["mkfifo", lock]).exitCode).toBe(0)
  await expect(withLock(lock, async () => "ran", { waitMs: 50 })).rejects.toBeInstanceOf(LockTimeoutError)
  expect((await fs.lstat(lock)).isFIFO()).toBe(true)
})
