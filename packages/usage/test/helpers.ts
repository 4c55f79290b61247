import { afterEach } from "bun:test"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import type { UsageIO } from "../src/cli.ts"
import { UsageError, type UsageErrorCode } from "../src/errors.ts"

export const WS = "wrk_01K6XGM22R6FM8JVABE9XDQXGH"
export const WS_BLACK = "wrk_01K7B4CKQ9T5W2N8M3R6Y1ZPHD"
export const WS_GO = "wrk_01K9G0Q7MNZ4XJ2C8D5E6F3H9A"
export const WS_OTHER = "wrk_01K5S3C0ND2WQRTY7XZ8A9B4CE"

/** Distinctive planted secrets: none of these may ever reach output. */
export const SECRET_COOKIE_VALUE = "Fe26.2**ZZsecretCOOKIEvalue9f8e7d6c5b4a3**planted"
export const SECRET_COOKIE = `auth=${SECRET_COOKIE_VALUE}; theme=dark`
export const SECRET_KEY = "sk-PLANTEDgoKEY0123456789abcdefXYZ"

export function fixture(name: string): string {
  return readFileSync(join(import.meta.dir, "fixtures", name), "utf8")
}

export function expectCode(fn: () => unknown, code: UsageErrorCode): UsageError {
  try {
    fn()
  } catch (e) {
    if (e instanceof UsageError && e.code === code) return e
    throw new Error(`expected UsageError ${code}, got ${e instanceof UsageError ? `${e.code}: ${e.message}` : String(e)}`)
  }
  throw new Error(`expected UsageError ${code}, but nothing was thrown`)
}

export async function expectCodeAsync(p: Promise<unknown>, code: UsageErrorCode): Promise<UsageError> {
  try {
    await p
  } catch (e) {
    if (e instanceof UsageError && e.code === code) return e
    throw new Error(`expected UsageError ${code}, got ${e instanceof UsageError ? `${e.code}: ${e.message}` : String(e)}`)
  }
  throw new Error(`expected UsageError ${code}, but it resolved`)
}

export interface FakeIO extends UsageIO {
  out: string[]
  err: string[]
  files: Record<string, string>
  text(): string
}

export function fakeIO(init: Partial<UsageIO> & { files?: Record<string, string> } = {}): FakeIO {
  const out: string[] = []
  const err: string[] = []
  const files = init.files ?? {}
  return {
    out,
    err,
    files,
    env: init.env ?? {},
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    readFile: async (path) => {
      const f = files[path]
      if (f === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" })
      return f
    },
    savedGoKey: init.savedGoKey,
    fetch: init.fetch,
    now: init.now,
    text: () => out.join("") + err.join(""),
  }
}

/** A throwaway HTTP server on a free loopback port. */
export function serve(handler: (req: Request, url: URL) => Response | Promise<Response>) {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => handler(req, new URL(req.url)) })
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) }
}

/**
 * For a test file's top level: returns `server(handler)`, which starts a loopback server and gives
 * its URL; every server started in a test is stopped after it.
 */
export function serverPerTest() {
  let stops: (() => void)[] = []
  afterEach(() => {
    for (const stop of stops) stop()
    stops = []
  })
  return (handler: Parameters<typeof serve>[0]) => {
    const s = serve(handler)
    stops.push(s.stop)
    return s.url
  }
}
