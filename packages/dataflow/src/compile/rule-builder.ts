/**
 * Builds one flat rule body from clauses: variable slots, the static "bound so far" set (clauses
 * are lowered in written order, the way DataScript evaluates them) and the "selective" set — the
 * variables bound from constants or inputs, which are worth passing down as demand to rule calls.
 */
import type { Step, Term } from '../ir/types.js';
import { stepInputs, stepOutputs } from '../ir/types.js';

export class RuleBuilder {
  readonly slots = new Map<string, number>();
  readonly names: string[] = [];
  readonly steps: Step[] = [];
  readonly bound = new Set<string>();
  readonly selective = new Set<string>();
  private freshCount = 0;

  slot(name: string): number {
    let s = this.slots.get(name);
    if (s === undefined) {
      s = this.names.length;
      this.slots.set(name, s);
      this.names.push(name);
    }
    return s;
  }

  fresh(prefix = '_'): number {
    return this.slot(`${prefix}#${this.freshCount++}`);
  }

  varTerm(name: string): Term {
    return { kind: 'var', slot: this.slot(name) };
  }

  get nslots(): number {
    return this.names.length;
  }

  /** Appends a step and marks what it binds as bound (and selective when `selective`). */
  push(step: Step, selective: boolean): void {
    this.steps.push(step);
    for (const s of stepOutputs(step)) {
      const n = this.names[s]!;
      this.bound.add(n);
      if (selective) this.selective.add(n);
    }
  }

  isBoundTerm(t: Term): boolean {
    return t.kind === 'const' || this.bound.has(this.names[t.slot]!);
  }

  isSelectiveTerm(t: Term): boolean {
    return t.kind === 'const' || this.selective.has(this.names[t.slot]!);
  }

  /**
   * The steps so far that can run on their own (inputs bound by earlier generators): the body of a
   * demand rule for a call placed here. Dropping a filter only widens the demand, which is safe.
   */
  prefix(): Step[] {
    return this.prefixIndexes().map((i) => this.steps[i]!);
  }

  /** Indexes (in order) of the steps of {@link prefix}. */
  prefixIndexes(): number[] {
    const bound = new Set<number>();
    let changed = true;
    const taken = new Set<number>();
    while (changed) {
      changed = false;
      this.steps.forEach((s, i) => {
        if (taken.has(i)) return;
        if (stepInputs(s).every((x) => bound.has(x))) {
          taken.add(i);
          changed = true;
          for (const o of stepOutputs(s)) bound.add(o);
        }
      });
    }
    return [...taken].sort((a, b) => a - b);
  }

  /**
   * The prefix at `idx` when it calls a function given as an input (`[(?f …) ?x]`, `[(?p …)]`:
   * maybe costly, maybe returning a fresh object per call), else null: then the caller
   * materialises it once as a relation over {@link namedSlots} and reads it through
   * {@link replaceSteps}. Built-ins are cheap and give equal values for equal arguments, so a
   * prefix calling only them is evaluated again (materialising it cost ~20% more registration on
   * `[(str ?x "!") ?b]` before an `or-join` at 20k rows).
   */
  callingPrefix(idx: readonly number[]): Step[] | null {
    const steps = idx.map((i) => this.steps[i]!);
    return steps.some((s) => (s.kind === 'fn' || s.kind === 'pred') && s.fn.kind === 'var') ? steps : null;
  }

  /** The variables (not fresh slots: `_`, lookup refs) that `steps` bind, in slot order. */
  namedSlots(steps: readonly Step[]): number[] {
    const out = new Set<number>();
    for (const s of steps) for (const o of stepOutputs(s)) if (!this.names[o]!.includes('#')) out.add(o);
    return [...out].sort((a, b) => a - b);
  }

  /** Replaces the steps at `idx` by `step` (placed first; the other steps keep their order). */
  replaceSteps(idx: readonly number[], step: Step): void {
    const drop = new Set(idx);
    const rest = this.steps.filter((_, i) => !drop.has(i));
    this.steps.length = 0;
    this.steps.push(step, ...rest);
  }
}
