/**
 * Join planning and evaluation of one rule body: a nested-loop, index-lookup evaluator compiled to
 * closures. The same body is planned once per "start" (which atom ranges over a change, or none,
 * or the head bound), so incremental maintenance is a set of point lookups around each changed
 * tuple — the delta-query form of the bilinear join rule Δ(a⋈b) = Δa⋈b_old + a_new⋈Δb.
 *
 * Each atom reads the relation in a fixed state per plan: `NEW` (after this transaction), `OLD`
 * (before it) or `EXT` (decided per run by `ctx.extOld`, used inside recursive components).
 */
import { DataloomError, type ValueKey as Key, pairKey, valueEquals, valueKey } from '@dataloom/core';
import type { DeltaEntry, Tuple } from '../arrangement/arrangement.js';
import { maskCols } from '../arrangement/arrangement.js';
import { type BindPat, type RuleIR, type Step, type Term, stepInputs, stepOutputs } from '../ir/types.js';
import { entityChanges } from './entity-fns.js';

export const NEW = 0;
export const OLD = 1;
export const EXT = 2;
export type Mode = typeof NEW | typeof OLD | typeof EXT;

/** Mutable per-run context shared by a plan's closures. */
export interface RunCtx {
  /** Receives each derived head tuple with its weight. */
  emit: (t: Tuple, w: number) => void;
  /** State read by `EXT` atoms: true = before the transaction. */
  extOld: boolean;
  /**
   * `EXT` atoms read the tuples present both before and after the transaction (the new state
   * without this transaction's insertions); overrides `extOld`. Positive atoms only.
   */
  extKept?: boolean;
  /** Changes the start atom ranges over (defaults to the start relation's own delta). */
  delta: readonly DeltaEntry[] | null;
  /** Insertions the start atom ranges over instead (weight +1 each; overrides `delta`). */
  added?: readonly Tuple[] | null;
  /** Only start-atom changes with this sign (0 = both). */
  sign: number;
  /** Head tuple for head-bound plans. */
  head: Tuple | null;
}

type Op = (env: unknown[], w: number) => void;

export interface Plan {
  run(ctx: RunCtx): void;
  /** Step indexes in evaluation order (for tests and debugging). */
  readonly order: readonly number[];
}

function termVal(t: Term, env: unknown[]): unknown {
  return t.kind === 'const' ? t.value : env[t.slot];
}

function truthy(x: unknown): boolean {
  return x !== false && x !== null && x !== undefined;
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
  const ctxRef: { c: RunCtx | null } = { c: null };
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

function formText(f: unknown): string {
  try {
    return f === undefined ? 'a clause' : JSON.stringify(f, (_k, v) => (typeof v === 'object' && v && 'fqn' in v ? String(v) : v));
  } catch {
    return 'a clause';
  }
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

/** Binds `value` to term `t` (or checks it). Returns false when it does not match. */
function unify(t: Term, value: unknown, env: unknown[], boundNow: boolean): boolean {
  if (t.kind === 'const') return valueEquals(t.value, value);
  if (boundNow) return valueEquals(env[t.slot], value);
  env[t.slot] = value;
  return true;
}

/**
 * An op that binds an atom's columns from a tuple. `pre` = slots bound before the step; slots bound
 * by an earlier column of the same tuple are checked, not rebound.
 */
function tupleBinder(args: readonly Term[], pre: Set<number>, skipCols: Set<number>): (t: Tuple, env: unknown[]) => boolean {
  const seen = new Set(pre);
  const actions: { col: number; term: Term; check: boolean }[] = [];
  args.forEach((term, col) => {
    if (skipCols.has(col)) return;
    if (term.kind === 'const') actions.push({ col, term, check: true });
    else {
      actions.push({ col, term, check: seen.has(term.slot) });
      seen.add(term.slot);
    }
  });
  return (t, env) => {
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i]!;
      if (!unify(a.term, t[a.col], env, a.check)) return false;
    }
    return true;
  };
}

function keyFn(args: readonly Term[], cols: number[]): (env: unknown[]) => Key {
  if (cols.length === 1) {
    const t = args[cols[0]!]!;
    if (t.kind === 'const') {
      const k = valueKey(t.value);
      return () => k;
    }
    const slot = t.slot;
    return (env) => valueKey(env[slot]);
  }
  if (cols.length === 2) {
    const a = args[cols[0]!]!;
    const b = args[cols[1]!]!;
    return (env) => pairKey(termVal(a, env), termVal(b, env));
  }
  return (env) => {
    let s = '';
    for (let i = 0; i < cols.length; i++) {
      if (i > 0) s += '\u0001';
      s += valueKey(termVal(args[cols[i]!]!, env));
    }
    return s;
  };
}

function startOp(s: Step, ctxRef: { c: RunCtx | null }, next: Op): Op {
  switch (s.kind) {
    case 'atom': {
      const bind = tupleBinder(s.args, new Set(), new Set());
      const arr = s.src.arr;
      const neg = s.neg;
      return (env, w) => {
        const ctx = ctxRef.c!;
        const added = ctx.added;
        if (added != null) {
          if (ctx.sign < 0) return;
          for (let i = 0; i < added.length; i++) if (bind(added[i]!, env)) next(env, neg ? -w : w);
          return;
        }
        const ds = ctx.delta ?? arr.delta;
        const sign = ctx.sign;
        for (let i = 0; i < ds.length; i++) {
          const d = ds[i]!;
          if (sign !== 0 && Math.sign(d.w) !== sign) continue;
          if (bind(d.t, env)) next(env, neg ? -w * d.w : w * d.w);
        }
      };
    }
    case 'get-else':
    case 'get-some':
    case 'missing': {
      // Entity functions change where their attribute changed: diff old vs new per touched entity.
      return (env, w) => {
        const ctx = ctxRef.c!;
        entityChanges(s, (e, out, dw) => {
          if (ctx.sign !== 0 && Math.sign(dw) !== ctx.sign) return;
          if (!unify(s.e, e, env, false)) return;
          if (s.kind === 'get-else') {
            env[s.out] = out;
            next(env, w * dw);
          } else if (s.kind === 'get-some') {
            bindPat(s.out, out, env, new Set(), (en) => next(en, w * dw));
          } else next(env, w * dw);
        });
      };
    }
    default:
      throw new DataloomError('dataflow/internal', `step ${s.kind} cannot start a delta plan`, {});
  }
}

/** Binds a function result through a binding pattern, calling `k` per resulting binding. */
function bindPat(p: BindPat, v: unknown, env: unknown[], pre: Set<number>, k: (env: unknown[]) => void): boolean {
  switch (p.k) {
    case 'ignore':
      k(env);
      return true;
    case 'scalar':
      if (pre.has(p.slot)) {
        if (valueEquals(env[p.slot], v)) k(env);
      } else {
        env[p.slot] = v;
        k(env);
      }
      return true;
    case 'tuple': {
      const xs = toArray(v);
      if (xs === null || xs.length < p.elems.length) return false;
      const go = (i: number, en: unknown[]): void => {
        if (i === p.elems.length) {
          k(en);
          return;
        }
        bindPat(p.elems[i]!, xs[i], en, pre, (e2) => go(i + 1, e2));
      };
      go(0, env);
      return true;
    }
    case 'coll': {
      const xs = toArray(v);
      if (xs === null) return false;
      for (const x of xs) bindPat(p.elem, x, env, pre, k);
      return true;
    }
  }
}

function toArray(v: unknown): unknown[] | null {
  if (Array.isArray(v)) return v;
  if (v instanceof Set) return [...v];
  if (v !== null && typeof v === 'object' && Symbol.iterator in (v as object) && typeof v !== 'string') return [...(v as Iterable<unknown>)];
  return null;
}

function stepOp(s: Step, pre: Set<number>, mode: Mode, ctxRef: { c: RunCtx | null }, next: Op): Op {
  const isOld = mode === OLD ? () => true : mode === NEW ? () => false : () => ctxRef.c!.extOld;
  switch (s.kind) {
    case 'atom': {
      const arr = s.src.arr;
      const ar = arr.arity;
      let mask = 0;
      for (let c = 0; c < ar && c < s.args.length; c++) {
        const t = s.args[c]!;
        if (t.kind === 'const' || pre.has(t.slot)) mask |= 1 << c;
      }
      const cols = maskCols(mask);
      const kf = cols.length > 0 ? keyFn(s.args, cols) : () => 0 as Key;
      if (s.neg) {
        return (env, w) => {
          if (!arr.contains(kf(env), isOld())) next(env, w);
        };
      }
      const bind = tupleBinder(s.args, pre, new Set(cols));
      if (mode === EXT) {
        return (env, w) => {
          const c = ctxRef.c!;
          const cb = (t: Tuple) => {
            if (bind(t, env)) next(env, w);
          };
          if (c.extKept === true) arr.eachKept(mask, kf(env), cb);
          else arr.each(mask, kf(env), c.extOld, cb);
        };
      }
      return (env, w) => {
        arr.each(mask, kf(env), isOld(), (t) => {
          if (bind(t, env)) next(env, w);
        });
      };
    }
    case 'pred': {
      const args = s.args;
      const fn = s.fn;
      const n = args.length;
      return (env, w) => {
        const f = fn.kind === 'builtin' ? fn.f : (env[fn.slot] as (...a: unknown[]) => unknown);
        const xs = new Array(n);
        for (let i = 0; i < n; i++) xs[i] = termVal(args[i]!, env);
        if (truthy(callFn(f, xs, s.form))) next(env, w);
      };
    }
    case 'fn': {
      const args = s.args;
      const fn = s.fn;
      const n = args.length;
      const out = s.out;
      return (env, w) => {
        const f = fn.kind === 'builtin' ? fn.f : (env[fn.slot] as (...a: unknown[]) => unknown);
        const xs = new Array(n);
        for (let i = 0; i < n; i++) xs[i] = termVal(args[i]!, env);
        const r = callFn(f, xs, s.form);
        if (r === null || r === undefined) return;
        bindPat(out, r, env, pre, (en) => next(en, w));
      };
    }
    case 'get-else': {
      const arr = s.src.arr;
      const outBound = pre.has(s.out);
      return (env, w) => {
        const e = termVal(s.e, env);
        const ek = valueKey(e);
        let any = false;
        arr.each(1, ek, isOld(), (t) => {
          any = true;
          if (outBound) {
            if (valueEquals(env[s.out], t[1])) next(env, w);
          } else {
            env[s.out] = t[1];
            next(env, w);
          }
        });
        if (!any) {
          const d = termVal(s.dflt, env);
          if (outBound) {
            if (valueEquals(env[s.out], d)) next(env, w);
          } else {
            env[s.out] = d;
            next(env, w);
          }
        }
      };
    }
    case 'get-some': {
      return (env, w) => {
        const e = termVal(s.e, env);
        const ek = valueKey(e);
        const old = isOld();
        for (let i = 0; i < s.srcs.length; i++) {
          let found: unknown = undefined;
          s.srcs[i]!.arr.each(1, ek, old, (t) => {
            if (found === undefined) found = t[1];
          });
          if (found !== undefined) {
            bindPat(s.out, [s.attrs[i], found], env, pre, (en) => next(en, w));
            return;
          }
        }
      };
    }
    case 'missing': {
      const arr = s.src.arr;
      return (env, w) => {
        const ek = valueKey(termVal(s.e, env));
        let any = false;
        arr.each(1, ek, isOld(), () => {
          any = true;
        });
        if (!any) next(env, w);
      };
    }
  }
}

function callFn(f: unknown, xs: unknown[], form: unknown): unknown {
  if (typeof f !== 'function') {
    throw new DataloomError('query/unknown-function', `Unknown function or predicate in ${formText(form)}`, { form });
  }
  return (f as (...a: unknown[]) => unknown)(...xs);
}
