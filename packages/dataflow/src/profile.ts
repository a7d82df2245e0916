/**
 * Time per operator, for devtools: while attached to an engine, each operator step is timed
 * (`Engine.trace`) and summed per operator. Off by default — timing every step costs two clock
 * reads per operator per transaction — and meant to be switched on while someone looks.
 *
 * ```ts
 * const profile = new OperatorProfile();
 * profile.attach(conn.engine);
 * conn.transact(…);
 * profile.rows();   // [{ label: 'totals', kind: 'recursive', steps: 1, totalMs: 0.4, … }, …]
 * profile.detach(conn.engine);
 * ```
 */
import type { Engine } from './engine.js';
import type { Operator } from './operators/operator.js';

/** One operator's time since the profile started. */
export interface OperatorTime {
  /** The view (registered name) or rule the operator belongs to; shared operators carry the first one's. */
  readonly label: string;
  readonly kind: Operator['kind'];
  /** Steps timed (at most one per transaction), their total and the last and longest one (ms). */
  readonly steps: number;
  readonly totalMs: number;
  readonly lastMs: number;
  readonly maxMs: number;
}

interface Acc {
  label: string;
  kind: Operator['kind'];
  steps: number;
  totalMs: number;
  lastMs: number;
  maxMs: number;
}

export class OperatorProfile {
  private readonly byId = new Map<number, Acc>();

  /** What the engine calls after each operator step (`Engine.trace`). */
  readonly record = (op: Operator, ms: number): void => {
    let a = this.byId.get(op.id);
    if (a === undefined) this.byId.set(op.id, (a = { label: op.label, kind: op.kind, steps: 0, totalMs: 0, lastMs: 0, maxMs: 0 }));
    a.steps++;
    a.totalMs += ms;
    a.lastMs = ms;
    if (ms > a.maxMs) a.maxMs = ms;
  };

  /** Times `engine`'s operator steps from now on (replacing another trace). */
  attach(engine: Engine): void {
    engine.trace = this.record;
  }

  /** Stops timing `engine` (if this profile was timing it). */
  detach(engine: Engine): void {
    if (engine.trace === this.record) engine.trace = null;
  }

  /** The operators timed so far, the costliest first (at most `limit`). */
  rows(limit = 50): OperatorTime[] {
    return [...this.byId.values()]
      .sort((x, y) => y.totalMs - x.totalMs)
      .slice(0, limit)
      .map((a) => ({ ...a }));
  }

  /** Forgets what was timed. */
  reset(): void {
    this.byId.clear();
  }
}
