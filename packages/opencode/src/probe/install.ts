import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import * as Auth from "../auth"
import type { Target } from "./target"

/** How a probe install gets its key: none (anonymous `public`), the env variable, or saved in auth.json. */
export type KeyPlacement = { kind: "none" } | { kind: "env"; key: string } | { kind: "saved"; key: string }

export interface ProbeInstall {
  /** An environment naming only this install's own HOME and XDG directories (and its env key). */
  env: Record<string, string | undefined>
  root: string
}

/**
 * A fresh install in its own throwaway directory: its own data dir (so its own install token,
 * created on first use), and an opencode.json pointing both OpenCode providers at the target.
 * Nothing of the user's (auth.json, opencode.json, OPENCODE_API_KEY, the identity opt-out) is read:
 * the environment is built from nothing, so the probe measures a clean install.
 */
export async function create(parent: string, name: string, target: Target, key: KeyPlacement): Promise<ProbeInstall> {
  const root = await fs.mkdtemp(path.join(parent, `${name}-`))
  const env: Record<string, string | undefined> = {
    HOME: path.join(root, "home"),
    XDG_DATA_HOME: path.join(root, "data"),
    XDG_CONFIG_HOME: path.join(root, "config"),
    ...(key.kind === "env" ? { OPENCODE_API_KEY: key.key } : {}),
  }
  const configFile = path.join(root, "config", "opencode", "opencode.json")
  await fs.mkdir(path.dirname(configFile), { recursive: true, mode: 0o700 })
  const config = { provider: { opencode: { options: { baseURL: target.zenBaseURL } }, "opencode-go": { options: { baseURL: target.goBaseURL } } } }
  await fs.writeFile(configFile, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 })
  if (key.kind === "saved") {
    await Auth.set("opencode", { type: "api", key: key.key }, env)
    await Auth.set("opencode-go", { type: "api", key: key.key }, env)
  }
  return { env, root }
}

/** The parent of one probe run's installs; removed as a whole afterwards. */
export function makeRoot() {
  return fs.mkdtemp(path.join(os.tmpdir(), "pawwork-probe-"))
}

export function removeRoot(root: string) {
  return fs.rm(root, { recursive: true, force: true })
}
