/**
 * A token bucket: `rate` tokens per second, at most `burst` saved up. The server meters each
 * connection's messages and bytes with it; the client paces its pushes with one set below the
 * limits the server announced, so a large outbox is sent without tripping them.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(private readonly rate: number, readonly burst: number, private readonly now: () => number = Date.now) {
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
  }

  /** Take `n` tokens; false (and nothing taken) if there are not enough. */
  take(n = 1): boolean {
    this.refill();
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Milliseconds until `n` tokens (at most `burst`) are available; 0 if they are now. */
  waitMs(n = 1): number {
    this.refill();
    const need = Math.min(n, this.burst) - this.tokens;
    return need <= 0 ? 0 : Math.ceil((need / this.rate) * 1000);
  }
}
