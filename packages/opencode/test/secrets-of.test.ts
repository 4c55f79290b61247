import { afterEach, beforeEach, expect, test } from "bun:test"
import { SecretSet } from "@pawwork/secrets"
import { Provider } from "../src/provider"
import { makeInstall, plantedSecret, type TestInstall } from "./fixture/install"
import { leakedFragments } from "./fixture/leaks"

// Provider.secretsOf must give each secret in every form it goes out in, so a SecretSet built from
// it removes each echo: a query value as written (`+` stays `+`) and decoded, userinfo as the
// `Authorization: Basic` credential fetch sends it as.

let install: TestInstall
beforeEach(async () => {
  install = await makeInstall()
})
afterEach(() => install.cleanup())

async function secretsFor(baseURL: string, headers: Record<string, string> = {}) {
  await install.writeConfig({ provider: { mine: { npm: "@ai-sdk/openai-compatible", options: { baseURL, headers }, models: { m: {} } } } })
  const providers = await Provider.list(install.env)
  return SecretSet.of(Provider.secretsOf(Provider.pick(providers, "mine", "m")))
}

test("a query value with a + is removed as written, encoded and decoded", async () => {
  const [a, b] = [plantedSecret("qa"), plantedSecret("qb")]
  const secrets = await secretsFor(`http://127.0.0.1:9/v1?tok=${a}+${b}`)
  for (const echo of [`${a}+${b}`, `${a}%2B${b}`, `${a} ${b}`]) expect(secrets.remove(`got ${echo}`)).toBe("got [redacted]")
})

test("userinfo is removed as written, decoded and as the Basic credential fetch sends", async () => {
  const password = `${plantedSecret("pw")}/x`
  const secrets = await secretsFor(`http://user:${encodeURIComponent(password)}@127.0.0.1:9/v1`)
  const basic = Buffer.from(`user:${password}`).toString("base64")
  for (const echo of [password, encodeURIComponent(password), `Basic ${basic}`]) {
    const out = secrets.remove(`authorization: ${echo}`)
    expect(leakedFragments(out, { password, basic })).toEqual([])
  }
})

test("a URL-valued header counts by its credentials, a descriptive one not at all: links in messages survive", async () => {
  const [token, apiKey] = [plantedSecret("ref"), plantedSecret("hdr")]
  const secrets = await secretsFor("http://127.0.0.1:9/v1", {
    "HTTP-Referer": `https://pawwork.app/?k=${token}`,
    "X-Title": "PawWork desktop runtime",
    "X-Api-Key": apiKey,
  })
  const message = "Weekly usage limit reached. Enable usage from your balance: https://opencode.ai/workspace/wrk_1/go (PawWork desktop runtime)"
  expect(secrets.remove(message)).toBe(message)
  expect(secrets.remove(`echo ${token} and ${apiKey}`)).toBe("echo [redacted] and [redacted]")
})
