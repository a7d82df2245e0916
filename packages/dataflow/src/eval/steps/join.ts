/**
 * Join: a positive atom `[?e :a ?v]` reached with some of its columns bound looks those up in its
 * relation's index on exactly the bound columns (an index-nested-loop join) and binds the rest of
 * each matching tuple. As the start of a delta plan, the atom instead ranges over the relation's
 * changes of this transaction (`ctx.delta`, or only insertions: `ctx.added`), which the other steps
 * then join against.
 */
import { type ValueKey as Key, valueKey } from '@dataloom/core';
import { pairKey } from '@dataloom/core/internals';
import { maskCols, type Tuple } from '../../arrangement/arrangement.js';
import type { Step, Term } from '../../ir/types.js';
import { type CtxRef, EXT, type Mode, type Op, oldReader, termVal, unify } from './step.js';

type Atom = Extract<Step, { kind: 'atom' }>;

/**
 * Binds an atom's columns from a tuple. `pre` = slots bound before the step; slots bound by an
 * earlier column of the same tuple are checked, not rebound; `skipCols` are already matched by the
 * index lookup.
 */
export function tupleBinder(args: readonly Term[], pre: Set<number>, skipCols: Set<number>): (t: Tuple, env: unknown[]) => boolean {
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

/** The columns of an atom bound before it (constants or slots in `pre`), as an index mask. */
export function boundMask(s: Atom, pre: Set<number>): number {
  const ar = s.src.arr.arity;
  let mask = 0;
  for (let c = 0; c < ar && c < s.args.length; c++) {
    const t = s.args[c]!;
    if (t.kind === 'const' || pre.has(t.slot)) mask |= 1 << c;
  }
  return mask;
}

/** The index key of the bound columns `cols` under the current binding. */
export function keyFn(args: readonly Term[], cols: number[]): (env: unknown[]) => Key {
  if (cols.length === 0) return () => 0 as Key;
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

/** A positive atom after others: an index lookup on its bound columns, binding the rest. */
export function joinStep(s: Atom, pre: Set<number>, mode: Mode, ctxRef: CtxRef, next: Op): Op {
  const arr = s.src.arr;
  const mask = boundMask(s, pre);
  const cols = maskCols(mask);
  const kf = keyFn(s.args, cols);
  const bind = tupleBinder(s.args, pre, new Set(cols));
  // One callback per step, not one per binding: the binding it continues lives in `cur`/`curW`
  // (saved and restored around the lookup, should a continuation ever re-enter this step).
  let cur: unknown[] = [];
  let curW = 0;
  const cb = (t: Tuple): void => {
    if (bind(t, cur)) next(cur, curW);
  };
  const isOld = oldReader(mode, ctxRef);
  return (env, w) => {
    const c = ctxRef.c!;
    const pe = cur;
    const pw = curW;
    cur = env;
    curW = w;
    if (mode === EXT && c.extKept === true) arr.eachKept(mask, kf(env), cb);
    else arr.each(mask, kf(env), isOld(), cb);
    cur = pe;
    curW = pw;
  };
}

/**
 * The atom a delta plan starts from: each change of this run (of `ctx.sign`, if set) binds the
 * atom's columns and goes on with the change's weight (negated for a negated atom: a tuple that
 * appears removes the bindings the negation let through).
 */
export function deltaScan(s: Atom, ctxRef: CtxRef, next: Op): Op {
  const bind = tupleBinder(s.args, new Set(), new Set());
  const arr = s.src.arr;
  const neg = s.neg;
  const scratch: Tuple = [0, 0];
  return (env, w) => {
    const ctx = ctxRef.c!;
    const added = ctx.added;
    const pairs = ctx.addedPairs;
    if (added != null || pairs != null) {
      if (ctx.sign < 0) return;
      const ww = neg ? -w : w;
      if (added != null) for (let i = 0; i < added.length; i++) if (bind(added[i]!, env)) next(env, ww);
      if (pairs != null) {
        // One reused tuple: `bind` copies its values into `env`.
        const t = scratch;
        for (let i = 0; i < pairs.length; i += 2) {
          t[0] = pairs[i];
          t[1] = pairs[i + 1];
          if (bind(t, env)) next(env, ww);
        }
      }
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
