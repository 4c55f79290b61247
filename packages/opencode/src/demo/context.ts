import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import type { Simulator } from "@pawwork/zen-sim"

/** What every demo scenario gets: an embedded simulator, throwaway installs, and a printer. */
export interface DemoContext {
  sim: Simulator
  /** Every install made so far, in order (the diagnose scenario reads their logs). */
  installs: DemoInstall[]
  /** A fresh isolated install (own HOME/XDG dirs) whose opencode providers point at the simulator. */
  install(name: string, options?: { env?: Record<string, string>; config?: Record<string, unknown> }): Promise<DemoInstall>
  print(text?: string): void
  heading(title: string): void
}

export interface DemoInstall {
  name: string
  env: Record<string, string | undefined>
  dataDir: string
}

export interface Scenario {
  title: string
  run(ctx: DemoContext): Promise<void>
}

export async function makeContext(sim: Simulator, root: string): Promise<DemoContext> {
  const installs: DemoInstall[] = []
  return {
    sim,
    installs,
    async install(name, options = {}) {
      const dir = path.join(root, name)
      const configFile = path.join(dir, "config", "opencode", "opencode.json")
      await fs.mkdir(path.dirname(configFile), { recursive: true })
      const config = {
        ...options.config,
        provider: {
          opencode: { options: { baseURL: sim.zenBaseURL } },
          "opencode-go": { options: { baseURL: sim.goBaseURL } },
          ...(options.config?.provider as Record<string, unknown> | undefined),
        },
      }
      await fs.writeFile(configFile, JSON.stringify(config, null, 2))
      const made: DemoInstall = {
        name,
        dataDir: path.join(dir, "data", "opencode"),
        env: {
          PATH: process.env.PATH,
          HOME: path.join(dir, "home"),
          XDG_DATA_HOME: path.join(dir, "data"),
          XDG_CONFIG_HOME: path.join(dir, "config"),
          ...options.env,
        },
      }
      installs.push(made)
      return made
    },
    print: (text = "") => console.log(text),
    heading: (title) => console.log(`\n=== ${title} ${"=".repeat(Math.max(0, 70 - title.length))}`),
  }
}

export async function tempRoot() {
  return fs.mkdtemp(path.join(os.tmpdir(), "pawwork-demo-"))
}
