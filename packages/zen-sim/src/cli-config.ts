import { randomBytes } from "node:crypto";
import { BoundedFileError, nestingTooDeep, readBoundedText } from "./bounded-file.ts";
import type { CliCommand } from "./cli-args.ts";
import { parseConfig, SimConfigError, type SimConfigInput, type WorkspaceConfig } from "./config.ts";

/** Builds the simulator's config from the `--config` file, flag overrides and `--key`/`--go-key` workspaces. */

export class ConfigFileError extends Error {
  override readonly name = "ConfigFileError";
}

type RunCommand = Extract<CliCommand, { kind: "run" }>;

export interface KeyWorkspace {
  key: string;
  kind: "zen" | "go";
  workspaceID: string;
}

export async function buildCliConfig(command: RunCommand): Promise<{ config: SimConfigInput; keyWorkspaces: KeyWorkspace[] }> {
  const base = command.configFile === undefined ? {} : await readConfigFile(command.configFile);
  const keyWorkspaces = [
    ...command.zenKeys.map((key): KeyWorkspace => ({ key, kind: "zen", workspaceID: newID("wrk_") })),
    ...command.goKeys.map((key): KeyWorkspace => ({ key, kind: "go", workspaceID: newID("wrk_") })),
  ];
  const added: SimConfigInput["workspaces"] = keyWorkspaces.map((k) => ({
    id: k.workspaceID,
    balanceUSD: k.kind === "zen" ? 20 : 0,
    members: [{ userID: newID("usr_"), role: "admin", keys: [k.key], go: k.kind === "go" ? {} : null }],
  }));
  const config: SimConfigInput = {
    ...base,
    ...command.overrides,
    workspaces: [...(base.workspaces ?? []), ...added],
  };
  return { config, keyWorkspaces };
}

/** A config file is a few KiB; this is far above any real one. */
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
/** Nesting deeper than this is refused before parsing: the schema's deepest path is a few levels. */
const MAX_CONFIG_DEPTH = 64;

async function readConfigFile(path: string): Promise<SimConfigInput> {
  let text: string;
  try {
    text = await readBoundedText(path, MAX_CONFIG_BYTES);
  } catch (error) {
    if (error instanceof BoundedFileError) throw new ConfigFileError(`config file ${path} ${error.message}`);
    throw error;
  }
  if (nestingTooDeep(text, MAX_CONFIG_DEPTH) !== undefined) {
    throw new ConfigFileError(`config file ${path} is nested deeper than ${MAX_CONFIG_DEPTH} levels; check that it is the right file`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's own message can quote a fragment of the file, which may be a key.
    throw new ConfigFileError(`config file ${path} is not valid JSON`);
  }
  try {
    parseConfig(json);
  } catch (error) {
    if (error instanceof SimConfigError) throw new ConfigFileError(`config file ${path}: ${error.message}`);
    throw error;
  }
  return json as SimConfigInput;
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Shaped like console ids (prefix + 26 Crockford base32 characters), random so they say nothing about the key.
function newID(prefix: string): string {
  return prefix + Array.from(randomBytes(26), (b) => CROCKFORD[b % 32]).join("");
}
