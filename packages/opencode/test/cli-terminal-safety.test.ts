import { afterAll, beforeAll, expect, test } from "bun:test"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import { makeInstall, runCli, type TestInstall } from "./fixture/install"
import { simInstall } from "./fixture/sim-install"

// No human output of the CLI lets text from outside drive the terminal. `cli run` prints a model's
// answer as it streams, and the answer comes from a gateway, a relay or a model that can be told to
// write anything: an OSC 52 sequence sets the user's clipboard, others retitle the window, move the
// cursor or hide text, and bidi overrides reorder what is read. None of that may reach the
// terminal; the text around it, and characters real text uses (a ZWJ emoji, Arabic), must. With
// --json the data is kept exactly, its unsafe characters written as escapes. The same holds for
// what models, auth list and request --dry-run print from opencode.json and auth.json, files a user
// may have copied from anywhere.

const ANSWER =
  "Copy \u001b]52;c;cm0gLXJmIH4=\u0007this \u001b[2J\u001b[31mred\u001b[0m \u009b31mC1 \u202eevil\u202c line\rover \u0008back family:\u{1F468}\u200d\u{1F469}\u200d\u{1F467} \u0645\u0631\u062d\u0628\u0627 done."
// C0 controls but the line break and tab, DEL, C1, bidi embeddings, overrides and isolates.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u

let sim: Simulator
let install: TestInstall
beforeAll(async () => {
  sim = await startSimulator({ config: { newClientBonus: false, reply: ANSWER } })
  install = await simInstall(sim)
})
afterAll(async () => {
  await install.cleanup()
  await sim.stop()
})

test("the streamed answer reaches the terminal without escape sequences, C1 controls or bidi overrides", async () => {
  const out = await runCli(["run", "hi"], install.env)
  expect(out.code).toBe(0)
  expect(out.stdout).not.toMatch(UNSAFE)
  expect(out.stdout).toContain("this")
  expect(out.stdout).toContain("evil")
  expect(out.stdout).toContain("family:\u{1F468}\u200d\u{1F469}\u200d\u{1F467}")
  expect(out.stdout).toContain("\u0645\u0631\u062d\u0628\u0627 done.")
})

test("--json keeps the answer exactly, with those characters escaped instead of raw", async () => {
  const out = await runCli(["run", "--json", "hi"], install.env)
  expect(out.code).toBe(0)
  expect(out.stdout).not.toMatch(UNSAFE)
  expect(JSON.parse(out.stdout).text).toBe(ANSWER)
})

test("models: names and ids from a shared opencode.json reach the terminal without escapes or bidi overrides", async () => {
  const shared = await makeInstall()
  try {
    const name = "Evil \u202e\u001b]0;title\u0007 name"
    await shared.writeConfig({
      provider: {
        mine: { npm: "@ai-sdk/openai-compatible", options: { baseURL: "http://127.0.0.1:9/v1", apiKey: "k" }, models: { "m\u001b[2J": { name } } },
      },
    })
    const out = await runCli(["models"], shared.env)
    expect(out.code).toBe(0)
    expect(out.stdout).toContain("Evil")
    expect(out.stdout).not.toMatch(UNSAFE)
    const asJson = await runCli(["models", "--json"], shared.env)
    expect(asJson.stdout).not.toMatch(UNSAFE)
    expect(JSON.parse(asJson.stdout).map((m: { id: string }) => m.id)).toContain("mine/m\u001b[2J")
  } finally {
    await shared.cleanup()
  }
})

test("auth list: provider ids and types from a hand-edited auth.json without escapes or bidi overrides", async () => {
  const edited = await makeInstall()
  try {
    await Bun.write(`${edited.dataDir}/auth.json`, JSON.stringify({ "ev\u001b]0;x\u0007il": { type: "api", key: "k.PLANTED.abcdefgh" }, "b\u202ead": { type: "\u001b[2Jzz" } }))
    const out = await runCli(["auth", "list"], edited.env)
    expect(out.code).toBe(0)
    expect(out.stdout).toContain("il")
    expect(out.stdout).not.toMatch(UNSAFE)
    const asJson = await runCli(["auth", "list", "--json"], edited.env)
    expect(asJson.stdout).not.toMatch(UNSAFE)
  } finally {
    await edited.cleanup()
  }
})

test("request --dry-run: a model id from opencode.json prints without its escapes", async () => {
  const shared = await makeInstall()
  try {
    await shared.writeConfig({
      model: "mine/m\u001b[2J\u202e",
      provider: { mine: { npm: "@ai-sdk/openai-compatible", options: { baseURL: "http://127.0.0.1:9/v1", apiKey: "k" }, models: { "m\u001b[2J\u202e": {} } } },
    })
    for (const args of [["request", "--dry-run"], ["request", "--dry-run", "--json"]]) {
      const out = await runCli(args, shared.env)
      expect(out.code).toBe(0)
      expect(out.stdout).not.toMatch(UNSAFE)
    }
  } finally {
    await shared.cleanup()
  }
})
