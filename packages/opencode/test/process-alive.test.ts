import { expect, test } from "bun:test"
import { processAlive } from "../src/util/process-alive"

test("this process and a running child are alive; an exited one is not", async () => {
  expect(processAlive(process.pid)).toBe(true)
  const child = Bun.spawn(["sleep", "30"])
  try {
    expect(processAlive(child.pid)).toBe(true)
  } finally {
    child.kill()
    await child.exited
  }
  expect(processAlive(child.pid)).toBe(false)
})

test("a pid that cannot be one is never alive (no signal sent to a group or to every process)", () => {
  for (const pid of [0, -1, Number.NaN, 1.5, 2 ** 53]) expect(processAlive(pid)).toBe(false)
})
