import { afterAll, describe, expect, test } from "bun:test"
import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import * as AtomicFile from "../src/util/atomic-file"

/**
 * util/atomic-file.ts on real files: only regular files are replaced, symlinks are written through,
 * and a killed writer's temp file is private and removed by the next write.
 *
 * Safety (these tests run as root in CI): nothing here ever asks to write to /dev/null itself. The
 * real /dev/null is only ever lstat'ed (`resolve`) or reached through a symlink in a temp dir, which
 * a broken implementation would replace instead of the device; devices that may be written are
 * mknod'ed inside the temp dir.
 */

const roots: string[] = []
afterAll(() => Promise.all(roots.map((r) => fs.rm(r, { recursive: true, force: true }))))

async function tempDir() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-atomic-"))
  roots.push(dir)
  return dir
}

function mkfifo(file: string) {
  expect(Bun.spawnSync(["mkfifo", file]).exitCode).toBe(0)
}

const isRoot = process.getuid?.() === 0
const KILLED_WRITER = path.join(import.meta.dir, "fixture", "killed-writer-process.ts")

async function deadPid() {
  const proc = Bun.spawn(["true"])
  await proc.exited
  return proc.pid
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(AtomicFile.NotRegularFileError)
  return error as AtomicFile.NotRegularFileError
}

describe("only regular files are replaced", () => {
  test("/dev/null is seen as a character device and refused (checked with lstat only, nothing written)", async () => {
    const error = await refusal(AtomicFile.resolve("/dev/null"))
    expect(error.message).toContain("/dev/null is a character device, not a regular file, so nothing was written")
    expect(error.code).toBe("not_a_regular_file")
  })

  test("a FIFO, a socket and a directory are refused before a temp file is made; each stays as it was", async () => {
    const dir = await tempDir()
    const fifo = path.join(dir, "fifo.json")
    mkfifo(fifo)
    const folder = path.join(dir, "folder.json")
    await fs.mkdir(folder)
    await fs.writeFile(path.join(folder, "inside"), "kept")
    const socket = path.join(dir, "socket.json")
    const listener = Bun.listen({ unix: socket, socket: { data() {} } })
    try {
      for (const [file, found] of [
        [fifo, "a FIFO (named pipe)"],
        [socket, "a socket"],
        [folder, "a directory"],
      ] as const) {
        // One at a time: a second call started beside the first could reject before anything
        // awaited it, which the test runner reports as an unhandled rejection.
        for (const attempt of [() => AtomicFile.write(file, "secret"), () => AtomicFile.create(file, "secret")]) {
          const error = await refusal(attempt())
          expect(error.message).toContain(`${file} is ${found}, not a regular file`)
          expect(error.message).toContain("Point at a regular file, or move what is there out of the way")
        }
      }
      expect((await fs.lstat(fifo)).isFIFO()).toBe(true)
      expect((await fs.lstat(socket)).isSocket()).toBe(true)
      expect(await fs.readFile(path.join(folder, "inside"), "utf8")).toBe("kept")
      expect((await fs.readdir(dir)).sort()).toEqual(["fifo.json", "folder.json", "socket.json"])
    } finally {
      listener.stop(true)
    }
  })

  test.skipIf(!isRoot)("a character device node (made in a temp dir) is refused and stays a device", async () => {
    const dir = await tempDir()
    const device = path.join(dir, "null")
    // The same device as /dev/null, but a node this test may lose if the code under test is wrong.
    expect(Bun.spawnSync(["mknod", device, "c", "1", "3"]).exitCode).toBe(0)
    await refusal(AtomicFile.write(device, "secret"))
    expect((await fs.lstat(device)).isCharacterDevice()).toBe(true)
    expect(await fs.readdir(dir)).toEqual(["null"])
  })
})

describe("symbolic links are written through", () => {
  test("the link stays; the file it points at gets the content atomically, mode 0600; no temp file anywhere", async () => {
    const dir = await tempDir()
    await fs.mkdir(path.join(dir, "data"))
    await fs.mkdir(path.join(dir, "dotfiles"))
    const target = path.join(dir, "dotfiles", "auth.json")
    await fs.writeFile(target, "old", { mode: 0o644 })
    const link = path.join(dir, "data", "auth.json")
    await fs.symlink("../dotfiles/auth.json", link)
    expect(await AtomicFile.write(link, "new")).toBe(target)
    expect((await fs.lstat(link)).isSymbolicLink()).toBe(true)
    expect(await fs.readlink(link)).toBe("../dotfiles/auth.json")
    expect(await fs.readFile(target, "utf8")).toBe("new")
    expect((await fs.stat(target)).mode & 0o777).toBe(0o600)
    expect(await fs.readdir(path.join(dir, "data"))).toEqual(["auth.json"])
    expect(await fs.readdir(path.join(dir, "dotfiles"))).toEqual(["auth.json"])
  })

  test("a chain of links is followed to its end; a dangling link gets the file it names created", async () => {
    const dir = await tempDir()
    await fs.symlink("b.json", path.join(dir, "a.json"))
    await fs.symlink("sub/c.json", path.join(dir, "b.json"))
    await AtomicFile.write(path.join(dir, "a.json"), "made")
    expect(await fs.readFile(path.join(dir, "sub", "c.json"), "utf8")).toBe("made")
    expect((await fs.lstat(path.join(dir, "a.json"))).isSymbolicLink()).toBe(true)
    expect((await fs.lstat(path.join(dir, "b.json"))).isSymbolicLink()).toBe(true)
    // create() through a dangling link publishes once, then refuses to replace.
    await fs.symlink("d.json", path.join(dir, "e.json"))
    await AtomicFile.create(path.join(dir, "e.json"), "first")
    await expect(AtomicFile.create(path.join(dir, "e.json"), "second")).rejects.toMatchObject({ code: "EEXIST" })
    expect(await fs.readFile(path.join(dir, "d.json"), "utf8")).toBe("first")
  })

  test("a link to /dev/null, to a FIFO or to a directory is refused: the link and what it points at stay", async () => {
    const dir = await tempDir()
    const toNull = path.join(dir, "null.json")
    await fs.symlink("/dev/null", toNull)
    const fifo = path.join(dir, "fifo")
    mkfifo(fifo)
    const toFifo = path.join(dir, "fifo.json")
    await fs.symlink("fifo", toFifo)
    const toDir = path.join(dir, "dir.json")
    await fs.symlink(os.tmpdir(), toDir)
    const error = await refusal(AtomicFile.write(toNull, "secret"))
    expect(error.message).toContain(`${toNull} (a symbolic link to /dev/null) is a character device`)
    await refusal(AtomicFile.write(toFifo, "secret"))
    await refusal(AtomicFile.write(toDir, "secret"))
    expect(await fs.readlink(toNull)).toBe("/dev/null")
    expect((await fs.lstat("/dev/null")).isCharacterDevice()).toBe(true)
    expect(await fs.readlink(toFifo)).toBe("fifo")
    expect((await fs.lstat(fifo)).isFIFO()).toBe(true)
    expect(await fs.readlink(toDir)).toBe(os.tmpdir())
    expect((await fs.readdir(dir)).sort()).toEqual(["dir.json", "fifo", "fifo.json", "null.json"])
  })

  // lchown needs root; as another user the kernel's own rule already stops such a link.
  test.skipIf(!isRoot)("another user's link in a shared sticky folder (a /tmp) is refused, as the kernel's protected_symlinks does; our own is followed", async () => {
    const shared = await tempDir()
    await fs.chmod(shared, 0o1777)
    const victim = path.join(await tempDir(), "authorized_keys")
    await fs.writeFile(victim, "mine\n")
    const planted = path.join(shared, "pawwork-bundle.json")
    await fs.symlink(victim, planted)
    await fs.lchown(planted, 65534, 65534)
    const error = await refusal(AtomicFile.write(planted, "bundle"))
    expect(error.message).toContain("another user")
    expect(await fs.readFile(victim, "utf8")).toBe("mine\n")
    await refusal(AtomicFile.create(path.join(shared, "pawwork-bundle.json"), "bundle"))
    const ours = path.join(shared, "ours.json")
    await fs.symlink(victim, ours)
    await AtomicFile.write(ours, "new\n")
    expect(await fs.readFile(victim, "utf8")).toBe("new\n")
  })

  test("a link loop is a clear error, not a hang or an ELOOP", async () => {
    const dir = await tempDir()
    await fs.symlink("b", path.join(dir, "a"))
    await fs.symlink("a", path.join(dir, "b"))
    const error = await refusal(AtomicFile.write(path.join(dir, "a"), "x"))
    expect(error.message).toContain("a symbolic link loop")
  })
})

describe("a writer killed mid-write", () => {
  test("its temp file is 0600 from creation even under umask 000, recognisable, and removed by the next write", async () => {
    const dir = await tempDir()
    const target = path.join(dir, "auth.json")
    await fs.writeFile(target, "{}", { mode: 0o600 })
    const secret = `killed-writer-${crypto.randomUUID()}`
    const child = Bun.spawn(["sh", "-c", 'umask 000 && exec bun "$0" "$1" "$2"', KILLED_WRITER, target, secret], { stdout: "pipe", stderr: "pipe" })
    const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited])
    expect(child.signalCode).toBe("SIGKILL")
    expect(code).not.toBe(0)
    const leftover = stdout.trim()
    expect(path.dirname(leftover)).toBe(dir)
    expect(AtomicFile.isTempFor("auth.json", path.basename(leftover))).toBe(true)
    expect(await fs.readFile(leftover, "utf8")).toBe(secret)
    expect((await fs.stat(leftover)).mode & 0o777).toBe(0o600)

    // Another writer of this target is running right now (this process): its temp file must stay.
    const inFlight = `${target}.${process.pid}.0123456789abcdef.tmp`
    await fs.writeFile(inFlight, "in flight", { mode: 0o600 })
    // One left by an older version of this code (8 hex), from a process long gone.
    const legacy = `${target}.${await deadPid()}.89abcdef.tmp`
    await fs.writeFile(legacy, secret, { mode: 0o644 })
    // Not ours at all: a name that only looks alike.
    const unrelated = path.join(dir, "auth.json.backup.tmp")
    await fs.writeFile(unrelated, "mine")

    await AtomicFile.write(target, '{"new":true}')
    expect((await fs.readdir(dir)).sort()).toEqual([path.basename(target), path.basename(inFlight), path.basename(unrelated)].sort())
    expect(await fs.readFile(target, "utf8")).toBe('{"new":true}')
    expect((await fs.stat(target)).mode & 0o777).toBe(0o600)
  })
})
