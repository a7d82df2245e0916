/**
 * The operator contract. An operator owns one or more output relations and recomputes their
 * change for a transaction from the changes of its inputs.
 *
 * Contract (what the engine guarantees and what an operator must do):
 * - `step()` is called at most once per transaction, after every input operator has run (inputs
 *   are ordered by `level`), and only when some input relation changed.
 * - On entry the outputs' `delta` is empty; on exit each output's `rows` is its new state and its
 *   `delta` is exactly the net change (only add rows that were absent, only remove rows that were
 *   present).
 * - `init()` computes the outputs from the inputs' current state, once, at registration time
 *   (between transactions, when every delta is empty).
 * - `dispose()` frees state; the engine calls it when the last reference goes.
 */
import type { RelSource } from '../ir/types.js';

export interface Operator {
  readonly id: number;
  readonly label: string;
  /** What it does, for diagnostics (`profile.ts`): joins a rule's clauses, a recursive component, or aggregates/outputs a view. */
  readonly kind: 'rule' | 'recursive' | 'output';
  /** Relations read. */
  readonly inputs: readonly RelSource[];
  /** Relations written. */
  readonly outputs: readonly RelSource[];
  /** Topological level: 1 + the greatest level of the operators producing the inputs. */
  level: number;
  init(): void;
  step(): void;
  dispose(): void;
  /** Rough heap estimate in bytes of the operator's own state (outputs included). */
  approxBytes(): number;
}

let nextId = 1;
/** A fresh id for relations and operators. */
export function freshId(): number {
  return nextId++;
}
