import { expect, test } from "bun:test"
import { createHash } from "node:crypto"
import fs from "node:fs/promises"
import path from "node:path"
import { GO_UPSELL_MESSAGE } from "../src/session/retry"

/**
 * The license as it ships: LICENSE is the Apache License 2.0 word for word (the text apache.org
 * publishes as LICENSE-2.0.txt, whose SHA-256 this is), every package says so, and NOTICE quotes
 * the strings it lists exactly as the code holds them.
 */

const REPO = path.join(import.meta.dir, "..", "..", "..")
const APACHE_2_0_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"

test("LICENSE is the Apache License 2.0, verbatim", async () => {
  const text = await fs.readFile(path.join(REPO, "LICENSE"))
  expect(createHash("sha256").update(text).digest("hex")).toBe(APACHE_2_0_SHA256)
})

test("every package.json says Apache-2.0", async () => {
  const files = ["package.json", ...(await fs.readdir(path.join(REPO, "packages"))).map((name) => path.join("packages", name, "package.json"))]
  for (const file of files) expect({ file, license: JSON.parse(await fs.readFile(path.join(REPO, file), "utf8")).license }).toEqual({ file, license: "Apache-2.0" })
})

test("NOTICE quotes the upsell message exactly as the runtime sends it", async () => {
  const notice = await fs.readFile(path.join(REPO, "NOTICE"), "utf8")
  expect(notice).toContain(`"${GO_UPSELL_MESSAGE}"`)
})
