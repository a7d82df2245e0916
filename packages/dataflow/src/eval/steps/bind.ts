/**
 * Function binding: `[(f ?a) ?out]` calls the function and binds its result through a binding
 * pattern (a scalar, a tuple `[?x ?y]`, a collection `[?x ...]`, `_`); `nil` binds nothing.
 *
 * The same binding rules as `@dataloom/query`'s `bindValue` (which also binds `:in` values for
 * registered queries), in another form on purpose: here a result is bound per binding inside a
 * compiled plan, into the slots of the binding being extended and straight on to the next step,
 * with no relation built per call; `bindValue` builds a relation over named variables for `q`'s
 * relation-at-a-time evaluation.
 */
import { valueEquals, type ValueKey } from '@dataloom/core';
import { keyedByIdentity, tupleKey } from '@dataloom/core/internals';
import type { BindPat, Step } from '../../ir/types.js';
import { callOf } from './filter.js';
import { type Op, termVal } from './step.js';

type Fn = Extract<Step, { kind: 'fn' }>;

/** Binds a function result through a binding pattern, calling `k` per resulting binding. */
export function bindPat(p: BindPat, v: unknown, env: unknown[], pre: Set<number>, k: (env: unknown[]) => void): boolean {
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

/**
 * Results keyed by identity (a class instance, a function, a collection holding one), per input-function
 * clause, by argument key: the first result for some arguments is the one every later call with
 * those arguments binds. A function that returns a fresh object per call would otherwise give a
 * retraction a value that is not the one asserted (its derivation never found). Kept while the
 * clause's rule lives (one entry per distinct arguments whose result was such a value).
 */
const memos = new WeakMap<Fn, Map<ValueKey, unknown>>();

export function bindStep(s: Fn, pre: Set<number>, next: Op): Op {
  const call = callOf(s);
  const out = s.out;
  const { args, fn } = s;
  // Built-ins return values keyed by content (re-pattern's regexes too), so only a function given
  // as an input (`[(?f …) ?x]`) can hand back fresh identity-keyed objects: the others bind
  // straight away, with no walk of their results on this path.
  if (fn.kind !== 'var') {
    return (env, w) => {
      const r = call(env);
      if (r === null || r === undefined) return;
      bindPat(out, r, env, pre, (en) => next(en, w));
    };
  }
  let memo = memos.get(s);
  if (memo === undefined) memos.set(s, (memo = new Map()));
  const m = memo;
  const argsKey = (env: unknown[]): ValueKey => {
    const xs = args.map((t) => termVal(t, env));
    xs.push(env[fn.slot]);
    return tupleKey(xs);
  };
  return (env, w) => {
    let r = call(env);
    if (r === null || r === undefined) return;
    if ((typeof r === 'object' || typeof r === 'function') && keyedByIdentity(r)) {
      const k = argsKey(env);
      const first = m.get(k);
      if (first !== undefined) r = first;
      else m.set(k, r);
    }
    bindPat(out, r, env, pre, (en) => next(en, w));
  };
}
