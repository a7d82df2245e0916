/**
 * The engine's intermediate representation: flat Datalog rules over relations.
 *
 * The compiler lowers every query construct to this small language — `or`, `not`, `not-join`,
 * rules and named queries all become rule heads and (negated) atoms — so the evaluator, the
 * incremental operators and the recursion machinery each deal with one shape only.
 *
 * Invariants:
 * - A rule's variables are numbered `0 … nslots-1`; `slotNames` keeps their source names.
 * - A negated atom's arguments are all bound wherever the planner places it (checked at plan time).
 * - Atom arguments beyond the relation's key arity address payload columns (a datom's tx).
 */
import type { Arrangement } from '../arrangement/arrangement.js';

export type Term = { readonly kind: 'var'; readonly slot: number } | { readonly kind: 'const'; readonly value: unknown };

/** Anything an atom can read: a base attribute relation or a derived relation. */
export interface RelSource {
  readonly id: number;
  readonly arr: Arrangement;
  /** Debug name. */
  readonly label: string;
  /** True for demand (magic-set) relations: the planner likes to start with them. */
  readonly isMagic?: boolean;
}

/** How a function result is destructured into variables. */
export type BindPat =
  | { readonly k: 'scalar'; readonly slot: number }
  | { readonly k: 'ignore' }
  | { readonly k: 'tuple'; readonly elems: readonly BindPat[] }
  | { readonly k: 'coll'; readonly elem: BindPat };

export type FnRef = { readonly kind: 'builtin'; readonly name: string; readonly f: (...args: unknown[]) => unknown } | { readonly kind: 'var'; readonly slot: number };

export type Step =
  /** A (possibly negated) lookup in a relation. */
  | { readonly kind: 'atom'; readonly src: RelSource; readonly args: readonly Term[]; readonly neg: boolean }
  | { readonly kind: 'pred'; readonly fn: FnRef; readonly args: readonly Term[]; readonly form: unknown }
  | { readonly kind: 'fn'; readonly fn: FnRef; readonly args: readonly Term[]; readonly out: BindPat; readonly form: unknown }
  /** `[(get-else $ ?e :a default) ?v]`. */
  | { readonly kind: 'get-else'; readonly src: RelSource; readonly e: Term; readonly dflt: Term; readonly out: number; readonly form: unknown }
  /** `[(get-some $ ?e :a :b …) [?attr ?v]]` (bound as a tuple pattern). */
  | { readonly kind: 'get-some'; readonly srcs: readonly RelSource[]; readonly attrs: readonly unknown[]; readonly e: Term; readonly out: BindPat; readonly form: unknown }
  /** `[(missing? $ ?e :a)]`. */
  | { readonly kind: 'missing'; readonly src: RelSource; readonly e: Term; readonly form: unknown };

/** A rule clause: `head(headArgs) :- body`. */
export interface RuleIR {
  readonly headArgs: readonly Term[];
  readonly body: readonly Step[];
  readonly nslots: number;
  readonly slotNames: readonly string[];
}

/** Whether a step reads data (so it can change between transactions). */
export function isDataStep(s: Step): boolean {
  return s.kind === 'atom' || s.kind === 'get-else' || s.kind === 'get-some' || s.kind === 'missing';
}

/** Relations a step reads. */
export function stepSources(s: Step): readonly RelSource[] {
  switch (s.kind) {
    case 'atom':
    case 'get-else':
    case 'missing':
      return [s.src];
    case 'get-some':
      return s.srcs;
    default:
      return [];
  }
}

/** Variables a step needs bound before it can run (besides what it binds itself). */
export function stepInputs(s: Step): number[] {
  const vs = (ts: readonly (Term | null)[]) => ts.filter((t): t is Term & { kind: 'var' } => t !== null && t.kind === 'var').map((t) => t.slot);
  switch (s.kind) {
    case 'atom':
      return s.neg ? vs(s.args) : [];
    case 'pred':
    case 'fn':
      return [...vs(s.args), ...(s.fn.kind === 'var' ? [s.fn.slot] : [])];
    case 'get-else':
      return vs([s.e, s.dflt]);
    case 'get-some':
    case 'missing':
      return vs([s.e]);
  }
}

/** Variables a step binds (or checks, when already bound). */
export function stepOutputs(s: Step): number[] {
  const vs = (ts: readonly (Term | null)[]) => ts.filter((t): t is Term & { kind: 'var' } => t !== null && t.kind === 'var').map((t) => t.slot);
  switch (s.kind) {
    case 'atom':
      return s.neg ? [] : vs(s.args);
    case 'pred':
    case 'missing':
      return [];
    case 'fn':
    case 'get-some':
      return bindPatSlots(s.out);
    case 'get-else':
      return [s.out];
  }
}

export function bindPatSlots(b: BindPat, out: number[] = []): number[] {
  switch (b.k) {
    case 'scalar':
      out.push(b.slot);
      break;
    case 'tuple':
      for (const e of b.elems) bindPatSlots(e, out);
      break;
    case 'coll':
      bindPatSlots(b.elem, out);
      break;
    case 'ignore':
      break;
  }
  return out;
}
