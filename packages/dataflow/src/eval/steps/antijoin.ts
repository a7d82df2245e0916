/**
 * Antijoin: a negated atom `(not [?e :a ?v])`, reached with all its columns bound (the planner
 * guarantees it), lets a binding through only when its relation holds no such tuple.
 */
import { maskCols } from '../../arrangement/arrangement.js';
import type { Step } from '../../ir/types.js';
import { boundMask, keyFn } from './join.js';
import { type CtxRef, type Mode, type Op, oldReader } from './step.js';

type Atom = Extract<Step, { kind: 'atom' }>;

export function antijoinStep(s: Atom, pre: Set<number>, mode: Mode, ctxRef: CtxRef, next: Op): Op {
  const arr = s.src.arr;
  const kf = keyFn(s.args, maskCols(boundMask(s, pre)));
  const isOld = oldReader(mode, ctxRef);
  return (env, w) => {
    if (!arr.contains(kf(env), isOld())) next(env, w);
  };
}
