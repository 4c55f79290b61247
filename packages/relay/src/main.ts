#!/usr/bin/env bun
/** `bun run relay --config <file>`: the relay as a standalone server. */
import { readFile, stat } from "node:fs/promises"
import { applyOverrides, CliUsageError, parseCliArgs, USAGE } from "./cli-args"
import { parseConfig, RelayConfigError } from "./config"
import { InvalidUpstreamKeyError, MissingUpstreamKeyError, startRelay } from "./server"

const EXIT_USAGE = 2

class ConfigFileError extends Error {
  override readonly name = "ConfigFileError"
}

const MAX_CONFIG_BYTES = 1024 * 1024

async function readConfigFile(path: string): Promise<unknown> {
  // A regular file only: a FIFO would block the start until someone writes to it, a directory is not "missing".
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") throw new ConfigFileError(`config file ${path} does not exist`)
    if (error.code === "EACCES") throw new ConfigFileError(`config file ${path} cannot be read (permission denied; check its owner and mode)`)
    throw new ConfigFileError(`config file ${path} cannot be read (${error.code ?? "unknown error"})`)
  })
  if (info.isDirectory()) throw new ConfigFileError(`config file ${path} is a directory, not a file`)
  if (!info.isFile()) throw new ConfigFileError(`config file ${path} is not a regular file (a FIFO, socket or device): point --config at a JSON file`)
  if (info.size > MAX_CONFIG_BYTES) throw new ConfigFileError(`config file ${path} is larger than 1 MiB`)
  let text: string
  try {
    // TextDecoder drops a UTF-8 byte order mark, which JSON.parse would refuse.
    text = new TextDecoder().decode((await readFile(path)).subarray(0, MAX_CONFIG_BYTES))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ConfigFileError(`config file ${path} cannot be read (${code === "EACCES" ? "permission denied; check its owner and mode" : (code ?? "unknown error")})`)
  }
  try {
    return JSON.parse(text)
  } catch {
    // The parser's message can quote a piece of the file.
    throw new ConfigFileError(`config file ${path} is not valid JSON`)
  }
}

/** The Redis URL without its credentials or query: a password may itself hold an '@', so no pattern on the text. */
function redisForDisplay(url: string): string {
  const u = new URL(url)
  return `${u.protocol}//${u.username || u.password ? "…@" : ""}${u.host}${u.pathname}`
}

async function main(argv: string[]) {
  const command = parseCliArgs(argv)
  if (command.kind === "help") {
    console.log(USAGE)
    return
  }
  const base = command.configFile === undefined ? {} : await readConfigFile(command.configFile)
  if (typeof base !== "object" || base === null || Array.isArray(base)) throw new ConfigFileError(`config file ${command.configFile} must hold a JSON object`)
  let config
  try {
    config = parseConfig(applyOverrides(base as Record<string, unknown>, command.overrides))
  } catch (error) {
    if (error instanceof RelayConfigError)
      throw new ConfigFileError(
        command.configFile
          ? `invalid configuration (${command.configFile} and flags): ${error.message}`
          : `invalid configuration: ${error.message}. Pass --config <file> (packages/relay/relay.example.json has every field).`,
      )
    throw error
  }
  const relay = await startRelay({ config })
  console.log(`pawwork relay listening on ${relay.url}`)
  console.log(`  upstream: ${new URL(config.upstream.baseURL).origin} (key from $${config.upstream.keyEnv}), models: ${config.models.join(", ")}`)
  const l = config.limits
  console.log(
    `  per UTC day: ${l.installDailyRequests ?? "unlimited"} requests per install, ${l.ipDailyRequests ?? "unlimited"} per address, ${l.newInstallsPerIp ?? "unlimited"} new installs per address; redis ${redisForDisplay(config.redisUrl)} (${config.redisPolicy})`,
  )
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await relay.stop()
    process.exit(0)
  }
  process.on("SIGINT", stop)
  process.on("SIGTERM", stop)
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof CliUsageError) console.error(`relay: ${error.message}\n\n${USAGE}`)
  else if (error instanceof ConfigFileError || error instanceof MissingUpstreamKeyError || error instanceof InvalidUpstreamKeyError) console.error(`relay: ${error.message}`)
  else {
    console.error(`relay: could not start: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  }
  process.exit(EXIT_USAGE)
})
