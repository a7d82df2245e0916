/**
 * What every step of a planned rule body shares: the state a step reads a relation in, the per-run
 * context, and the continuation-passing form of a step (`Op`: called once per binding that reaches
 * it, with that binding's weight, it calls the next step for each binding it lets through).
 *
 * Each atom reads its relation in a fixed state per plan: `NEW` (after this transaction), `OLD`
 * (before it) or `EXT` (decided per run by `ctx.extOld`, used inside recursive components).
 */
import type { DeltaEntry, Tuple } from '../../arrangement/arrangement.js';
import type { Term } from '../../ir/types.js';
import { valueEquals } from '@dataloom/core';

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
  /** More insertions, pairs flattened as `x, y, x, y, …` (arity-2 start atoms; read with `added`). */
  addedPairs?: readonly number[] | null;
  /** Only start-atom changes with this sign (0 = both). */
  sign: number;
  /** Head tuple for head-bound plans. */
  head: Tuple | null;
}

/** The plan's context of the current run, shared by its steps (set by `Plan.run`). */
export type CtxRef = { c: RunCtx | null };

/** One step of a compiled body: called per binding `env` with weight `w`, it calls the next step. */
export type Op = (env: unknown[], w: number) => void;

/** Whether a step in `mode` reads the state before the transaction, asked per binding. */
export function oldReader(mode: Mode, ctxRef: CtxRef): () => boolean {
  return mode === OLD ? () => true : mode === NEW ? () => false : () => ctxRef.c!.extOld;
}

export function termVal(t: Term, env: unknown[]): unknown {
  return t.kind === 'const' ? t.value : env[t.slot];
}

/** Binds `value` to term `t` (or checks it). Returns false when it does not match. */
export function unify(t: Term, value: unknown, env: unknown[], boundNow: boolean): boolean {
  if (t.kind === 'const') return valueEquals(t.value, value);
  if (boundNow) return valueEquals(env[t.slot], value);
  env[t.slot] = value;
  return true;
}

/** A clause's form for an error message. */
export function formText(f: unknown): string {
  try {
    return f === undefined ? 'a clause' : JSON.stringify(f, (_k, v) => (typeof v === 'object' && v && 'fqn' in v ? String(v) : v));
  } catch {
    return 'a clause';
  }
}
