import { Accounts } from "./accounts.ts";
import type { CapturedRequest } from "./capture.ts";
import { RequestLog } from "./capture.ts";
import type { SimClock } from "./clock.ts";
import { mergeConfigInput, parseConfig, type SimConfig, type SimConfigInput } from "./config.ts";
import { FaultInjector } from "./faults.ts";
import { FreeQuota } from "./free-quota.ts";
import { PaidRateLimiter } from "./rate-limit.ts";

/**
 * Everything the simulator remembers between requests, and the two ways it
 * changes wholesale: a config patch and a reset.
 */
export class SimState {
  readonly freeQuota = new FreeQuota();
  readonly rateLimiter = new PaidRateLimiter();
  readonly log = new RequestLog();
  private input: SimConfigInput;
  private current: SimConfig;
  private accountState: Accounts;
  private faultState: FaultInjector;

  constructor(
    readonly clock: SimClock,
    input: SimConfigInput | undefined,
  ) {
    this.input = input ?? {};
    this.current = parseConfig(this.input);
    this.accountState = new Accounts(this.current.workspaces, clock.now());
    this.faultState = new FaultInjector(this.current.faults);
  }

  get config(): SimConfig {
    return this.current;
  }

  get accounts(): Accounts {
    return this.accountState;
  }

  get faults(): FaultInjector {
    return this.faultState;
  }

  /**
   * Validates before changing anything, so a rejected patch leaves the running
   * simulator as it was. Replacing workspaces or faults restarts their state.
   */
  configure(patch: unknown): void {
    const input = mergeConfigInput(this.input, patch);
    const config = parseConfig(input);
    const changed = patch as Partial<Record<keyof SimConfigInput, unknown>>;
    this.input = input;
    this.current = config;
    if ("workspaces" in changed) this.accountState = new Accounts(config.workspaces, this.clock.now());
    if ("faults" in changed) this.faultState = new FaultInjector(config.faults);
  }

  /** Forgets all usage and captured requests; balances and fault counts return to their configured values. */
  reset(): void {
    this.freeQuota.clear();
    this.rateLimiter.clear();
    this.log.clear();
    this.accountState = new Accounts(this.current.workspaces, this.clock.now());
    this.faultState = new FaultInjector(this.current.faults);
  }

  requests(): CapturedRequest[] {
    return this.log.list();
  }
}
