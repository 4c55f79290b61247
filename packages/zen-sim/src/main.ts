#!/usr/bin/env bun
/** `bun run sim`: the simulator as a standalone server for demos and manual testing. */
import { CliUsageError, parseCliArgs, USAGE } from "./cli-args.ts";
import { buildCliConfig, ConfigFileError } from "./cli-config.ts";
import { parseConfig, SimConfigError } from "./config.ts";
import { fingerprint } from "./fingerprint.ts";
import { startSimulator } from "./server.ts";

const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<void> {
  const command = parseCliArgs(argv);
  if (command.kind === "help") {
    console.log(USAGE);
    return;
  }
  const { config, keyWorkspaces } = await buildCliConfig(command);
  const effective = parseConfig(config);
  const sim = await startSimulator({ ...command.options, config });

  const opts = command.options;
  const limits =
    `free ${effective.freeDailyLimit}/day (fallback ${effective.fallbackDailyLimit}/day), ` +
    `new-client bonus ${effective.newClientBonus ? "on" : "off"}, ` +
    `free-tier gate ${effective.freeTierGate}, Go session gate ${effective.goSessionGate}`;
  console.log(`zen-sim listening on ${sim.url}`);
  console.log(`  zen: ${sim.zenBaseURL}`);
  console.log(`  go:  ${sim.goBaseURL}`);
  console.log(
    `  mode: free quota per ${opts.quotaKey ?? "ip"}, trust-proxy ${opts.trustProxy ? "on" : "off"}, ${limits}, clock ${sim.clock.now().toISOString()}`,
  );
  for (const k of keyWorkspaces) {
    const what = k.kind === "zen" ? "Zen key, $20.00 balance" : "Go key";
    console.log(`  ${what}: Bearer ${fingerprint(k.key)} in ${k.workspaceID}`);
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await sim.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof CliUsageError) {
    console.error(`zen-sim: ${error.message}\n\n${USAGE}`);
  } else if (error instanceof ConfigFileError) {
    console.error(`zen-sim: ${error.message}`);
  } else if (error instanceof SimConfigError) {
    console.error(`zen-sim: invalid configuration (from flags): ${error.message}`);
  } else {
    console.error(`zen-sim: could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  process.exit(EXIT_USAGE);
});
