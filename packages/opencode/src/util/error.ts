/**
 * Base for the runtime's own user-facing errors. The message is the paragraph the CLI prints:
 * it names the problem and what to do about it. `code` is stable for `--json` output and tests.
 */
export abstract class RuntimeError extends Error {
  abstract readonly code: string
  static isInstance(value: unknown): value is RuntimeError {
    return value instanceof RuntimeError
  }
}
