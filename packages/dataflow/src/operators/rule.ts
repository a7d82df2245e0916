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
 * Invariant: a head tuple is present in `out` exactly when it has a derivation in the new state;
 * `extra` holds the derivations beyond the first for tuples derived more than once.
 */
import { DataloomError, type ValueKey as Key } from '@dataloom/core';
import type { Tuple } from '../arrangement/arrangement.js';
import { type Mode, NEW, OLD, type Plan, type RunCtx, planRule } from '../eval/plan.js';
import { SizeWatch } from '../eval/stats.js';
import { type RelSource, type RuleIR, isDataStep, stepSources } from '../ir/types.js';
import type { DerivedRel } from './derived.js';
import { type Operator, freshId } from './operator.js';

interface CompiledClause {
  readonly rule: RuleIR;
  /** Delta plans by step index (data steps only), built lazily. */
  readonly deltaPlans: Map<number, Plan>;
  readonly dataSteps: number[];
  /** The relations each data step reads (parallel to `dataSteps`). */
  readonly stepSrcs: (readonly RelSource[])[];
}

export class RuleOperator implements Operator {
  readonly id = freshId();
  readonly kind = 'rule';
  readonly inputs: RelSource[];
  readonly outputs: RelSource[];
  level = 0;
  /** Derivations beyond the first, for tuples derived more than once (see {@link count}). */
  private readonly extra = new Map<Key, number>();
  private readonly clauses: CompiledClause[];
  /** Per-transaction derivation changes (reused: cleared after each step). */
  private readonly acc = new Map<Key, { t: Tuple; w: number }>();
  private readonly stepCtx: RunCtx;
  /** Re-plans when an input's size moved by 2× (e.g. registered before the data arrived). */
  private readonly sizes: SizeWatch;

  constructor(
    readonly out: DerivedRel,
    rules: readonly RuleIR[],
    readonly label: string = out.label,
  ) {
    this.outputs = [out];
    const ins = new Map<number, RelSource>();
    for (const r of rules) for (const s of r.body) for (const src of stepSources(s)) ins.set(src.id, src);
    this.inputs = [...ins.values()];
    this.sizes = new SizeWatch(this.inputs);
    this.clauses = rules.map((rule) => {
      const dataSteps = rule.body.map((s, i) => (isDataStep(s) ? i : -1)).filter((i) => i >= 0);
      return { rule, deltaPlans: new Map(), dataSteps, stepSrcs: dataSteps.map((i) => stepSources(rule.body[i]!)) };
    });
    const keyOf = this.out.arr.keyOf;
    const acc = this.acc;
    this.stepCtx = { emit: (t, w) => accumulate(acc, keyOf(t), t, w), extOld: false, delta: null, sign: 0, head: null };
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
    // Initial evaluation: every derivation has weight +1, so count straight into `out`/`extra`.
    const arr = this.out.arr;
    const extra = this.extra;
    const ctx: RunCtx = {
      emit: (t, w) => {
        const k = arr.keyOf(t);
        if (arr.has(k)) extra.set(k, (extra.get(k) ?? 0) + w);
        else arr.insert(t, k);
      },
      extOld: false,
      delta: null,
      sign: 0,
      head: null,
    };
    for (const c of this.clauses) planRule(c.rule, { kind: 'none' }, () => NEW).run(ctx);
  }

  /** Derivation count of the tuple with key `k` (present tuples count 1 + extra). */
  private count(k: Key): number {
    return this.out.arr.has(k) ? 1 + (this.extra.get(k) ?? 0) : 0;
  }

  private applyCounts(acc: Map<Key, { t: Tuple; w: number }>, emit: boolean): void {
    const arr = this.out.arr;
    for (const [k, { t, w }] of acc) {
      if (w === 0) continue;
      const before = this.count(k);
      const after = before + w;
      if (after < 0) throw new DataloomError('dataflow/internal', `negative derivation count for ${this.label}`, { tuple: t });
      if (after > 1) this.extra.set(k, after - 1);
      else this.extra.delete(k);
      if (before === 0 && after > 0) {
        arr.insert(t, k);
        if (emit) arr.pushDelta(t, 1, k);
      } else if (before > 0 && after === 0) {
        const old = arr.remove(k)!;
        if (emit) arr.pushDelta(old, -1, k);
      }
    }
  }

  step(): void {
    const acc = this.acc;
    const ctx = this.stepCtx;
    if (this.sizes.changed()) for (const c of this.clauses) c.deltaPlans.clear();
    try {
      for (const c of this.clauses) {
        const { dataSteps, stepSrcs } = c;
        for (let j = 0; j < dataSteps.length; j++) {
          const srcs = stepSrcs[j]!;
          let dirty = false;
          for (let x = 0; x < srcs.length; x++) if (srcs[x]!.arr.delta.length > 0) dirty = true;
          if (dirty) this.deltaPlan(c, dataSteps[j]!).run(ctx);
        }
      }
      this.applyCounts(acc, true);
    } finally {
      acc.clear();
    }
  }

  dispose(): void {
    this.extra.clear();
  }

  approxBytes(): number {
    return this.out.arr.approxBytes() + this.extra.size * 60;
  }
}

function accumulate(acc: Map<Key, { t: Tuple; w: number }>, k: Key, t: Tuple, w: number): void {
  const e = acc.get(k);
  if (e === undefined) acc.set(k, { t, w });
  else e.w += w;
}
