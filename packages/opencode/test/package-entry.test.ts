import { expect, test } from "bun:test"
import * as Module from "@pawwork/opencode"

// The package's "." export must resolve and carry what docs/adopting.md tells a fork to call.
test("the package entry exports the runtime's namespaces", () => {
  for (const name of ["Identifier", "Installation", "Config", "Auth", "Identity", "Provider", "ProviderError", "SessionRetry", "SessionLLM", "SessionProcessor", "SessionDiagnostics"])
    expect(Module).toHaveProperty(name)
  expect(typeof Module.SessionRetry.next).toBe("function")
  expect(typeof Module.ProviderError.classify).toBe("function")
  expect(Module.Identifier.create("session")).toMatch(/^ses_[0-9a-f]{12}[0-9A-Za-z]{14}$/)
})
