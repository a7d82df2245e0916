/**
 * Full evaluation of a transitive closure set-at-a-time, on integers: the bulk path of
 * {@link RecursiveOperator}'s recomputation (registration) for a component of one binary relation
 * `M` with exactly the rules
 *
 *     M(x, y) :- B(x, y).
 *     M(x, y) :- E(x, z), M(z, y).      (right-linear: ancestors, `reach`)   or
 *     M(x, y) :- M(x, z), E(z, y).      (left-linear)
 *
 * where `B` and `E` are relations outside the component. The semi-naive rounds are the generic
 * ones, but grouped: the new pairs of a round are kept per join value `z` as integer lists, so one
 * lookup of `E` at `z` extends all of them, and no tuple is built per pair (the generic path plans
 * one binding per pair through the rule's steps). Each derivation is still found exactly once
 * (when its recursive tuple is new), so derivation counts come out as the generic path's.
 *
 * Used only when every value of `B` and `E` is a small non-negative integer (entity ids); else the
 * caller evaluates generically.
 */
import { type Arrangement, clearArrangement } from '../arrangement/arrangement.js';
import { isSmallPair } from '../arrangement/rows.js';
import type { RuleIR, Step } from '../ir/types.js';
import type { DerivedRel } from './derived.js';

export interface ClosureShape {
  readonly base: Arrangement;
  readonly step: Arrangement;
  /** Right-linear (`E(x, z), M(z, y)`); else left-linear (`M(x, z), E(z, y)`). */
  readonly right: boolean;
}

type Atom = Extract<Step, { kind: 'atom' }>;

/** The slots of a positive binary atom over variables (two distinct ones), or null. */
function binary(s: Step | undefined): [number, number, Atom] | null {
  if (s === undefined || s.kind !== 'atom' || s.neg || s.args.length !== 2 || s.src.arr.arity !== 2) return null;
  const [a, b] = s.args;
  if (a!.kind !== 'var' || b!.kind !== 'var' || a!.slot === b!.slot) return null;
  return [a!.slot, b!.slot, s];
}

/** Whether `rules` (all of component member `m`'s, the only member) have the closure shape. */
export function closureShape(m: DerivedRel, rules: readonly RuleIR[]): ClosureShape | null {
  if (rules.length !== 2 || m.arr.arity !== 2) return null;
  let base: Arrangement | null = null;
  let step: Arrangement | null = null;
  let right = true;
  for (const r of rules) {
    const h = r.headArgs;
    if (h.length !== 2 || h[0]!.kind !== 'var' || h[1]!.kind !== 'var') return null;
    const x = h[0]!.slot;
    const y = h[1]!.slot;
    if (x === y) return null;
    if (r.body.length === 1) {
      const b = binary(r.body[0]);
      if (b === null || b[2].src.id === m.id || b[0] !== x || b[1] !== y) return null;
      base = b[2].src.arr;
    } else if (r.body.length === 2) {
      const p = binary(r.body[0]);
      const q = binary(r.body[1]);
      if (p === null || q === null) return null;
      const [e, rec] = p[2].src.id === m.id ? [q, p] : [p, q];
      if (e[2].src.id === m.id || rec[2].src.id !== m.id) return null;
      const z = rec[0] === x ? rec[1] : rec[0];
      if (z === x || z === y) return null;
      if (e[0] === x && e[1] === z && rec[0] === z && rec[1] === y) right = true;
      else if (rec[0] === x && rec[1] === z && e[0] === z && e[1] === y) right = false;
      else return null;
      step = e[2].src.arr;
    } else return null;
  }
  return base !== null && step !== null ? { base, step, right } : null;
}

/**
 * The non-linear transitive closure `M(x, y) :- B(x, y). M(x, y) :- M(x, z), M(z, y).` as its
 * linear equivalent (`M(x, y) :- B(x, z), M(z, y)`, the same least fixpoint: the closure of `B`),
 * so that it is maintained with derivation counts and evaluated by {@link evalClosure}; null for
 * any other rule set.
 */
export function linearized(m: DerivedRel, rules: readonly RuleIR[]): RuleIR[] | null {
  if (rules.length !== 2 || m.arr.arity !== 2) return null;
  const base = rules.find((r) => r.body.length === 1);
  const rec = rules.find((r) => r.body.length === 2);
  if (base === undefined || rec === undefined) return null;
  const head = (r: RuleIR): [number, number] | null => {
    const [a, b] = r.headArgs;
    return r.headArgs.length === 2 && a!.kind === 'var' && b!.kind === 'var' && a!.slot !== b!.slot ? [a!.slot, b!.slot] : null;
  };
  const hb = head(base);
  const hr = head(rec);
  const e = binary(base.body[0]);
  const p = binary(rec.body[0]);
  const q = binary(rec.body[1]);
  if (hb === null || hr === null || e === null || p === null || q === null) return null;
  if (e[2].src.id === m.id || e[0] !== hb[0] || e[1] !== hb[1]) return null;
  if (p[2].src.id !== m.id || q[2].src.id !== m.id) return null;
  const [x, y] = hr;
  // M(x, z), M(z, y) in either order.
  const [first, second] = p[0] === x ? [p, q] : [q, p];
  const z = first[1];
  if (first[0] !== x || second[0] !== z || second[1] !== y || z === x || z === y) return null;
  const v = (slot: number) => ({ kind: 'var' as const, slot });
  const step: Step = { kind: 'atom', src: e[2].src, args: [v(x), v(z)], neg: false };
  const recur: Step = { kind: 'atom', src: m, args: [v(z), v(y)], neg: false };
  return [base, { ...rec, body: [step, recur] }];
}

function allSmallPairs(a: Arrangement): boolean {
  for (const t of a.rows.values()) if (!isSmallPair(t[0], t[1])) return false;
  return true;
}

/**
 * Right-linear closure on an acyclic `E`, node by node: `M(x) = B(x, ·) ∪ ⋃ M(z)` over `E(x, z)`,
 * each `x` after its successors (iterative depth-first post-order), reading `M(z)` from `out`
 * itself. Every derivation `E(x, z), M(z, y)` is met once, when `x` is finished. Returns false
 * (with `out` partly filled: the caller clears it) on meeting a cycle.
 */
function byNode(base: Arrangement, step: Arrangement, out: Arrangement, more: (x: number, y: number) => void): boolean {
  const state = new Map<number, number>(); // 1: on the stack, 2: finished
  const nodes: number[] = [];
  const pushSuccs = (t: unknown[]): void => void nodes.push(t[1] as number);
  const addBase = (t: unknown[]): void => void (out.insertPair(t[0] as number, t[1] as number) || more(t[0] as number, t[1] as number));
  let x = 0;
  const addFrom = (y: number): void => void (out.insertPair(x, y) || more(x, y));
  // The DFS stack as parallel arrays: node, start of its successors in `nodes`, next successor.
  const stN: number[] = [];
  const stS: number[] = [];
  const stI: number[] = [];
  const enter = (v: number): void => {
    state.set(v, 1);
    stN.push(v);
    stS.push(nodes.length);
    stI.push(nodes.length);
    step.each(1, v, false, pushSuccs);
  };
  const visit = (r: number): boolean => {
    if (state.has(r)) return true;
    enter(r);
    while (stN.length > 0) {
      const top = stN.length - 1;
      const v = stN[top]!;
      const i = stI[top]!;
      if (i < nodes.length) {
        stI[top] = i + 1;
        const z = nodes[i]!;
        const st = state.get(z);
        if (st === 1) return false;
        if (st === undefined) enter(z);
        continue;
      }
      // Every successor finished: M(v) = B(v, ·) ∪ M(z) for each successor z.
      base.each(1, v, false, addBase);
      x = v;
      for (let j = stS[top]!; j < nodes.length; j++) out.rows.eachSecondInt(nodes[j]!, addFrom);
      state.set(v, 2);
      nodes.length = stS[top]!;
      stN.pop();
      stS.pop();
      stI.pop();
    }
    return true;
  };
  for (const a of [base, step]) for (const t of a.rows.values()) if (!visit(t[0] as number)) return false;
  return true;
}

/**
 * Evaluates the closure into `out` (empty, its rows exactly the result afterwards); `more(x, y)`
 * is told of each derivation beyond a pair's first (`reset()`: forget those told so far).
 * Right-linear closures over acyclic data go node by node ({@link byNode}), others by rounds;
 * returns which, or null, doing nothing, when some value is not a small integer.
 */
export function evalClosure(shape: ClosureShape, out: Arrangement, more: (x: number, y: number) => void, reset: () => void): 'node' | 'rounds' | null {
  const { base, step, right } = shape;
  if (!allSmallPairs(base) || (step !== base && !allSmallPairs(step))) return null;
  if (right && out.rows.compactPairs) {
    if (byNode(base, step, out, more)) return 'node';
    clearArrangement(out); // a cycle: by rounds instead (the caller's counts are cleared by `reset`)
    reset();
  }
  // Pairs new this round, by join value: right-linear (z, y) under z; left-linear (x, z) under z.
  let front = new Map<number, number[]>();
  let next = front;
  const add = (x: number, y: number): void => {
    if (!out.insertPair(x, y)) {
      more(x, y);
      return;
    }
    const z = right ? x : y;
    const l = next.get(z);
    if (l === undefined) next.set(z, [right ? y : x]);
    else l.push(right ? y : x);
  };
  for (const t of base.rows.values()) add(t[0] as number, t[1] as number);
  // One lookup of E per join value extends every new pair under it.
  let others: number[] = [];
  const extend = right
    ? (t: unknown[]): void => {
        const x = t[0] as number;
        for (let i = 0; i < others.length; i++) add(x, others[i]!);
      }
    : (t: unknown[]): void => {
        const y = t[1] as number;
        for (let i = 0; i < others.length; i++) add(others[i]!, y);
      };
  const mask = right ? 2 : 1;
  while (front.size > 0) {
    next = new Map();
    for (const [z, l] of front) {
      others = l;
      step.each(mask, z, false, extend);
    }
    front = next;
  }
  return 'rounds';
}
