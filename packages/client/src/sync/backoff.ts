/** Reconnect delays: exponential with full jitter, capped. */
export interface BackoffOptions {
  /** First delay in ms (default 250). */
  initialMs?: number;
  /** Largest delay in ms (default 10 000). */
  maxMs?: number;
  /** Growth per failed attempt (default 2). */
  factor?: number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly opts: BackoffOptions = {}, private readonly random: () => number = Math.random) {}
  /** Delay before the next attempt; grows until {@link reset}. */
  next(): number {
    const { initialMs = 250, maxMs = 10_000, factor = 2 } = this.opts;
    const cap = Math.min(maxMs, initialMs * factor ** this.attempt++);
    return Math.round(cap / 2 + (this.random() * cap) / 2);
  }
  reset(): void {
    this.attempt = 0;
  }
}
