import { describe, expect, test } from "bun:test"
import { REDACTED, redact } from "../src/util/redact"

/**
 * The config shape in a support bundle is an allow-list: structure, booleans, numbers and null stay,
 * and a string stays only in a field known to be harmless. Any other string, whatever its key is
 * called and wherever it sits (array elements too), becomes "<redacted>".
 */

describe("redact (support-bundle config shape)", () => {
  test("strings under keys no deny-list would know are redacted; structure, numbers, booleans and null stay", () => {
    const shape = redact({
      provider: {
        aws: {
          options: {
            accessKeyId: "AKIAPLANTED0001",
            secretAccessKey: "PLANTsecretAWSvalue/abc+def",
            privateKey: "-----BEGIN PRIVATE KEY-----\nPLANTprivKEY99\n-----END PRIVATE KEY-----",
            sessionToken: "PLANTsess",
            region: "us-east-1",
            timeout: 30000,
            enabled: true,
            extra: null,
          },
        },
        az: { options: { clientCredential: "PLANTcred77" } },
      },
      mcp: { srv: { type: "local", command: ["npx", "srv", "--token", "PLANTmcpTOK12", 3, false], environment: { SRV_TOKEN: "PLANTenv" } } },
      username: "PLANTuser",
    })
    expect(shape).toEqual({
      provider: {
        aws: {
          options: {
            accessKeyId: REDACTED,
            secretAccessKey: REDACTED,
            privateKey: REDACTED,
            sessionToken: REDACTED,
            region: REDACTED,
            timeout: 30000,
            enabled: true,
            extra: null,
          },
        },
        az: { options: { clientCredential: REDACTED } },
      },
      mcp: { srv: { type: "local", command: [REDACTED, REDACTED, REDACTED, REDACTED, 3, false], environment: { SRV_TOKEN: REDACTED } } },
      username: REDACTED,
    })
    expect(JSON.stringify(shape)).not.toContain("PLANT")
  })

  test("the known harmless fields keep their value", () => {
    const config = {
      $schema: "https://opencode.ai/config.json",
      model: "opencode/big-pickle",
      small_model: "opencode/gpt-5-nano",
      provider: {
        mine: {
          npm: "@ai-sdk/openai-compatible",
          name: "My LLM",
          options: { baseURL: "https://llm.example.com/v1" },
          models: { "m-1": { name: "Model One" } },
        },
      },
    }
    expect(redact(config)).toEqual(config)
  })

  test("harmless names elsewhere in the tree do not keep their value", () => {
    const shape = redact({
      agent: { build: { model: "PLANTa", name: "PLANTb" } },
      provider: { p: { options: { name: "PLANTc", npm: "PLANTd", models: { x: { name: "PLANTe" } } } } },
      name: "PLANTf",
      npm: "PLANTg",
      baseURL: "https://PLANTh.example.com",
    })
    expect(JSON.stringify(shape)).not.toContain("PLANT")
  })

  test("a type that is not a plain identifier is redacted", () => {
    expect(redact({ mcp: { a: { type: "remote" }, b: { type: "PLANT secret value" }, c: { type: "x".repeat(40) } } })).toEqual({
      mcp: { a: { type: "remote" }, b: { type: REDACTED }, c: { type: REDACTED } },
    })
  })

  test("baseURL loses userinfo, query and fragment; a baseURL that is not a URL is redacted", () => {
    const shape = redact({
      provider: {
        a: { options: { baseURL: "https://PLANTuser:PLANTpass@llm.example.com/v1/?key=PLANTq#PLANTf" } },
        b: { options: { baseURL: "PLANTnotaurl" } },
        c: { options: { baseURL: "file:///PLANT/etc" } },
      },
    }) as { provider: Record<string, { options: { baseURL: string } }> }
    expect(shape.provider.a!.options.baseURL).toBe("https://llm.example.com/v1")
    expect(shape.provider.b!.options.baseURL).toBe(REDACTED)
    expect(shape.provider.c!.options.baseURL).toBe(REDACTED)
  })

  test("an {env:VAR} reference stays a reference (the variable's name, never its value)", () => {
    expect(redact({ provider: { p: { options: { apiKey: "{env:MY_KEY}", other: "x{env:MY_KEY}" } } } })).toEqual({
      provider: { p: { options: { apiKey: "{env:MY_KEY}", other: REDACTED } } },
    })
  })

  test("depth and width are bounded", () => {
    let deep: unknown = "PLANTdeep"
    for (let i = 0; i < 40; i++) deep = { d: deep }
    expect(JSON.stringify(redact(deep))).not.toContain("PLANT")
    const wide = redact(Array.from({ length: 2000 }, (_, i) => i)) as unknown[]
    expect(wide.length).toBeLessThanOrEqual(500)
  })
})
