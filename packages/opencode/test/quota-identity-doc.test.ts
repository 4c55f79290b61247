import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test"
import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { REPO_ROOT, startSimProcess, type SimProcess } from "./fixture/sim-process"

// Runs the report's commands as a reader would: `bun run sim` and `bun run cli` processes.
setDefaultTimeout(60_000)

const DOC = path.join(REPO_ROOT, "docs", "quota-identity.md")
const PORT = "4096"

interface Block {
  expected: string
  commands: string[]
  /** The ```text block that follows: the output the report shows. */
  shown: string
}

/** Every ```sh block preceded by `<!-- verify: <conclusion> -->`, with the output block after it. */
function verifyBlocks(markdown: string): Block[] {
  const blocks: Block[] = []
  const pattern = /<!-- verify: (\w+) -->\n```sh\n([\s\S]*?)```\n[\s\S]*?```text\n([\s\S]*?)```/g
  for (const match of markdown.matchAll(pattern)) blocks.push({ expected: match[1]!, commands: match[2]!.trim().split("\n"), shown: match[3]! })
  return blocks
}

/**
 * Shell words of one line. The report's verified commands are kept to plain words (no quotes,
 * globs or expansions) so they run the same pasted into any shell and here.
 */
function words(line: string): string[] {
  if (/["'`$*?\\|;<>()]/.test(line)) throw new Error(`verified command uses shell syntax this test does not interpret: ${line}`)
  return line.trim().split(/\s+/)
}

/** Lines that stay the same from run to run: addresses and second counts vary, column widths follow them. */
function stable(output: string): string[] {
  return output
    .replace(/198\.1[89]\.\d+\.\d+/g, "<addr>")
    .replace(/retry-after \d+ s/g, "retry-after <n> s")
    .split("\n")
    .map((line) => line.replace(/ {2,}/g, "  ").trimEnd())
    .filter(Boolean)
}

const sims: SimProcess[] = []
afterAll(() => Promise.all(sims.map((s) => s.stop())))

describe("docs/quota-identity.md", async () => {
  const markdown = await fs.readFile(DOC, "utf8")
  const blocks = verifyBlocks(markdown)

  test("has the verified probe runs for both gateway rules", () => {
    expect(blocks.map((b) => b.expected)).toEqual(["ip", "install"])
  })

  for (const block of blocks)
    test(`the "${block.expected}" commands run as written and print what the report shows`, async () => {
      const home = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-doc-"))
      let sim: SimProcess | undefined
      let probe: { stdout: string; code: number } | undefined
      try {
        for (const line of block.commands) {
          const argv = words(line.replace(/\s*&$/, ""))
          if (argv[0] === "sleep" || argv[0] === "kill") continue // the test waits for the listening line and stops the simulator itself
          if (argv.slice(0, 3).join(" ") === "bun run sim") {
            // A free port instead of 4096, so the test never collides with a simulator someone is running.
            const args = argv.slice(3)
            const port = args.indexOf("--port")
            expect(args[port + 1]).toBe(PORT)
            args[port + 1] = "0"
            sim = await startSimProcess(args)
            sims.push(sim)
            continue
          }
          const env: Record<string, string | undefined> = { PATH: process.env.PATH, HOME: home }
          while (/^[A-Z_][A-Z0-9_]*=/.test(argv[0]!)) {
            const [name, ...value] = argv.shift()!.split("=")
            env[name!] = value.join("=")
          }
          expect(argv.slice(0, 4).join(" ")).toBe("bun run cli probe")
          expect(sim).toBeDefined()
          const args = argv.map((w) => w.replace(`127.0.0.1:${PORT}`, `127.0.0.1:${sim!.port}`))
          const child = Bun.spawn(args, { cwd: REPO_ROOT, env: env as Record<string, string>, stdout: "pipe", stderr: "pipe" })
          const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited])
          probe = { stdout, code }
        }
        expect(probe?.code).toBe(0)
        expect(probe!.stdout).toContain(`Conclusion: ${block.expected} — `)
        const shown = stable(block.shown.replaceAll(`127.0.0.1:${PORT}`, `127.0.0.1:${sim!.port}`))
        expect(stable(probe!.stdout)).toEqual(shown)
      } finally {
        await sim?.stop()
        await fs.rm(home, { recursive: true, force: true })
      }
    })

  test("the report states the conclusions the verified runs produce", () => {
    expect(markdown).toContain("what the probe finds against the faithful\n  simulator: **`ip`**")
    expect(markdown).toContain("(the probe concludes **`install`** against a gateway that honours it)")
  })
})
