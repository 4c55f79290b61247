/**
 * Reads the OpenCode version out of a User-Agent, for the optional `session+ua` rule of the
 * free-tier gate. OpenCode sends `opencode/<channel>/<version>/<client>` (e.g.
 * `opencode/latest/1.18.3/cli`); third-party reports write `opencode/<version>`. Both are read
 * the same way: the first product token must be `opencode` (any case), and its version is the
 * first `/`-separated field after it that is a semantic version. Anything else has no version.
 */

const SEMVER = /^(\d{1,9})\.(\d{1,9})\.(\d{1,9})(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;
/** Longer than any real User-Agent: bounds the work done on a hostile header. */
const MAX_USER_AGENT = 512;

export interface Version {
  core: [number, number, number];
  /** Pre-release label (`beta.2`), or null for a release. */
  pre: string | null;
}

export function parseVersion(text: string): Version | null {
  const match = SEMVER.exec(text);
  if (!match) return null;
  return { core: [Number(match[1]), Number(match[2]), Number(match[3])], pre: match[4] ?? null };
}

/** The OpenCode version a User-Agent claims, or null when it is not an OpenCode User-Agent with one. */
export function openCodeVersion(userAgent: string | null): Version | null {
  if (userAgent === null || userAgent.length > MAX_USER_AGENT) return null;
  const product = userAgent.trim().split(/\s/, 1)[0] ?? "";
  const [name, ...fields] = product.split("/");
  if (name?.toLowerCase() !== "opencode") return null;
  for (const field of fields) {
    const version = parseVersion(field);
    if (version) return version;
  }
  return null;
}

/**
 * Whether `version` is at least the release `minimum` (`[major, minor, patch]`), by
 * semantic-version precedence: a pre-release is below its own release (`1.17.0-beta.1` <
 * `1.17.0`), so a beta of the minimum does not pass.
 */
export function isAtLeast(version: Version, minimum: readonly [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) {
    const a = version.core[i]!;
    const b = minimum[i]!;
    if (a !== b) return a > b;
  }
  return version.pre === null;
}
