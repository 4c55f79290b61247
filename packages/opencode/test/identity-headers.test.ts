import { describe, expect, test } from "bun:test"
import { SessionHeaders } from "../src/session"

const base = { projectID: "global", sessionID: "ses_1", requestID: "msg_1", client: "cli" }
const TOKEN = "pwi_" + "x".repeat(43)

describe("x-pawwork-install in the header builder", () => {
  for (const providerID of ["opencode", "opencode-go"])
    test(`${providerID}: sent alongside the x-opencode-* headers`, () => {
      const headers = SessionHeaders.build({ ...base, providerID, install: TOKEN })
      expect(headers["x-pawwork-install"]).toBe(TOKEN)
      expect(headers["x-opencode-session"]).toBe("ses_1")
    })

  test("any other provider: never, even when a token is passed", () => {
    const headers = SessionHeaders.build({ ...base, providerID: "mycustom", install: TOKEN })
    expect(headers).toEqual({ "x-session-affinity": "ses_1" })
  })

  test("no token (opted out): no header", () => {
    const headers = SessionHeaders.build({ ...base, providerID: "opencode" })
    expect(Object.keys(headers)).not.toContain("x-pawwork-install")
    expect(Object.values(headers)).not.toContain(TOKEN)
  })
})
