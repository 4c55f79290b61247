import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import pkg from "../package.json" with { type: "json" }
import { Installation } from "../src/installation"
import { Provider } from "../src/provider"
import { SessionDiagnostics, SessionHeaders, SessionProcessor } from "../src/session"
import * as SessionDryRun from "../src/session/dry-run"
import * as Identifier from "../src/id/id"
import { makeInstall, runCli, type TestInstall } from "./fixture/install"

// The module-level version is shared by every test in this file: put it back after each.
afterEach(() => {
  Installation.reset()
})

describe("the User-Agent", () => {
  test("defaults to OpenCode's form with this package's own version and the pawwork channel", () => {
    expect(Installation.info()).toEqual({ version: pkg.version, channel: "pawwork" })
    expect(Installation.userAgent("cli")).toBe(`opencode/pawwork/${pkg.version}/cli`)
  })

  test("a host's configured version and channel are what the header builder sends", () => {
    Installation.configure({ version: "2.3.4-beta.1", channel: "pawwork-beta" })
    const headers = SessionHeaders.build({ providerID: "opencode", projectID: "global", sessionID: "ses_1", requestID: "msg_1", client: "desktop" })
    expect(headers["User-Agent"]).toBe("opencode/pawwork-beta/2.3.4-beta.1/desktop")
    expect(Installation.version()).toBe("2.3.4-beta.1")
  })

  test("configuring only the version keeps the channel", () => {
    Installation.configure({ version: "1.0.0" })
    expect(Installation.info()).toEqual({ version: "1.0.0", channel: "pawwork" })
  })

  const bad: [string, { version?: string; channel?: string }, RegExp][] = [
    ["a version that is not semver", { version: "1.2" }, /version "1\.2" is not valid: give the host's own release as a semantic version/],
    ["a version with a leading zero", { version: "01.2.3" }, /version/],
    ["a version with a slash (would split the User-Agent)", { version: "1.2.3/evil" }, /version/],
    ["a version with a newline (header injection)", { version: "1.2.3\nx-evil: 1" }, /version "1\.2\.3\\nx-evil: 1"/],
    ["an overlong version", { version: `1.2.3-${"a".repeat(80)}` }, /at most 64 characters/],
    ["an empty channel", { channel: "" }, /channel "" is not valid/],
    ["OpenCode's own channel (no imitation of its client)", { channel: "latest" }, /channel "latest" is not valid: give "pawwork" or "pawwork-<name>"/],
    ["a channel with a slash", { channel: "pawwork/1.17.0" }, /channel/],
    ["an upper-case channel", { channel: "PawWork" }, /channel/],
  ]
  for (const [name, input, message] of bad)
    test(`${name} throws a clear error and changes nothing`, () => {
      Installation.configure({ version: "3.0.0" })
      let error: unknown
      try {
        Installation.configure(input)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(Installation.InvalidInstallationError)
      expect((error as Installation.InvalidInstallationError).code).toBe("installation_invalid")
      expect((error as Error).message).toMatch(message)
      expect((error as Error).message).toContain("Nothing was changed")
      expect(Installation.info()).toEqual({ version: "3.0.0", channel: "pawwork" })
    })

  test("a client name that could split the User-Agent or inject a header is refused", () => {
    for (const client of ["", "a/b", "cli\r\nx: 1", "x".repeat(33)]) expect(() => Installation.userAgent(client)).toThrow(Installation.InvalidInstallationError)
  })
})

describe("what goes out", () => {
  let sim: Simulator
  let install: TestInstall
  beforeAll(async () => {
    sim = await startSimulator({ config: { newClientBonus: false } })
    install = await makeInstall()
    await install.writeConfig({ provider: { opencode: { options: { baseURL: sim.zenBaseURL } } } })
  })
  afterAll(async () => {
    await sim.stop()
    await install.cleanup()
  })

  test("the gateway receives the configured User-Agent through the ai SDK", async () => {
    Installation.configure({ version: "4.5.6" })
    sim.reset()
    const model = await Provider.getModel("opencode", "big-pickle", install.env)
    const result = await SessionProcessor.process({
      model,
      sessionID: Identifier.create("session"),
      requestID: Identifier.ascending("message"),
      client: "desktop",
      messages: [{ role: "user", content: "hi" }],
    })
    expect(result.ok).toBe(true)
    const [request] = sim.requests().filter((r) => r.path.endsWith("/chat/completions"))
    // The SDK appends its own transport after ours (` ai-sdk-provider-utils/… bun/…`): that is what
    // really sends the request, so it is left as it is.
    expect(request?.headers["user-agent"]).toStartWith("opencode/pawwork/4.5.6/desktop ")
  })

  test("the dry run captures the same User-Agent the builder makes", async () => {
    Installation.configure({ version: "7.8.9", channel: "pawwork-nightly" })
    const model = await Provider.getModel("opencode", "big-pickle", install.env)
    const captured = await SessionDryRun.capture({ model, sessionID: Identifier.create("session"), requestID: Identifier.ascending("message"), messages: [{ role: "user", content: "hi" }] })
    const report = SessionDryRun.report(model, captured)
    expect(report.headers["user-agent"]).toStartWith(`${Installation.userAgent("cli")} `)
    expect(report.headers["user-agent"]).toStartWith("opencode/pawwork-nightly/7.8.9/cli ")
  })

  test("diagnostics records carry the configured version, so support sees what really ran", async () => {
    Installation.configure({ version: "5.0.0" })
    const model = await Provider.getModel("opencode", "big-pickle", install.env)
    const record = SessionDiagnostics.requestRecord({ model, sessionID: Identifier.create("session"), requestID: Identifier.ascending("message") }, 1)
    expect(record.runtimeVersion).toBe("5.0.0")
  })

  test("`request --dry-run` prints the User-Agent line, in text and in --json", async () => {
    const json = await runCli(["request", "--dry-run", "--model", "opencode/big-pickle", "--json"], install.env)
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout).headers["user-agent"]).toStartWith(`opencode/pawwork/${pkg.version}/cli `)
    const text = await runCli(["request", "--dry-run", "--model", "opencode/big-pickle"], install.env)
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(new RegExp(`^user-agent: opencode/pawwork/${pkg.version.replaceAll(".", "\\.")}/cli `, "m"))
  })
})
