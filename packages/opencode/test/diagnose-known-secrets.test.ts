import { afterAll, beforeAll, expect, test } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import * as Auth from "../src/auth"
import * as Identity from "../src/auth/identity"
import { makeInstall, plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { leakedFragments } from "./fixture/leaks"

// Records this version writes hold no secret, but a log written by an older version (which leaked
// trimmed and cut keys), copied from another machine or edited by hand may. diagnose removes every
// secret the install holds (saved keys, env keys, configured header values, the install token) from
// the records before it shows them or puts them in the support bundle. classify does the same with
// a pasted answer.

let install: TestInstall
const saved = plantedSecret("saved")
const unused = plantedSecret("unused")
const envKey = plantedSecret("envkey")
const header = plantedSecret("hdr")
const token = `pwi_${"Q".repeat(10)}${crypto.randomUUID().replaceAll("-", "")}`
const secrets = { saved, unused, envKey, header, token }

function failure(fields: Record<string, unknown>) {
  return JSON.stringify({
    event: "provider.failure",
    time: "2026-11-21T10:02:57.023Z",
    sessionID: "ses_01a20028de8c000SaDeP2WXCMqPAZ",
    requestID: "msg_01a20028de8c00196c7j6gczdNFgg",
    providerID: "opencode",
    modelID: "big-pickle",
    baseURL: "https://opencode.ai/zen/v1",
    authSource: "auth",
    installHeaderSent: true,
    attempt: 1,
    runtimeVersion: "0.0.9",
    statusCode: 401,
    kind: "auth",
    retryable: false,
    action: "stop",
    ...fields,
  })
}

beforeAll(async () => {
  install = await makeInstall({ OPENCODE_API_KEY: ` ${envKey}\n` })
  await install.writeConfig({ provider: { opencode: { options: { headers: { "X-Relay-Key": header } } } } })
  await Auth.set("opencode", { type: "api", key: saved }, install.env)
  await Auth.set("mine", { type: "api", key: unused }, install.env)
  await fs.writeFile(Identity.filePath(install.env), JSON.stringify({ version: 1, token, createdAt: "2026-11-01T00:00:00.000Z" }))
  const log = path.join(install.dataDir, "log")
  await fs.mkdir(log, { recursive: true })
  await fs.writeFile(
    path.join(log, "provider.jsonl"),
    [
      failure({ message: `invalid key ${saved} (env ${envKey}) via ${header}`, upstreamType: "AuthError" }),
      failure({ message: `token ${token.slice(0, 20)} and ${unused.slice(3, 20)}`, workspaceID: saved.slice(0, 20), limitName: header.slice(-14) }),
    ].join("\n") + "\n",
  )
})
afterAll(() => install.cleanup())

test("diagnose, diagnose --json and the bundle carry none of the install's secrets from old records", async () => {
  const human = await runCli(["diagnose"], install.env)
  const asJson = await runCli(["diagnose", "--json"], install.env)
  const file = path.join(install.root, "bundle.json")
  const bundled = await runCli(["diagnose", "--bundle", file], install.env)
  expect([human.code, asJson.code, bundled.code]).toEqual([0, 0, 0])
  const bundle = await fs.readFile(file, "utf8")
  expect(JSON.parse(asJson.stdout).failures).toHaveLength(2)
  expect(JSON.parse(bundle).records[0].message).toContain("[redacted]")
  expect(leakedFragments(human.stdout + human.stderr + asJson.stdout + asJson.stderr + bundled.stdout + bundled.stderr + bundle, secrets)).toEqual([])
})

test("classify: a pasted answer echoing the install's key, token or header value shows none of them", async () => {
  const body = JSON.stringify({ type: "error", error: { type: saved.slice(0, 16), code: envKey.slice(-12), message: `key ${encodeURIComponent(saved)} token ${token.slice(4, 24)} via ${header}` } })
  for (const args of [["classify", "--status", "401", "--header", `retry-after: 99 ${unused}`, "--body-file", "-"], ["classify", "--status", "401", "--body-file", "-", "--json"]]) {
    const out = await runCli(args, install.env, body)
    expect(out.code).toBe(0)
    expect(leakedFragments(out.stdout + out.stderr, secrets)).toEqual([])
  }
})
