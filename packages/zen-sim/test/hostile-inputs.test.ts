import { afterEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdtemp, rm, symlink, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_REPLY_CHARS, parseConfig, SimConfigError } from "../src/config.ts";
import { chat, startTestSim } from "./helpers.ts";

// Several real CLI processes per test: allow for a loaded machine (a blocked read is still killed at 30 s).
setDefaultTimeout(60_000);

/**
 * Inputs that used to take the simulator down: a huge configured reply, a clock pushed past what
 * a Date can hold, a --now it cannot show, and --config naming a FIFO, a device or a hostile file.
 * Each is refused up front, naming the field or the file.
 */

const MAIN = join(import.meta.dir, "..", "src", "main.ts");

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function tempDir() {
  dir = await mkdtemp(join(tmpdir(), "zen-sim-hostile-"));
  return dir;
}

/** The CLI with a hard stop: a start that blocks (or serves) instead of refusing fails the test. */
async function runSim(args: string[]) {
  const child = Bun.spawn(["bun", MAIN, ...args], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { stdout, stderr, code, killed: child.signalCode !== null };
}

describe("configured reply", () => {
  test("a 10 MB reply is refused by validation, naming the field", () => {
    const error = (() => {
      try {
        parseConfig({ reply: "word ".repeat(2_000_000) });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SimConfigError);
    expect((error as SimConfigError).field).toBe("reply");
    expect((error as SimConfigError).message).toContain(`at most ${MAX_REPLY_CHARS} characters`);
    // A long reply a test streams (client-abort.test.ts) still fits.
    expect(() => parseConfig({ reply: "word ".repeat(50_000) })).not.toThrow();
  });

  test("POST /__sim/config with one answers 400 and keeps serving", async () => {
    const s = await startTestSim();
    try {
      const res = await fetch(`${s.url}/__sim/config`, { method: "POST", body: JSON.stringify({ reply: "x ".repeat(5_000_000) }) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { field: string } }).error.field).toBe("reply");
      expect((await chat(s.zenBaseURL, { model: "big-pickle" })).status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});

describe("the clock", () => {
  test("advanceMs: 1e308 is a 400 naming the field, and requests still succeed", async () => {
    const s = await startTestSim();
    try {
      const before = s.clock.now().toISOString();
      const res = await fetch(`${s.url}/__sim/clock`, { method: "POST", body: JSON.stringify({ advanceMs: 1e308 }) });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { field: string; message: string } };
      expect(body.error.field).toBe("advanceMs");
      expect(body.error.message).toContain("out of range");
      expect(s.clock.now().toISOString()).toBe(before);
      expect((await chat(s.zenBaseURL, { model: "big-pickle" })).status).toBe(200);
      const back = await fetch(`${s.url}/__sim/clock`, { method: "POST", body: JSON.stringify({ advanceMs: -1e15 }) });
      expect(back.status).toBe(400);
    } finally {
      await s.stop();
    }
  });

  test("a set time the clock cannot show is a 400 naming `set`", async () => {
    const s = await startTestSim();
    try {
      const res = await fetch(`${s.url}/__sim/clock`, { method: "POST", body: JSON.stringify({ set: "+275760-09-13T00:00:00.000Z" }) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { field: string } }).error.field).toBe("set");
      expect(() => s.clock.advance(1e308)).toThrow(RangeError);
    } finally {
      await s.stop();
    }
  });

  test("an out-of-range --now exits 2 with a clear message before listening", async () => {
    const out = await runSim(["--now", "+275760-09-13T00:00:00.000Z"]);
    expect(out.killed).toBe(false);
    expect(out.code).toBe(2);
    expect(out.stdout).not.toContain("listening");
    expect(out.stderr).toContain("--now: out of range");
  });

  test("config times the clock cannot show are refused by validation", () => {
    expect(() =>
      parseConfig({ workspaces: [{ id: "w1", members: [{ userID: "u1", go: { subscribedAt: "+100000-01-01T00:00:00Z" } }] }] }),
    ).toThrow("workspaces[0].members[0].go.subscribedAt: out of range");
  });
});

describe("--config names a hostile file", () => {
  test("a FIFO, /dev/zero, a directory: refused at once, exit 2, naming the file", async () => {
    const d = await tempDir();
    const fifo = join(d, "pipe.json");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    for (const [file, problem] of [
      [fifo, "is a FIFO (named pipe), not a regular file"],
      ["/dev/zero", "is a character device, not a regular file"],
      [d, "is a directory, not a file"],
    ] as const) {
      const out = await runSim(["--config", file]);
      expect(out.killed).toBe(false);
      expect(out.code).toBe(2);
      expect(out.stderr).toContain(`config file ${file} ${problem}`);
    }
  });

  test("a symlink loop, a file over 8 MiB, 100k levels of nesting: each named", async () => {
    const d = await tempDir();
    const loop = join(d, "loop.json");
    await symlink(loop, loop);
    const big = join(d, "big.json");
    await writeFile(big, "");
    await truncate(big, 8 * 1024 * 1024 + 1);
    const deep = join(d, "deep.json");
    await writeFile(deep, `{"faults":[{"status":500,"metadata":{"a":${"[".repeat(100_000)}${"]".repeat(100_000)}}}]}`);
    for (const [file, problem] of [
      [loop, "is a symlink loop"],
      [big, "is larger than 8 MiB"],
      [deep, "is nested deeper than 64 levels"],
    ] as const) {
      const out = await runSim(["--config", file]);
      expect(out.killed).toBe(false);
      expect(out.code).toBe(2);
      expect(out.stderr).toContain(`config file ${file} ${problem}`);
    }
  });

  test("a config file with a UTF-8 BOM loads", async () => {
    const d = await tempDir();
    const file = join(d, "bom.json");
    await writeFile(file, `\ufeff${JSON.stringify({ freeDailyLimit: 1 })}`);
    const child = Bun.spawn(["bun", MAIN, "--config", file], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
    try {
      const reader = child.stdout.getReader();
      let text = "";
      while (!/free 1\/day/.test(text)) {
        const { done, value } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(text).toContain("free 1/day");
    } finally {
      child.kill("SIGTERM");
      await child.exited;
    }
  });
});
