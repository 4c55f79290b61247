import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { leakedFragments } from "../../opencode/test/fixture/leaks"
import { chat, harness, installToken, type Harness } from "./helpers"

/**
 * `bun run relay` as a user runs it: the example config with flags over it, the key from the
 * environment; then `cli probe --relay` against it, both real processes.
 */

setDefaultTimeout(30_000)

const ROOT = join(import.meta.dir, "..", "..", "..")
const MAIN = join(ROOT, "packages", "relay", "src", "main.ts")
const CLI = join(ROOT, "packages", "opencode", "src", "cli", "index.ts")
const EXAMPLE = join(ROOT, "packages", "relay", "relay.example.json")

let h: Harness
let dir: string
beforeAll(async () => {
  h = await harness({ now: Date.now }) // the spawned relays run on the real clock
  dir = await mkdtemp(join(tmpdir(), "relay-cli-"))
})
afterAll(async () => {
  await h.stop()
  await rm(dir, { recursive: true, force: true })
})

function collect(stream: ReadableStream<Uint8Array>) {
  let text = ""
  const decoder = new TextDecoder()
  const ended = (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true })
  })()
  return { text: () => text, ended }
}

async function listening(out: ReturnType<typeof collect>): Promise<string> {
  let closed = false
  void out.ended.then(() => (closed = true))
  for (let i = 0; i < 1000; i++) {
    const match = /^pawwork relay listening on (http:\/\/\S+)$/m.exec(out.text())
    if (match?.[1]) return match[1]
    if (closed) throw new Error(`relay exited before listening: ${out.text()}`)
    await Bun.sleep(10)
  }
  throw new Error("relay did not start")
}

const env = (extra: Record<string, string>) => ({ PATH: process.env.PATH ?? "", HOME: dir, ...extra })

describe("bun run relay", () => {
  test("the example config with flags over it serves two installs on one machine their own allowances (cli probe --relay)", async () => {
    const relay = Bun.spawn(
      ["bun", MAIN, "--config", EXAMPLE, "--port", "0", "--redis-url", h.redis.url, "--upstream-base-url", h.sim.zenBaseURL, "--upstream-key-env", "MY_RELAY_KEY", "--install-daily-requests", "2"],
      { env: env({ MY_RELAY_KEY: h.key }), stdout: "pipe", stderr: "pipe" },
    )
    const out = collect(relay.stdout)
    const err = collect(relay.stderr)
    try {
      const url = await listening(out)
      expect(out.text()).toContain("2 requests per install")
      const probe = Bun.spawn(["bun", CLI, "probe", "--relay", `${url}/v1`, "--max-requests", "10", "--json"], {
        env: env({ XDG_DATA_HOME: join(dir, "data"), XDG_CONFIG_HOME: join(dir, "config") }),
        stdout: "pipe",
        stderr: "pipe",
      })
      const [stdout, code] = await Promise.all([new Response(probe.stdout).text(), probe.exited])
      expect(code).toBe(0)
      const report = JSON.parse(stdout) as { verdict: string; installs: { succeeded: number; quotaScope: string | null }[] }
      expect(report.verdict).toBe("separate")
      expect(report.installs.map((i) => i.succeeded)).toEqual([2, 1])
    } finally {
      relay.kill("SIGTERM")
      expect(await relay.exited).toBe(0)
      await Promise.all([out.ended, err.ended])
    }
    expect(leakedFragments(out.text() + err.text(), { key: h.key })).toEqual([])
    expect(err.text()).toContain('"event":"relay.request"')
  })

  test("a relay killed mid-stream loses nothing it had counted", async () => {
    const file = join(dir, "kill.json")
    await writeFile(file, JSON.stringify({ port: 0, upstream: { baseURL: h.sim.zenBaseURL, keyEnv: "K" }, models: ["big-pickle"], limits: { installDailyRequests: 5 } }))
    const relay = Bun.spawn(["bun", MAIN, "--config", file, "--redis-url", h.redis.url], { env: env({ K: h.key }), stdout: "pipe", stderr: "ignore" })
    const out = collect(relay.stdout)
    const url = await listening(out)
    const install = installToken()
    h.sim.configure({ faults: [{ status: 200, stall: "keep-alive", intervalMs: 20, count: 1 }] })
    const open = await chat(url, { install, stream: true })
    expect(open.status).toBe(200)
    const reader = open.body!.getReader()
    await reader.read()
    relay.kill("SIGKILL")
    await relay.exited
    await reader.cancel().catch(() => {})
    h.sim.configure({ faults: [] })
    // Another instance on the same Redis sees the request counted, its slot still held until it expires.
    const other = await h.start({ limits: { installDailyRequests: 5 } })
    const usage = (await (await fetch(`${other.url}/v1/usage`, { headers: { "x-pawwork-install": install } })).json()) as { requests: { used: number }; concurrent: { used: number } }
    expect(usage.requests.used).toBe(1)
    expect(usage.concurrent.used).toBe(1)
  })

  test("the Redis URL's password is never printed, even one holding an '@'", async () => {
    const password = `${crypto.randomUUID().slice(0, 8)}@${crypto.randomUUID().replaceAll("-", "")}`
    // Nothing listens on port 1: the relay starts with Redis down, which is all this needs.
    const relay = Bun.spawn(["bun", MAIN, "--config", EXAMPLE, "--port", "0", "--redis-url", `redis://default:${password}@127.0.0.1:1`], {
      env: env({ PAWWORK_RELAY_UPSTREAM_KEY: "sk-unused" }),
      stdout: "pipe",
      stderr: "pipe",
    })
    const out = collect(relay.stdout)
    const err = collect(relay.stderr)
    try {
      await listening(out)
      expect(out.text()).toContain("redis redis://…@127.0.0.1:1 ")
    } finally {
      relay.kill()
      await relay.exited
    }
    await Promise.all([out.ended, err.ended])
    expect(leakedFragments(`${out.text()}\n${err.text()}`, { password, encoded: encodeURIComponent(password) })).toEqual([])
  })

  test("a missing key, a bad flag and a bad config are refused with what to do, exit 2", async () => {
    const run = async (args: string[], extra: Record<string, string> = {}) => {
      const p = Bun.spawn(["bun", MAIN, ...args], { env: env(extra), stdout: "pipe", stderr: "pipe" })
      const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited])
      return { stderr, code }
    }
    const noKey = await run(["--config", EXAMPLE, "--redis-url", h.redis.url, "--port", "0"])
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toContain("set the environment variable PAWWORK_RELAY_UPSTREAM_KEY")
    // A key with a line break inside is refused at the start, not counted and failed on every request; the key is not echoed.
    const brokenKey = `sk-${crypto.randomUUID()}\n${crypto.randomUUID()}`
    const broken = await run(["--config", EXAMPLE, "--redis-url", h.redis.url, "--port", "0"], { PAWWORK_RELAY_UPSTREAM_KEY: brokenKey })
    expect(broken.code).toBe(2)
    expect(broken.stderr).toContain("The upstream key in PAWWORK_RELAY_UPSTREAM_KEY has a space, control or non-ASCII character inside")
    expect(leakedFragments(broken.stderr, { brokenKey })).toEqual([])
    const badFlag = await run(["--config", EXAMPLE, "--install-daily-requests", "lots"])
    expect(badFlag.code).toBe(2)
    expect(badFlag.stderr).toContain("--install-daily-requests takes a whole number")
    const file = join(dir, "bad.json")
    await writeFile(file, JSON.stringify({ upstream: { baseURL: "https://user:pw@example.com/zen/v1", keyEnv: "K" }, models: ["big-pickle"], limits: { installDailyRequests: -1 } }))
    const bad = await run(["--config", file])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("upstream.baseURL: must not carry credentials")
    expect(bad.stderr).toContain("limits.installDailyRequests")
    expect(bad.stderr).not.toContain("pw@")
    const missing = await run(["--config", join(dir, "nope.json")])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("does not exist")
    // A directory or a FIFO in the file's place is named as what it is (a FIFO is never opened: it would block the start).
    await mkdir(join(dir, "a-dir.json"), { recursive: true })
    const directory = await run(["--config", join(dir, "a-dir.json")])
    expect(directory.code).toBe(2)
    expect(directory.stderr).toContain("is a directory, not a file")
    const fifo = join(dir, "fifo.json")
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0)
    const piped = await run(["--config", fifo])
    expect(piped.code).toBe(2)
    expect(piped.stderr).toContain("is not a regular file")
    // An editor's UTF-8 byte order mark is not a JSON error.
    const bom = join(dir, "bom.json")
    await writeFile(bom, "\uFEFF" + JSON.stringify({ upstream: { baseURL: "https://example.com/zen/v1", keyEnv: "K" }, models: ["big-pickle"], limits: { installDailyRequests: -1 } }))
    const marked = await run(["--config", bom])
    expect(marked.code).toBe(2)
    expect(marked.stderr).not.toContain("not valid JSON")
    expect(marked.stderr).toContain("limits.installDailyRequests")
    const none = await run([])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain("Pass --config <file>")
  })
})
