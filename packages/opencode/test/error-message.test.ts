import { describe, expect, test } from "bun:test"
import { ProviderError, ProviderErrorMessage } from "../src/provider"

const NOW = Date.parse("2026-11-20T10:02:57Z")

function rejected(message = "Invalid API key.") {
  return ProviderError.classify({ status: 401, body: JSON.stringify({ type: "error", error: { type: "AuthError", message } }) }, NOW)
}

describe("the auth message says which key to fix", () => {
  test("without context: no single fix is claimed, every place a key can come from is named", () => {
    const text = ProviderErrorMessage.user(rejected(), NOW)
    expect(text).toContain("The provider rejected the credentials (HTTP 401): Invalid API key.")
    expect(text).toContain("opencode.json")
    expect(text).toContain("environment")
    expect(text).toContain("auth set")
    // The record carries the same words.
    expect(rejected().userMessage).toBe(text)
  })

  test("a key from OPENCODE_API_KEY: check or unset it (a saved key would be used first)", () => {
    const text = ProviderErrorMessage.user(rejected(), NOW, { authSource: "env", authEnvVar: "OPENCODE_API_KEY", providerID: "opencode" })
    expect(text).toBe(
      "The provider rejected the credentials (HTTP 401): Invalid API key. " +
        "The key from OPENCODE_API_KEY was rejected: check or unset it, or save a working key with `auth set opencode` (a saved key is used before OPENCODE_API_KEY).",
    )
  })

  test("the apiKey in opencode.json: fix it there, `auth set` would not help", () => {
    const text = ProviderErrorMessage.user(rejected(), NOW, { authSource: "config", providerID: "opencode-go" })
    expect(text).toContain("The apiKey in opencode.json was rejected: fix or remove provider.opencode-go.options.apiKey")
    expect(text).not.toContain("auth set")
  })

  test("the saved key: re-enter it with auth set", () => {
    const text = ProviderErrorMessage.user(rejected(), NOW, { authSource: "auth", providerID: "opencode" })
    expect(text).toContain("The saved key was rejected: re-enter it with `auth set opencode`.")
  })

  test("no key or only the anonymous one: save one", () => {
    expect(ProviderErrorMessage.user(rejected(), NOW, { authSource: "public", providerID: "opencode" })).toContain(
      "No API key was sent, only anonymous access: this model needs one. Save it with `auth set opencode`.",
    )
    expect(ProviderErrorMessage.user(rejected(), NOW, { authSource: "none", providerID: "mine" })).toContain(
      "No key is configured for mine: save one with `auth set mine` or set provider.mine.options.apiKey in opencode.json.",
    )
  })

  test("context is only used for the auth kind", () => {
    const limited = ProviderError.classify({ status: 429, headers: [["retry-after", "60"]], body: JSON.stringify({ type: "error", error: { type: "FreeUsageLimitError", message: "x" } }) }, NOW)
    expect(ProviderErrorMessage.user(limited, NOW, { authSource: "env", authEnvVar: "OPENCODE_API_KEY" })).toBe(ProviderErrorMessage.user(limited, NOW))
  })
})

describe("sentences are joined without doubled punctuation", () => {
  test("an upstream message ending in a full stop gives one full stop", () => {
    for (const source of [undefined, "env", "config", "auth", "public", "none"] as const) {
      const text = ProviderErrorMessage.user(rejected("Invalid API key."), NOW, source ? { authSource: source, authEnvVar: "OPENCODE_API_KEY" } : undefined)
      expect(text).not.toMatch(/[.!?]\./)
    }
    const unavailable = ProviderError.classify({ status: 401, body: JSON.stringify({ type: "error", error: { type: "ModelError", message: "Model not supported." } }) }, NOW)
    expect(unavailable.userMessage).toBe("This model is not available with your key or plan: Model not supported. Run `models` to see the ones you can use.")
  })

  test("an upstream message without one gets one; other endings are kept", () => {
    expect(ProviderErrorMessage.user(rejected("Invalid API key"), NOW)).toStartWith("The provider rejected the credentials (HTTP 401): Invalid API key. ")
    expect(ProviderErrorMessage.user(rejected("Who are you?"), NOW)).toStartWith("The provider rejected the credentials (HTTP 401): Who are you? ")
    const invalid = ProviderError.classify({ status: 400, body: JSON.stringify({ error: { type: "invalid_request_error", message: "bad schema." } }) }, NOW)
    expect(invalid.userMessage).toBe("The provider rejected the request (HTTP 400): bad schema.")
  })

  test("sentences() itself", () => {
    expect(ProviderErrorMessage.sentences("One.", "Two", "Three!", "", undefined, "Four?")).toBe("One. Two. Three! Four?")
    expect(ProviderErrorMessage.sentences("Ends with a colon:", "Next.")).toBe("Ends with a colon. Next.")
    expect(ProviderErrorMessage.sentences("Quoted \"end.\"", "Next")).toBe('Quoted "end." Next.')
    expect(ProviderErrorMessage.sentences("Ellipsis…", "  padded.  ")).toBe("Ellipsis… padded.")
  })
})

describe("a request too large in bytes is not called a long conversation for the model", () => {
  test("a proxy's bare 413, a provider's request_too_large, and a PawWork relay's limit each say who refused it", () => {
    const bare = ProviderError.classify({ status: 413, body: "" }, NOW)
    expect(bare.userMessage).toBe(
      "The provider or a server on the way refused the request as too large (HTTP 413). It grows with the conversation and its attachments: start a new session or leave out large files.",
    )
    const relay = ProviderError.classify(
      { status: 413, body: JSON.stringify({ type: "error", error: { type: "RequestTooLargeError", message: "The request body is larger than the relay accepts (1048576 bytes)." } }) },
      NOW,
    )
    expect(relay.userMessage).toStartWith("The request is larger than the PawWork relay accepts (HTTP 413).")
    expect(relay.userMessage).toContain("instead of the relay")
    for (const info of [bare, relay]) expect(info.userMessage).not.toContain("context window")
  })
})

describe("through a PawWork relay, the gateway's account errors are the relay's", () => {
  const relayed = (status: number, type: string, message = "m") =>
    ProviderError.classify({ status, headers: { "x-pawwork-relay": "1" }, body: JSON.stringify({ type: "error", error: { type, message } }) }, NOW)

  test("a spent balance or a refused key behind the relay is PawWork's to fix, never the user's key or credits", () => {
    const credits = relayed(401, "CreditsError", "No payment method. Add a payment method here: https://opencode.ai/workspace/wrk_1/billing")
    expect(credits).toMatchObject({ kind: "credits_exhausted", relayed: true })
    expect(credits.userMessage).toStartWith("OpenCode's gateway refused the PawWork relay's own account (HTTP 401 CreditsError).")
    expect(credits.userMessage).toContain("instead of the relay")
    expect(credits.userMessage).not.toMatch(/add credits|auth set opencode\b.*re-?enter|your key is/i)
    expect(relayed(401, "AuthError").userMessage).toContain("not your key, plan or network")
  })

  test("the relay's own refusals keep their own words", () => {
    const own = relayed(429, "InstallLimitError")
    expect(own).toMatchObject({ kind: "relay_limit", relayed: true })
    expect(own.userMessage).toStartWith("This install's daily allowance on the PawWork relay is used up")
    expect(relayed(413, "RequestTooLargeError").userMessage).toStartWith("The request is larger than the PawWork relay accepts")
  })

  test("without the relay's header the same answer is the user's own", () => {
    const direct = ProviderError.classify({ status: 401, body: JSON.stringify({ type: "error", error: { type: "CreditsError", message: "m" } }) }, NOW)
    expect(direct.relayed).toBe(false)
    expect(direct.userMessage).not.toContain("relay")
  })
})

describe("whose account: the gateway's words for the user, OpenCode's side for a provider behind it", () => {
  const upstream = (status: number, message: string, extra: Record<string, unknown> = {}) =>
    ProviderError.classify({ status, body: JSON.stringify({ error: { message, ...extra } }) }, NOW, { providerID: "opencode", authSource: "auth" })

  test("a named provider's refusal is OpenCode's account with it, in full", () => {
    expect(upstream(401, "Error from provider (Fireworks): The API key you provided is invalid.", { code: "invalid_api_key" }).userMessage).toBe(
      "Fireworks refused OpenCode's credentials for this model (HTTP 401). That is OpenCode's own account with Fireworks, on OpenCode's side of the gateway: " +
        "not your key and not your OpenCode account. Pick another model (`models`) or try again later.",
    )
    expect(upstream(402, "Error from provider (DeepSeek): Insufficient Balance").userMessage).toStartWith("OpenCode's usage with DeepSeek has run out for now (HTTP 402).")
  })

  test("unprefixed, as the gateway passes a stream's error on: the provider is not named, the side still is", () => {
    expect(upstream(401, "The API key you provided is invalid.", { code: "invalid_api_key" }).userMessage).toStartWith(
      "The model provider behind OpenCode's gateway refused OpenCode's credentials for this model (HTTP 401). That is OpenCode's own account with that provider,",
    )
    expect(upstream(404, "no such model", { code: "model_not_found" }).userMessage).toStartWith("The model provider behind OpenCode's gateway does not serve this model right now (HTTP 404).")
  })

  test("the gateway's own refusals keep their advice about the user's key, plan or money", () => {
    expect(rejected().origin).toBe("gateway")
    expect(ProviderErrorMessage.user(rejected(), NOW, { authSource: "auth", providerID: "opencode" })).toContain("re-enter it with `auth set opencode`")
    const gated = ProviderError.classify({ status: 403, body: JSON.stringify({ type: "error", error: { type: "FreeTierError", message: "x" } }) }, NOW, { authSource: "public", providerID: "opencode" })
    expect(gated.userMessage).toContain("This is not a key problem")
    expect(gated.userMessage).not.toContain("rejected")
  })
})

describe("where to add credits: OpenCode's console, not the old dashboard", () => {
  const credits = (metadata?: Record<string, unknown>) =>
    ProviderError.classify({ status: 401, body: JSON.stringify({ type: "error", error: { type: "CreditsError", message: "Insufficient balance." }, ...(metadata ? { metadata } : {}) }) }, NOW)

  test("the workspace's console page when the answer names the workspace", () => {
    expect(credits({ workspace: "wrk_01K6XGM22R6FM8JVABE9XDQXGH" }).userMessage).toBe(
      "Your OpenCode workspace has no balance left. Add credits in OpenCode's console: https://opencode.ai/console/wrk_01K6XGM22R6FM8JVABE9XDQXGH",
    )
  })

  test("the console itself when it does not (a 401 carries no metadata)", () => {
    expect(credits().userMessage).toBe("Your OpenCode workspace has no balance left. Add credits in OpenCode's console: https://opencode.ai/console")
  })

  test("never a /workspace/ page, which now sends everyone to the console's sign-in", () => {
    for (const record of [credits(), credits({ workspace: "wrk_1" })]) expect(record.userMessage).not.toContain("/workspace/")
  })
})

describe("a 403 in the gateway's own name with a type this version does not know", () => {
  const console403 = (body: unknown, authSource: "public" | "auth") =>
    ProviderError.classify({ status: 403, body: JSON.stringify(body) }, NOW, { authSource, providerID: "opencode" })

  test("is the gateway's, not a key problem: no key advice, whether a key was sent or not", () => {
    const bodies = [
      { type: "error", error: { type: "ClientCheckError", message: "Error from provider (Console): this client is not allowed" } },
      { error: { message: "Error from provider (Console): this client is not allowed", type: "upstream_error", code: null } },
    ]
    for (const body of bodies)
      for (const source of ["public", "auth"] as const) {
        const info = console403(body, source)
        expect(info).toMatchObject({ kind: "unknown", origin: "gateway", action: "stop", statusCode: 403 })
        expect(info.userMessage).toStartWith("OpenCode's gateway refused the request with an answer this version of PawWork does not know (HTTP 403)")
        for (const wrong of [/auth set/, /API key/i, /rejected the credentials/, /balance/i]) expect(info.userMessage).not.toMatch(wrong)
      }
  })

  test("a gateway 401 and a custom provider's own 403 still speak about the key", () => {
    const console401 = ProviderError.classify({ status: 401, body: JSON.stringify({ error: { message: "Error from provider (Console): Unauthorized" } }) }, NOW, { authSource: "auth", providerID: "opencode" })
    expect(console401).toMatchObject({ kind: "auth", origin: "gateway" })
    const custom = ProviderError.classify({ status: 403, body: JSON.stringify({ error: { message: "Forbidden" } }) }, NOW, { authSource: "auth", providerID: "mine" })
    expect(custom.kind).toBe("auth")
    expect(custom.userMessage).toContain("re-enter it with `auth set mine`")
  })
})

describe("providers that refuse a spent account or a bad key with a generic 400", () => {
  const anthropicCredit = {
    type: "error",
    error: {
      type: "invalid_request_error",
      message: "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
    },
  }
  const geminiKey = { error: { code: 400, message: "API key not valid. Please pass a valid API key.", status: "INVALID_ARGUMENT" } }
  const prefixed = (body: { error: { message: string } }, name: string) => ({ ...body, error: { ...body.error, message: `Error from provider (${name}): ${body.error.message}` } })
  const classify = (body: unknown, providerID: string) => ProviderError.classify({ status: 400, body: JSON.stringify(body) }, NOW, { authSource: "auth", providerID })

  test("behind the gateway: OpenCode's account with that provider, and none of the provider's advice to buy credits or fix a key", () => {
    const credit = classify(prefixed(anthropicCredit, "Anthropic"), "opencode")
    expect(credit).toMatchObject({ kind: "credits_exhausted", origin: "upstream", provider: "Anthropic", action: "stop" })
    const key = classify(prefixed(geminiKey, "Google"), "opencode")
    expect(key).toMatchObject({ kind: "auth", origin: "upstream", provider: "Google", action: "stop" })
    for (const info of [credit, key]) {
      expect(info.userMessage).toContain("OpenCode's own account")
      for (const wrong of [/purchase credits/i, /valid API key/i, /auth set/, /balance/i]) expect(info.userMessage).not.toMatch(wrong)
    }
  })

  test("a custom provider answering directly: the user's own account and key", () => {
    expect(classify(anthropicCredit, "my-anthropic").userMessage).toStartWith("The provider reports that the account's credits or quota are used up")
    expect(classify(geminiKey, "my-gemini").userMessage).toContain("re-enter it with `auth set my-gemini`")
  })
})

test("a proxy's 500 carrying only the gateway's CreditsError text is not read as OpenCode's account with a provider", () => {
  const info = ProviderError.classify(
    { status: 500, body: JSON.stringify({ error: { message: "Insufficient balance. Manage your billing here: https://opencode.ai/workspace/wrk_1/billing", type: "upstream_error" } }) },
    NOW,
    { providerID: "opencode" },
  )
  expect(info.kind).not.toBe("credits_exhausted")
  expect(info.userMessage).not.toContain("OpenCode's own account")
})

test("a spent Go window names the gateway's own way on: letting Go use the workspace balance, in the console", () => {
  const info = ProviderError.classify(
    {
      status: 429,
      headers: { "retry-after": "172800" },
      body: JSON.stringify({
        type: "error",
        error: { type: "GoUsageLimitError", message: "Weekly usage limit reached. Resets in 2 days. To continue using this model now, enable usage from your available balance: https://opencode.ai/workspace/wrk_go/go" },
        metadata: { workspace: "wrk_go", limitName: "weekly" },
      }),
    },
    NOW,
  )
  expect(info.userMessage).toContain("let Go use your workspace balance")
  expect(info.userMessage).toContain("https://opencode.ai/console")
  expect(info.userMessage).not.toContain("/workspace/")
})

test("a named provider's own rate limit behind the gateway (Gemini's RESOURCE_EXHAUSTED) names it and is not the user's quota", () => {
  const info = ProviderError.classify(
    { status: 429, body: JSON.stringify({ error: { code: 429, message: "Error from provider (Google): Resource has been exhausted (e.g. check quota).", status: "RESOURCE_EXHAUSTED" } }) },
    NOW,
    { providerID: "opencode" },
  )
  expect(info).toMatchObject({ kind: "rate_limit", origin: "upstream", provider: "Google", action: "retry" })
  expect(info.userMessage).toBe("The upstream provider (Google) is rate limiting OpenCode's requests to it; that is OpenCode's account with it, not your quota. Waiting a little usually helps.")
})

test("a provider behind the gateway wording its own plan's limit like Go's is that provider's, not the user's Go window", () => {
  const info = ProviderError.classify(
    { status: 429, body: JSON.stringify({ error: { message: "Error from provider (Zhipu): Weekly usage limit reached. Resets in 2 days.", type: "upstream_error" } }) },
    NOW,
    { providerID: "opencode" },
  )
  expect(info).toMatchObject({ kind: "rate_limit", origin: "upstream", provider: "Zhipu" })
  expect(info.userMessage).not.toContain("OpenCode Go")
})
