/**
 * Join planning of one rule body: the order its steps run in and the chain of step closures that
 * runs it (a nested-loop, index-lookup evaluator). The same body is planned once per "start" (which
 * atom ranges over a change, or none, or the head bound), so incremental maintenance is a set of
 * point lookups around each changed tuple — the delta-query form of the bilinear join rule
 * Δ(a⋈b) = Δa⋈b_old + a_new⋈Δb.
 *
 * The steps themselves live in `steps/`: `join.ts` (a positive atom: index lookup, or the delta
 * scan a plan starts from), `antijoin.ts` (a negated atom), `filter.ts` (a predicate), `bind.ts`
 * (a function binding its result), `entity.ts` (`get-else`, `get-some`, `missing?`); `step.ts` has
 * what they share (read modes `NEW`/`OLD`/`EXT`, the run context).
 */
import { DataloomError, valueEquals } from '@dataloom/core';
import type { Tuple } from '../arrangement/arrangement.js';
import { type RuleIR, type Step, type Term, stepInputs, stepOutputs } from '../ir/types.js';
import { antijoinStep } from './steps/antijoin.js';
import { bindStep } from './steps/bind.js';
import { entityDeltaScan, entityStep } from './steps/entity.js';
import { filterStep } from './steps/filter.js';
import { deltaScan, joinStep } from './steps/join.js';
import { type CtxRef, formText, type Mode, type Op, type RunCtx, termVal } from './steps/step.js';

export { EXT, NEW, OLD, type Mode, type RunCtx } from './steps/step.js';

export interface Plan {
  run(ctx: RunCtx): void;
  /** Step indexes in evaluation order (for tests and debugging). */
  readonly order: readonly number[];
}

/** Start specification of a plan. */
export type Start = { kind: 'none' } | { kind: 'head' } | { kind: 'delta'; step: number };

/**
 * Plans `rule` for `start`, reading step `j` in state `modeOf(j)`. Throws `query/unbound` when some
 * predicate, function or negation can never get its inputs bound.
 */
export function planRule(rule: RuleIR, start: Start, modeOf: (j: number) => Mode): Plan {
  const bound = new Set<number>();
  const order: number[] = [];
  const steps = rule.body;
  if (start.kind === 'head') for (const t of rule.headArgs) if (t.kind === 'var') bound.add(t.slot);
  const remaining = new Set(steps.map((_, i) => i));
  if (start.kind === 'delta') {
    order.push(start.step);
    remaining.delete(start.step);
    for (const s of stepOutputs(steps[start.step]!)) bound.add(s);
    for (const s of stepInputs(steps[start.step]!)) bound.add(s);
  }
  while (remaining.size > 0) {
    let best = -1;
    let bestScore = -Infinity;
    for (const i of remaining) {
      const sc = score(steps[i]!, bound);
      if (sc > bestScore) {
        bestScore = sc;
        best = i;
      }
    }
    if (bestScore === -Infinity) {
      const s = steps[[...remaining][0]!]!;
      const form = 'form' in s ? s.form : undefined;
      throw new DataloomError('query/unbound', `Insufficient bindings: cannot evaluate ${formText(form)} — its inputs are never bound`, {
        form,
        vars: stepInputs(s).filter((x) => !bound.has(x)).map((x) => rule.slotNames[x]),
      });
    }
    order.push(best);
    remaining.delete(best);
    for (const s of stepOutputs(steps[best]!)) bound.add(s);
  }
  // Build the closure chain back to front, tracking boundness front to back first.
  const boundBefore: Set<number>[] = [];
  const b = new Set<number>();
  if (start.kind === 'head') for (const t of rule.headArgs) if (t.kind === 'var') b.add(t.slot);
  order.forEach((i, k) => {
    boundBefore.push(new Set(b));
    for (const s of stepOutputs(steps[i]!)) b.add(s);
    // A delta start binds its inputs too (an entity function's entity, a negation's keys).
    if (k === 0 && start.kind === 'delta') for (const s of stepInputs(steps[i]!)) b.add(s);
  });
  for (const t of rule.headArgs) {
    if (t.kind === 'var' && !b.has(t.slot)) {
      throw new DataloomError('query/unbound', `Insufficient bindings: rule head variable ${rule.slotNames[t.slot]} is never bound`, {
        vars: [rule.slotNames[t.slot]],
      });
    }
  }
  const ctxRef: CtxRef = { c: null };
  const headArgs = rule.headArgs;
  let next: Op = (env, w) => {
    const t: Tuple = new Array(headArgs.length);
    for (let i = 0; i < headArgs.length; i++) t[i] = termVal(headArgs[i]!, env);
    ctxRef.c!.emit(t, w);
  };
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k]!;
    const isStart = k === 0 && start.kind === 'delta';
    next = isStart ? startOp(steps[i]!, ctxRef, next) : stepOp(steps[i]!, boundBefore[k]!, modeOf(i), ctxRef, next);
  }
  const first = next;
  const nslots = rule.nslots;
  const headSlots = rule.headArgs;
  // Head-bound plans: whether head position i repeats a variable of an earlier position.
  const headRepeat = headSlots.map((t, i) => t.kind === 'var' && headSlots.slice(0, i).some((u) => u.kind === 'var' && u.slot === t.slot));
  const headBound = start.kind === 'head';
  return {
    order,
    run(ctx: RunCtx) {
      ctxRef.c = ctx;
      const env: unknown[] = new Array(nslots);
      if (headBound) {
        const h = ctx.head!;
        for (let i = 0; i < headSlots.length; i++) {
          const t = headSlots[i]!;
          if (t.kind === 'const') {
            if (!valueEquals(t.value, h[i])) return;
          } else if (headRepeat[i]) {
            if (!valueEquals(env[t.slot], h[i])) return;
          } else env[t.slot] = h[i];
        }
      }
      first(env, 1);
    },
  };
}

function score(s: Step, bound: Set<number>): number {
  for (const v of stepInputs(s)) if (!bound.has(v)) return -Infinity;
  const isBound = (t: Term | null) => t !== null && (t.kind === 'const' || bound.has(t.slot));
  switch (s.kind) {
    case 'pred':
    case 'missing':
      return 1000;
    case 'atom': {
      if (s.neg) return 1000;
      const arr = s.src.arr;
      const ar = arr.arity;
      let nb = 0;
      let mask = 0;
      for (let c = 0; c < ar && c < s.args.length; c++) {
        if (isBound(s.args[c]!)) {
          nb++;
          mask |= 1 << c;
        }
      }
      if (nb === ar) return 900;
      if (nb > 0) {
        // Prefer the lookup with the smallest expected fan-out (rows per distinct key).
        const fanout = arr.fanout(mask);
        return 700 - Math.min(190, 10 * Math.log2(1 + fanout)) + nb;
      }
      return 100 + (s.src.isMagic ? 50 : 0) - Math.min(49, Math.log2(1 + arr.size));
    }
    case 'fn':
    case 'get-else':
    case 'get-some':
      return 800;
  }
}

/** The first step of a delta plan: it ranges over this run's changes. */
function startOp(s: Step, ctxRef: CtxRef, next: Op): Op {
  switch (s.kind) {
    case 'atom':
      return deltaScan(s, ctxRef, next);
    case 'get-else':
    case 'get-some':
    case 'missing':
      return entityDeltaScan(s, ctxRef, next);
    default:
      throw new DataloomError('dataflow/internal', `step ${s.kind} cannot start a delta plan`, {});
  }
}

/** A step after others, `pre` the slots bound before it, reading its relations in `mode`. */
function stepOp(s: Step, pre: Set<number>, mode: Mode, ctxRef: CtxRef, next: Op): Op {
  switch (s.kind) {
    case 'atom':
      return s.neg ? antijoinStep(s, pre, mode, ctxRef, next) : joinStep(s, pre, mode, ctxRef, next);
    case 'pred':
      return filterStep(s, next);
    case 'fn':
      return bindStep(s, pre, next);
    case 'get-else':
    case 'get-some':
    case 'missing':
      return entityStep(s, pre, mode, ctxRef, next);
  }
}
