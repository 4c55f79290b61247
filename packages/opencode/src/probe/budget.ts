/**
 * The probe's hard cap on HTTP requests. Every request the probe makes (chat attempts, retries,
 * checks of the simulator) goes through `fetch` below, which refuses to send once the cap is
 * reached, so no code path can exceed `--max-requests`, whatever the runtime's retry policy does.
 */
export class BudgetExhaustedError extends Error {
  constructor(readonly max: number) {
    super(`probe budget of ${max} requests exhausted: request not sent`)
    this.name = "BudgetExhaustedError"
  }
}

export class Budget {
  #used = 0
  #refused = 0
  constructor(readonly max: number) {}

  get used() {
    return this.#used
  }
  get remaining() {
    return this.max - this.#used
  }
  /** Whether a request was ever held back by the cap. */
  get hit() {
    return this.#refused > 0
  }

  /** Claims one request, or throws without sending. */
  take() {
    if (this.#used >= this.max) {
      this.#refused++
      throw new BudgetExhaustedError(this.max)
    }
    this.#used++
  }

  /**
   * A fetch that counts against the budget and, when `headers` are given, adds them: the probe's
   * stand-in for a client on another network (`x-real-ip`, loopback targets only).
   */
  fetch(base: typeof fetch, headers?: Record<string, string>): typeof fetch {
    const wrapped = async (input: string | URL | Request, init?: RequestInit) => {
      this.take()
      if (!headers) return base(input, init)
      const merged = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
      for (const [name, value] of Object.entries(headers)) merged.set(name, value)
      return base(input, { ...init, headers: merged })
    }
    return wrapped as typeof fetch
  }
}
