/**
 * Non-recursive rule operator: `head :- body₁ ∪ body₂ ∪ …` with set semantics, maintained by
 * counting derivations.
 *
 * Per transaction, for every body and every data step `i` whose relation changed, the plan that
 * ranges step `i` over its change (steps before `i` read the new state, steps after it the old
 * state) yields the exact change of the derivation count — the telescoping form of the
 * multilinear join rule, which also covers negation (the change of `not R` at a key is `−ΔR`) and
 * entity functions. A head tuple appears when its count leaves 0 and disappears when it returns
 * to 0, so each transaction emits only net changes (an assert and retract of the same datom in one
 * transaction emits nothing).
 *
 * Invariant: `counts` holds, for every head tuple, the number of its derivations in the new
 * state (> 0 exactly for present tuples).
 */
import { DataloomError } from '@dataloom/core';
import type { Tuple } from '../arrangement/arrangement.js';
import { type Mode, NEW, OLD, type Plan, type RunCtx, planRule } from '../eval/plan.js';
import { type RelSource, type RuleIR, isDataStep, stepSources } from '../ir/types.js';
import type { Key } from '../zset/keys.js';
import type { DerivedRel } from './derived.js';
import { type Operator, freshId } from './operator.js';

interface CompiledClause {
  readonly rule: RuleIR;
  /** Delta plans by step index (data steps only), built lazily. */
  readonly deltaPlans: Map<number, Plan>;
  readonly dataSteps: number[];
}

export class RuleOperator implements Operator {
  readonly id = freshId();
  readonly inputs: RelSource[];
  readonly outputs: RelSource[];
  level = 0;
  private readonly counts = new Map<Key, { t: Tuple; n: number }>();
  private readonly clauses: CompiledClause[];

  constructor(
    readonly out: DerivedRel,
    rules: readonly RuleIR[],
    readonly label: string = out.label,
  ) {
    this.outputs = [out];
    const ins = new Map<number, RelSource>();
    for (const r of rules) for (const s of r.body) for (const src of stepSources(s)) ins.set(src.id, src);
    this.inputs = [...ins.values()];
    this.clauses = rules.map((rule) => ({
      rule,
      deltaPlans: new Map(),
      dataSteps: rule.body.map((s, i) => (isDataStep(s) ? i : -1)).filter((i) => i >= 0),
    }));
    // Plan eagerly so that unbound variables are reported at registration.
    for (const c of this.clauses) {
      planRule(c.rule, { kind: 'none' }, () => NEW);
      for (const i of c.dataSteps) this.deltaPlan(c, i);
    }
  }

  private deltaPlan(c: CompiledClause, i: number): Plan {
    let p = c.deltaPlans.get(i);
    if (p === undefined) {
      p = planRule(c.rule, { kind: 'delta', step: i }, (j): Mode => (j < i ? NEW : OLD));
      c.deltaPlans.set(i, p);
    }
    return p;
  }

  init(): void {
    const ctx: RunCtx = {
      emit: (t, w) => this.addCount(t, w, null),
      extOld: false,
      delta: null,
      sign: 0,
      head: null,
    };
    for (const c of this.clauses) planRule(c.rule, { kind: 'none' }, () => NEW).run(ctx);
  }

  private addCount(t: Tuple, w: number, changed: Map<Key, { t: Tuple; before: number }> | null): void {
    const arr = this.out.arr;
    const k = arr.keyOf(t);
    let e = this.counts.get(k);
    if (e === undefined) {
      e = { t, n: 0 };
      this.counts.set(k, e);
    }
    if (changed !== null && !changed.has(k)) changed.set(k, { t: e.t, before: e.n });
    e.n += w;
    if (changed === null) {
      if (e.n > 0) arr.insert(e.t, k);
      else if (e.n === 0) {
        this.counts.delete(k);
        arr.remove(k);
      }
    }
  }

  step(): void {
    const changed = new Map<Key, { t: Tuple; before: number }>();
    const ctx: RunCtx = {
      emit: (t, w) => this.addCount(t, w, changed),
      extOld: false,
      delta: null,
      sign: 0,
      head: null,
    };
    for (const c of this.clauses) {
      for (const i of c.dataSteps) {
        const s = c.rule.body[i]!;
        let dirty = false;
        for (const src of stepSources(s)) if (src.arr.delta.length > 0) dirty = true;
        if (dirty) this.deltaPlan(c, i).run(ctx);
      }
    }
    const arr = this.out.arr;
    for (const [k, ch] of changed) {
      const e = this.counts.get(k)!;
      if (e.n < 0) {
        throw new DataloomError('dataflow/internal', `negative derivation count for ${this.label}`, { tuple: e.t });
      }
      if (ch.before === 0 && e.n > 0) {
        arr.insert(e.t, k);
        arr.pushDelta(e.t, 1, k);
      } else if (ch.before > 0 && e.n === 0) {
        arr.remove(k);
        arr.pushDelta(e.t, -1, k);
      }
      if (e.n === 0) this.counts.delete(k);
    }
  }

  dispose(): void {
    this.counts.clear();
  }

  approxBytes(): number {
    return this.out.arr.approxBytes() + this.counts.size * 90;
  }
}
