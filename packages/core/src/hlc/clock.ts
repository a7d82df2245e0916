/**
 * The per-replica clock that issues {@link Hlc} stamps.
 *
 * Invariants:
 * - `now()` returns stamps strictly greater than every stamp this clock returned or received
 *   before, even when the wall clock goes backwards or stands still.
 * - `receive(remote)` advances the clock past `remote`, unless `remote` is more than `maxDriftMs`
 *   ahead of the local wall clock: then it throws `hlc/drift` and the clock is left unchanged.
 * - Persist {@link HlcClock.state} and pass it back as `initial` after a restart to keep
 *   monotonicity across restarts even if the wall clock was reset.
 */
import { DataloomError } from '../errors.js';
import type { HlcString } from '../ops/types.js';
import { checkReplicaId, formatHlc, MAX_COUNTER, parseHlc, type Hlc } from './hlc.js';

/** Options of {@link HlcClock}. */
export interface HlcClockOptions {
  /** Wall clock in ms; defaults to `Date.now`. */
  now?: () => number;
  /** Largest accepted lead of a remote stamp over the local wall clock, ms. Default 5 minutes. */
  maxDriftMs?: number;
  /** Last persisted state ({@link HlcClock.state}). */
  initial?: { ms: number; counter: number } | null;
}

/** Default bound for {@link HlcClockOptions.maxDriftMs}. */
export const DEFAULT_MAX_DRIFT_MS = 5 * 60_000;

export class HlcClock {
  readonly replica: string;
  private ms: number;
  private counter: number;
  private readonly wall: () => number;
  readonly maxDriftMs: number;

  constructor(replica: string, options: HlcClockOptions = {}) {
    this.replica = checkReplicaId(replica);
    this.wall = options.now ?? Date.now;
    this.maxDriftMs = options.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
    this.ms = options.initial?.ms ?? 0;
    this.counter = options.initial?.counter ?? 0;
  }

  /** The last issued/received `(ms, counter)`: persist it. */
  state(): { ms: number; counter: number } {
    return { ms: this.ms, counter: this.counter };
  }

  /** A fresh stamp for a local event. */
  now(): Hlc {
    const wall = Math.floor(this.wall());
    if (wall > this.ms) {
      this.ms = wall;
      this.counter = 0;
    } else {
      this.bump();
    }
    return { ms: this.ms, counter: this.counter, replica: this.replica };
  }

  /** {@link now} in string form. */
  nowString(): HlcString {
    return formatHlc(this.now());
  }

  /**
   * Merges a remote stamp: afterwards every `now()` is greater than `remote`. Throws `hlc/drift`
   * (clock unchanged) when `remote` is more than `maxDriftMs` ahead of the wall clock.
   */
  receive(remote: Hlc | HlcString): void {
    const r = typeof remote === 'string' ? parseHlc(remote) : remote;
    const wall = Math.floor(this.wall());
    if (r.ms - wall > this.maxDriftMs) {
      throw new DataloomError(
        'hlc/drift',
        `remote clock is ${r.ms - wall} ms ahead of the local clock (max ${this.maxDriftMs} ms); stamp not adopted`,
        { stamp: typeof remote === 'string' ? remote : formatHlc(r), driftMs: r.ms - wall, maxDriftMs: this.maxDriftMs },
      );
    }
    if (r.ms > this.ms || (r.ms === this.ms && r.counter > this.counter)) {
      this.ms = r.ms;
      this.counter = r.counter;
    }
  }

  private bump(): void {
    if (this.counter >= MAX_COUNTER) {
      // Borrow a millisecond: stamps stay strictly increasing and within the string format.
      this.ms += 1;
      this.counter = 0;
    } else {
      this.counter += 1;
    }
  }
}
