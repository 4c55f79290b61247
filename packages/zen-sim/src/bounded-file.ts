import { constants, type Stats } from "node:fs";
import fs from "node:fs/promises";

/**
 * Reads a file named on the command line (`--config`), bounded: only a regular file is read
 * (/dev/zero never ends, a FIFO blocks until someone writes), at most `maxBytes`, and a UTF-8 byte
 * order mark is dropped. A failure is a BoundedFileError whose message follows the path
 * ("is a FIFO (named pipe), not a regular file"). The runtime has the same discipline in
 * packages/opencode/src/util/read-file.ts; this package stands alone, so it keeps its own.
 */

export class BoundedFileError extends Error {
  override readonly name = "BoundedFileError";
}

// O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer (no effect on a regular file).
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

export async function readBoundedText(path: string, maxBytes: number): Promise<string> {
  // stat first, so a device or FIFO is never opened; fstat after opening, in case the path was swapped.
  check(await fs.stat(path).catch(fail), maxBytes);
  const handle = await fs.open(path, OPEN_FLAGS).catch(fail);
  try {
    check(await handle.stat(), maxBytes);
    const buffer = Buffer.alloc(maxBytes + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, total, maxBytes + 1 - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(maxBytes);
    }
    // TextDecoder drops a leading BOM.
    return new TextDecoder("utf-8").decode(buffer.subarray(0, total));
  } catch (error) {
    return fail(error);
  } finally {
    await handle.close().catch(() => {});
  }
}

function check(stat: Stats, maxBytes: number): void {
  if (stat.isDirectory()) throw new BoundedFileError("is a directory, not a file");
  if (!stat.isFile()) throw new BoundedFileError(`is ${kindOf(stat)}, not a regular file`);
  if (stat.size > maxBytes) throw tooLarge(maxBytes);
}

function kindOf(stat: Stats): string {
  if (stat.isFIFO()) return "a FIFO (named pipe)";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice()) return "a character device";
  if (stat.isBlockDevice()) return "a block device";
  return "a special file";
}

function tooLarge(maxBytes: number): BoundedFileError {
  return new BoundedFileError(`is larger than ${maxBytes / 1024 / 1024} MiB; check that it is the right file`);
}

function fail(error: unknown): never {
  if (error instanceof BoundedFileError) throw error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") throw new BoundedFileError("does not exist");
  if (code === "ELOOP") throw new BoundedFileError("is a symlink loop");
  if (code === "EACCES" || code === "EPERM") throw new BoundedFileError("cannot be read: permission denied; check its owner and mode");
  if (code === "ENXIO") throw new BoundedFileError("is a socket or another special file, not a regular file");
  throw new BoundedFileError(`cannot be read (${code ?? (error instanceof Error ? error.message : String(error))})`);
}

/** The offset where nesting first goes deeper than `max`, outside strings; iterative, so a hostile file cannot overflow the stack. */
export function nestingTooDeep(text: string, max: number): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    } else if (c === "{" || c === "[") {
      if (++depth > max) return i;
    } else if (c === "}" || c === "]") depth--;
  }
  return undefined;
}
