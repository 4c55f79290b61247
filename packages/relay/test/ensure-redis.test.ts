import { afterAll, beforeAll, expect, test } from "bun:test"
import { chmod, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

/**
 * scripts/ensure-redis.sh, as .ci/run sources it on a fresh machine without redis-server: run by
 * bash with a PATH of stand-ins (apt-get that records how it was called and "installs" a
 * redis-server, sudo that resets the environment as sudo's default env_reset does), no stdin, CI=true.
 */

const SCRIPT = resolve(import.meta.dir, "../../../scripts/ensure-redis.sh")
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ensure-redis-"))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

async function fakeMachine(name: string, options: { uid: number; sudo: boolean; aptGet: boolean }) {
  const bin = join(dir, name, "bin")
  await Bun.$`mkdir -p ${bin}`.quiet()
  const log = join(dir, name, "apt.log")
  const write = async (file: string, text: string) => {
    await writeFile(join(bin, file), text)
    await chmod(join(bin, file), 0o755)
  }
  if (options.aptGet)
    await write(
      "apt-get",
      `#!/bin/bash\necho "$* frontend=\${DEBIAN_FRONTEND:-unset}" >> ${log}\nif [[ "$*" == *install* ]]; then printf '#!/bin/sh\\necho Redis server v=7.0.15\\n' > ${bin}/redis-server; chmod +x ${bin}/redis-server; fi\n`,
    )
  await write("id", `#!/bin/sh\necho ${options.uid}\n`)
  if (options.sudo) await write("sudo", `#!/bin/bash\n[ "$1" = -n ] && shift\n[ "$1" = true ] && exit 0\nexec /usr/bin/env -i PATH="$PATH" "$@"\n`)
  for (const tool of ["env", "chmod"]) await symlink(Bun.which(tool)!, join(bin, tool))
  const run = Bun.spawnSync(["/bin/bash", "-c", `set -euo pipefail; . ${SCRIPT}`], {
    env: { PATH: bin, CI: "true" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  })
  const apt = await readFile(log, "utf8").catch(() => "")
  return { code: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString(), apt: apt.trim().split("\n").filter(Boolean) }
}

test("as root: apt-get update, then a non-interactive install of redis-server", async () => {
  const r = await fakeMachine("root", { uid: 0, sudo: false, aptGet: true })
  expect(r.code).toBe(0)
  expect(r.apt).toEqual(["update -qq frontend=noninteractive", "install -y -qq redis-server frontend=noninteractive"])
  expect(r.stdout).toContain("Redis server v=7")
})

test("through passwordless sudo: still non-interactive, though sudo resets the environment", async () => {
  const r = await fakeMachine("sudo", { uid: 1000, sudo: true, aptGet: true })
  expect(r.code).toBe(0)
  expect(r.apt).toEqual(["update -qq frontend=noninteractive", "install -y -qq redis-server frontend=noninteractive"])
})

test("without root or sudo, or without apt-get: stops with what to do, installs nothing", async () => {
  const user = await fakeMachine("user", { uid: 1000, sudo: false, aptGet: true })
  expect(user.code).toBe(1)
  expect(user.stderr).toContain("apt-get install -y redis-server")
  expect(user.apt).toEqual([])
  const other = await fakeMachine("no-apt", { uid: 0, sudo: false, aptGet: false })
  expect(other.code).toBe(1)
  expect(other.stderr).toContain("install Redis 7")
})
