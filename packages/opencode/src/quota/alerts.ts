import fs from "node:fs/promises"
import path from "node:path"
import type { WindowName } from "./meters"
import { periodKey } from "./windows"

/**
 * "Once", across processes: a warning is given by whoever creates its marker file first
 * (O_EXCL), in `<data>/quota/alerts/`. A marker names the key (by fingerprint), the window, the
 * window's period (its reset, to the hour) and what was said, so the same threshold warns again
 * in the next period and never twice in one. A `blocked` marker holds the exact reset of a window
 * that refused, for the one "restored" notice after it. Markers are empty or a few bytes; those
 * older than any window are removed.
 */

/** Older than the longest window (a month) plus margin: nothing can refer to it any more. */
const MAX_AGE_MS = 45 * 86_400_000
const MAX_MARKERS = 2_000
const WINDOW_PART: Record<WindowName, string> = { "5 hour": "5h", weekly: "week", monthly: "month" }
const BY_PART = Object.fromEntries(Object.entries(WINDOW_PART).map(([name, part]) => [part, name as WindowName]))
const NAME = /^go\.(fp_[0-9a-f]{1,32})\.(5h|week|month)\.(\d{10})\.(t\d{1,3}|blocked|restored)$/

export function dir(quotaDir: string) {
  return path.join(quotaDir, "alerts")
}

export function thresholdName(fingerprint: string, window: WindowName, resetsAt: string | number, threshold: number) {
  return `go.${fingerprint}.${WINDOW_PART[window]}.${periodKey(resetsAt)}.t${threshold}`
}

export function blockedName(fingerprint: string, window: WindowName, resetsAt: string | number) {
  return `go.${fingerprint}.${WINDOW_PART[window]}.${periodKey(resetsAt)}.blocked`
}

export function restoredName(blocked: string) {
  return blocked.replace(/\.blocked$/, ".restored")
}

export interface Blocked {
  name: string
  fingerprint: string
  window: WindowName
  resetsAt: number
}

/**
 * Creates the marker; true when this call created it (this process says it), false when it was
 * there already. When no marker can be created at all (a read-only data dir) the caller's
 * in-process memory is all that keeps a warning from repeating.
 */
export async function claim(alertsDir: string, name: string, content = ""): Promise<boolean> {
  try {
    await fs.mkdir(alertsDir, { recursive: true, mode: 0o700 })
    const handle = await fs.open(path.join(alertsDir, name), "wx", 0o600)
    try {
      if (content) await handle.writeFile(content)
    } finally {
      await handle.close()
    }
    return true
  } catch (error) {
    // Nothing can be shared through a data dir that cannot be written: this process speaks for itself.
    return (error as NodeJS.ErrnoException).code !== "EEXIST"
  }
}

export async function remove(alertsDir: string, name: string) {
  await fs.unlink(path.join(alertsDir, name)).catch(() => {})
}

/** The marker names present, and the blocked windows with their exact resets; old markers are removed on the way. */
export async function scan(alertsDir: string, now: number): Promise<{ names: Set<string>; blocked: Blocked[] }> {
  const names = new Set<string>()
  const blocked: Blocked[] = []
  let entries: string[]
  try {
    entries = await fs.readdir(alertsDir)
  } catch {
    return { names, blocked }
  }
  for (const name of entries.slice(0, MAX_MARKERS)) {
    const match = NAME.exec(name)
    if (!match) continue
    const file = path.join(alertsDir, name)
    const stat = await fs.lstat(file).catch(() => undefined)
    if (!stat?.isFile()) continue
    if (now - stat.mtimeMs > MAX_AGE_MS) {
      await fs.unlink(file).catch(() => {})
      continue
    }
    names.add(name)
    if (match[4] !== "blocked") continue
    const text = stat.size <= 64 ? await fs.readFile(file, "utf8").catch(() => "") : ""
    const resetsAt = Date.parse(text.trim())
    if (Number.isFinite(resetsAt)) blocked.push({ name, fingerprint: match[1]!, window: BY_PART[match[2]!]!, resetsAt })
  }
  return { names, blocked }
}
