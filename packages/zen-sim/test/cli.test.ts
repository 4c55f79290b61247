import { describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCliArgs, CliUsageError } from "../src/cli-args.ts";
import { fingerprint } from "../src/index.ts";
import { chat, randomSecret } from "./helpers.ts";

const MAIN = join(import.meta.dir, "..", "src", "main.ts");

function spawnSim(args: string[]) {
  return Bun.spawn(["bun", MAIN, ...args], { stdout: "pipe", stderr: "pipe" });
}

/** Collects a child's output as it arrives; `ended` settles when the stream closes. */
function collect(stream: ReadableStream<Uint8Array>): { text: () => string; ended: Promise<void> } {
  let text = "";
  const decoder = new TextDecoder();
  const ended = (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
    text += decoder.decode();
  })();
  return { text: () => text, ended };
}

/** Waits for the listening line and returns the URL it names. */
async function waitForURL(stdout: { text: () => string; ended: Promise<void> }): Promise<string> {
  let closed = false;
  void stdout.ended.then(() => (closed = true));
  for (;;) {
    const match = /^zen-sim listening on (http:\/\/\S+)\n/m.exec(stdout.text());
    if (match?.[1]) return match[1];
    if (closed) throw new Error(`simulator exited before listening; output: ${stdout.text()}`);
    await Bun.sleep(10);
  }
}

describe("bun run sim", () => {
  test("serves with the flags given, never prints keys, and exits 0 on SIGTERM", async () => {
    const zenKey = randomSecret("sk-cli-zen-");
    const goKey = randomSecret("sk-cli-go-");
    const child = spawnSim(["--port", "0", "--key", zenKey, "--go-key", goKey, "--free-daily-limit", "1", "--no-new-client-bonus"]);
    const stdout = collect(child.stdout);
    try {
      const url = await waitForURL(stdout);
      expect((await chat(`${url}/zen/v1`, { model: "gpt-5.1", key: zenKey })).status).toBe(200);
      expect((await chat(`${url}/zen/go/v1`, { model: "glm-5", key: goKey })).status).toBe(200);
      expect((await chat(`${url}/zen/v1`, { model: "big-pickle" })).status).toBe(200);
      expect((await chat(`${url}/zen/v1`, { model: "big-pickle" })).status).toBe(429);

      child.kill("SIGTERM");
      expect(await child.exited).toBe(0);
      await stdout.ended;
      const printed = stdout.text();
      const stderr = await new Response(child.stderr).text();
      expect(printed).toContain(`${url}/zen/v1`);
      expect(printed).toContain(`${url}/zen/go/v1`);
      expect(printed).toContain(fingerprint(zenKey));
      expect(printed).toContain(fingerprint(goKey));
      for (const secret of [zenKey, goKey]) expect(printed + stderr).not.toContain(secret);
    } finally {
      child.kill("SIGKILL");
    }
  }, 20_000);

  test("a bad config file exits 2 with one paragraph naming the file and field, no stack", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zen-sim-cli-"));
    const secret = randomSecret("sk-in-bad-config-");
    try {
      const file = join(dir, "sim.json");
      await writeFile(file, JSON.stringify({ workspaces: [{ id: "w", members: [{ userID: "u", keys: [secret, 5] }] }] }));
      const child = spawnSim(["--config", file]);
      expect(await child.exited).toBe(2);
      const stderr = await new Response(child.stderr).text();
      expect(stderr).toContain(file);
      expect(stderr).toContain("workspaces[0].members[0].keys[1]: expected string, got number");
      expect(stderr).not.toContain(secret);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(stderr.trim().split("\n")).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 20_000);

  test("a config file that is not JSON exits 2 without quoting it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zen-sim-cli-"));
    const secret = randomSecret("sk-unquoted-");
    try {
      const file = join(dir, "sim.json");
      await writeFile(file, `{ "workspaces": [ ${secret} ] }`);
      const child = spawnSim(["--config", file]);
      expect(await child.exited).toBe(2);
      const stderr = await new Response(child.stderr).text();
      expect(stderr).toContain("is not valid JSON");
      expect(stderr).not.toContain(secret);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 20_000);

  test("the banner's fallback allowance follows a lowered --free-daily-limit", async () => {
    const child = spawnSim(["--port", "0", "--free-daily-limit", "2"]);
    const stdout = collect(child.stdout);
    try {
      await waitForURL(stdout);
      for (;;) {
        if (/new-client bonus/.test(stdout.text())) break;
        await Bun.sleep(10);
      }
      expect(stdout.text()).toContain("free 2/day (fallback 2/day)");
    } finally {
      child.kill("SIGKILL");
    }
  }, 20_000);

  test("a --fallback-daily-limit above --free-daily-limit exits 2 naming both fields", async () => {
    const child = spawnSim(["--free-daily-limit", "2", "--fallback-daily-limit", "20"]);
    try {
      expect(await child.exited).toBe(2);
      const stderr = await new Response(child.stderr).text();
      expect(stderr).toContain("fallbackDailyLimit: 20 is above");
      expect(stderr).toContain("freeDailyLimit (2)");
      expect(stderr.trim().split("\n")).toHaveLength(1);
    } finally {
      child.kill("SIGKILL");
    }
  }, 20_000);

  test("--free-tier-gate off serves anonymous free requests without a session; the banner says which gate", async () => {
    const child = spawnSim(["--port", "0", "--free-tier-gate", "off"]);
    const stdout = collect(child.stdout);
    try {
      const url = await waitForURL(stdout);
      expect((await chat(`${url}/zen/v1`, { model: "big-pickle", session: null })).status).toBe(200);
      for (;;) {
        if (/free-tier gate/.test(stdout.text())) break;
        await Bun.sleep(10);
      }
      expect(stdout.text()).toContain("free-tier gate off, Go session gate required");
    } finally {
      child.kill("SIGKILL");
    }
  }, 20_000);

  test("an unknown flag exits 2 and shows usage", async () => {
    const child = spawnSim(["--frobnicate"]);
    expect(await child.exited).toBe(2);
    const stderr = await new Response(child.stderr).text();
    expect(stderr).toContain("--frobnicate");
    expect(stderr).toContain("Usage: bun run sim");
  }, 20_000);
});

describe("parseCliArgs", () => {
  test("maps every flag", () => {
    expect(
      parseCliArgs([
        "--port", "8080", "--host", "0.0.0.0", "--config", "c.json", "--trust-proxy", "--quota-key", "install",
        "--free-daily-limit", "5", "--fallback-daily-limit", "2", "--no-new-client-bonus", "--now", "2026-11-20T10:02:57Z",
        "--key", "a", "--key", "b", "--go-key", "g",
      ]),
    ).toEqual({
      kind: "run",
      options: { port: 8080, hostname: "0.0.0.0", trustProxy: true, quotaKey: "install", now: "2026-11-20T10:02:57Z" },
      configFile: "c.json",
      overrides: { freeDailyLimit: 5, fallbackDailyLimit: 2, newClientBonus: false },
      zenKeys: ["a", "b"],
      goKeys: ["g"],
    });
    expect(parseCliArgs(["--help"])).toEqual({ kind: "help" });
  });

  test("maps the client-gate flags", () => {
    const command = parseCliArgs([
      "--free-tier-gate", "session+ua", "--min-client-version", "1.18.2", "--session-max-age", "600", "--go-session-gate", "off",
    ]);
    expect(command.kind === "run" && command.overrides).toEqual({
      freeTierGate: "session+ua",
      minClientVersion: "1.18.2",
      freeTierSessionMaxAgeSec: 600,
      goSessionGate: "off",
    });
    for (const mode of ["off", "session", "closed"] as const) {
      const parsed = parseCliArgs(["--free-tier-gate", mode]);
      expect(parsed.kind === "run" && parsed.overrides.freeTierGate).toBe(mode);
    }
  });

  test("rejects bad values naming the flag", () => {
    for (const [args, flag] of [
      [["--port", "http"], "--port"],
      [["--port", "70000"], "--port"],
      [["--quota-key", "device"], "--quota-key"],
      [["--free-daily-limit", "-1"], "--free-daily-limit"],
      [["--now", "yesterday"], "--now"],
      [["--free-tier-gate", "strict"], "--free-tier-gate"],
      [["--min-client-version", "1.17"], "--min-client-version"],
      [["--min-client-version", "1.17.0-beta.1"], "--min-client-version"],
      [["--session-max-age", "0"], "--session-max-age"],
      [["--session-max-age", "10m"], "--session-max-age"],
      [["--go-session-gate", "maybe"], "--go-session-gate"],
    ] as const) {
      expect(() => parseCliArgs([...args])).toThrow(CliUsageError);
      expect(() => parseCliArgs([...args])).toThrow(flag);
    }
  });
});
