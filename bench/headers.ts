/**
 * header_build_us: the per-request cost of the identification headers, install identity included,
 * as llm.ts pays it: the token read off the resolved model, then SessionHeaders.build. Amortised
 * over many builds. header_build_no_install_us is the same build without the identity (the baseline).
 * The identity itself is loaded once, before timing, exactly as Provider.getModel does.
 */
import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { Provider } from "../packages/opencode/src/provider"
import { SessionHeaders } from "../packages/opencode/src/session"
import * as Identity from "../packages/opencode/src/auth/identity"

const BUILDS = 1_000_000
const WARMUP = 50_000

export async function bench(): Promise<Record<string, number>> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-bench-headers-"))
  try {
    const env = { HOME: root, XDG_DATA_HOME: path.join(root, "data"), XDG_CONFIG_HOME: path.join(root, "config") }
    const model = await Provider.getModel("opencode", "big-pickle", env)
    const readsBefore = Identity.readCount()
    if (!model.install.token) throw new Error("bench: the install identity was not resolved")
    const withInstall = () => build(model, model.install.token)
    const without = () => build(model, undefined)
    time(withInstall, WARMUP)
    time(without, WARMUP)
    // Interleaved halves so drift in machine speed falls on both sides alike.
    let a = 0
    let b = 0
    for (let round = 0; round < 2; round++) {
      a += time(withInstall, BUILDS / 2)
      b += time(without, BUILDS / 2)
    }
    return {
      header_build_us: a / BUILDS / 1000,
      header_build_no_install_us: b / BUILDS / 1000,
      // 0: building headers never goes back to install.json
      header_build_identity_reads: Identity.readCount() - readsBefore,
    }
  } finally {
    await fs.rm(root, { recursive: true, force: true })
  }
}

let sink = 0

function build(model: Provider.Resolved, install: string | undefined) {
  const headers = SessionHeaders.build({
    providerID: model.provider.id,
    projectID: "global",
    sessionID: "ses_01a2001bfaee000Dh83R6jQFA7Q7f",
    requestID: "msg_01a2001bfaf30006iY1U5c7wCp6Cb",
    client: "cli",
    ...(install ? { install } : {}),
  })
  sink += Object.keys(headers).length
}

/** Total nanoseconds for `count` calls. */
function time(fn: () => void, count: number) {
  const start = Bun.nanoseconds()
  for (let i = 0; i < count; i++) fn()
  const elapsed = Bun.nanoseconds() - start
  if (sink < 0) console.log(sink) // keeps the builds observable so they cannot be optimised away
  return elapsed
}

if (import.meta.main) console.log(await bench())
