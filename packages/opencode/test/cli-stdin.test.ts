import { afterEach, beforeEach, describe, expect, test } from "bun:test"
import * as Auth from "../src/auth"
import { readBounded } from "../src/cli/io"
import { CLI, makeInstall, runCli, type TestInstall } from "./fixture/install"

let install: TestInstall
beforeEach(async () => {
  install = await makeInstall()
})
afterEach(() => install.cleanup())

const MiB = 1024 * 1024

/**
 * Runs the real CLI and pipes `bytes` bytes of "a" into its stdin, then keeps the pipe OPEN until
 * the CLI exits. A CLI that reads stdin to the end would wait forever (the test times out); one
 * that stops at its cap answers. 3 MiB is enough to be over both caps (1 MiB, 64 KiB).
 */
async function runWithOpenStdin(args: string[], bytes: number) {
  const proc = Bun.spawn(["bun", CLI, ...args], { env: install.env as Record<string, string>, stdin: "pipe", stdout: "pipe", stderr: "pipe" })
  const chunk = new Uint8Array(64 * 1024).fill(0x61)
  // Once the CLI stops reading and exits, writes fail with EPIPE: that is expected.
  const feeding = (async () => {
    for (let sent = 0; sent < bytes; sent += chunk.length) {
      proc.stdin.write(chunk)
      await proc.stdin.flush()
    }
  })().catch(() => {})
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    return { stdout, stderr, code }
  } finally {
    proc.kill("SIGKILL")
    await feeding
    try {
      await proc.stdin.end()
    } catch {}
  }
}

describe("bounded stdin", () => {
  test("classify --body-file - stops reading at 1 MiB and says the body was cut", async () => {
    const { stdout, stderr, code } = await runWithOpenStdin(["classify", "--status", "500", "--body-file", "-"], 3 * MiB)
    expect(stderr).toBe("")
    expect(code).toBe(0)
    expect(stdout).toContain("kind:          server_error (HTTP 500)")
    expect(stdout).toContain("body:          only the first 1 MiB was read")
  }, 30_000)

  test("classify --json notes the cut on stderr and keeps stdout one JSON object", async () => {
    const { stdout, stderr, code } = await runWithOpenStdin(["classify", "--status", "500", "--body-file", "-", "--json"], 3 * MiB)
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ kind: "server_error", statusCode: 500 })
    expect(stderr).toContain("only the first 1 MiB")
  }, 30_000)

  test("classify --body-file <path> says so too when the file is over 1 MiB", async () => {
    const file = `${install.root}/body.txt`
    await Bun.write(file, "a".repeat(MiB + 1))
    const over = await runCli(["classify", "--status", "500", "--body-file", file], install.env)
    expect(over.stdout).toContain("body:          only the first 1 MiB was read")
    await Bun.write(file, "a".repeat(MiB))
    const exactly = await runCli(["classify", "--status", "500", "--body-file", file], install.env)
    expect(exactly.code).toBe(0)
    expect(exactly.stdout).not.toContain("body:")
  }, 30_000)

  test("auth set refuses more than 64 KiB on stdin and saves nothing", async () => {
    const { stderr, code } = await runWithOpenStdin(["auth", "set", "opencode"], 3 * MiB)
    expect(code).toBe(2)
    expect(stderr).toContain("that is not an API key")
    expect(stderr).toContain("64 KiB")
    expect((await Auth.read(install.env)).entries).toEqual({})
  }, 30_000)
})

describe("readBounded", () => {
  function streamOf(...chunks: (string | Uint8Array)[]) {
    const encoder = new TextEncoder()
    let cancelled = false
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift()
        if (next === undefined) controller.close()
        else controller.enqueue(typeof next === "string" ? encoder.encode(next) : next)
      },
      cancel() {
        cancelled = true
      },
    })
    return { stream, cancelled: () => cancelled }
  }

  test("under or exactly at the cap: everything, not truncated", async () => {
    expect(await readBounded(streamOf("ab", "cd").stream, 10)).toEqual({ text: "abcd", truncated: false })
    expect(await readBounded(streamOf("ab", "cd").stream, 4)).toEqual({ text: "abcd", truncated: false })
    expect(await readBounded(streamOf().stream, 4)).toEqual({ text: "", truncated: false })
  })

  test("over the cap: the first maxBytes, truncated, and the stream is cancelled", async () => {
    const source = streamOf("abc", "def", "ghi")
    expect(await readBounded(source.stream, 5)).toEqual({ text: "abcde", truncated: true })
    expect(source.cancelled()).toBe(true)
  })

  test("a character cut at the cap is dropped, not turned into U+FFFD", async () => {
    // "é" is two bytes; the cap falls between them.
    expect(await readBounded(streamOf("aé", "b").stream, 2)).toEqual({ text: "a", truncated: true })
  })
})
