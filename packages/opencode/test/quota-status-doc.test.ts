import { describe, expect, test } from "bun:test"
import path from "node:path"
import { z } from "zod"
import { Config } from "../src/config"
import { StatusReport, Waybar } from "../src/quota/status-schema"

/** docs/status.md documents every field of the `status --json` schema, of Waybar's JSON and of `pawwork.quota`. */

const doc = await Bun.file(path.join(import.meta.dir, "..", "..", "..", "docs", "status.md")).text()

function paths(schema: z.ZodType, prefix = ""): string[] {
  const unwrapped = schema instanceof z.ZodNullable || schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema
  if (unwrapped instanceof z.ZodArray) return paths(unwrapped.element as z.ZodType, `${prefix}[]`)
  if (!(unwrapped instanceof z.ZodObject)) return prefix ? [prefix] : []
  return Object.entries(unwrapped.shape as Record<string, z.ZodType>).flatMap(([key, child]) => [
    `${prefix}${prefix ? "." : ""}${key}`,
    ...paths(child, `${prefix}${prefix ? "." : ""}${key}`).filter((p) => p !== `${prefix}${prefix ? "." : ""}${key}`),
  ])
}

describe("docs/status.md", () => {
  test("every field of StatusReport is named", () => {
    const missing = paths(StatusReport).filter((p) => {
      const leaf = p.split(/\.|\[\]/).filter(Boolean).at(-1)!
      return !doc.includes(`\`${p}`) && !doc.includes(`\`${leaf}\``) && !doc.includes(`.${leaf}`)
    })
    expect(missing).toEqual([])
    expect(paths(StatusReport).length).toBeGreaterThan(40)
  })

  test("every Waybar field and every pawwork.quota setting is named", () => {
    for (const key of Object.keys(Waybar.shape)) expect(doc.includes(`\`${key}\``)).toBe(true)
    for (const key of Object.keys(Config.QuotaSettings.shape)) if (key !== "console") expect(doc.includes(`| \`${key}\``)).toBe(true)
    const consoleShape = (Config.QuotaSettings.shape.console.unwrap() as z.ZodObject).shape
    for (const key of Object.keys(consoleShape)) expect(doc.includes(`| \`console.${key}\``)).toBe(true)
  })
})
