import os from "node:os"
import path from "node:path"

export type Env = Record<string, string | undefined>

export interface Paths {
  /** `$XDG_DATA_HOME/opencode`: auth.json, the install identity, logs. */
  data: string
  /** The opencode.json in force: `OPENCODE_CONFIG`, else `$XDG_CONFIG_HOME/opencode/opencode.json`. */
  config: string
}

// Resolved from an explicit env (not a module-level constant) so tests and the demo can run
// several isolated installs in one process without touching the user's real directories.
export function resolve(env: Env = process.env): Paths {
  const home = env.HOME || os.homedir()
  const dataHome = nonEmpty(env.XDG_DATA_HOME) ?? path.join(home, ".local", "share")
  const configHome = nonEmpty(env.XDG_CONFIG_HOME) ?? path.join(home, ".config")
  return {
    data: path.join(dataHome, "opencode"),
    config: nonEmpty(env.OPENCODE_CONFIG) ?? path.join(configHome, "opencode", "opencode.json"),
  }
}

function nonEmpty(value: string | undefined) {
  return value && value.trim() !== "" ? value : undefined
}
