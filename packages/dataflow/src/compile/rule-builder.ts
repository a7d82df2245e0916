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
    const bound = new Set<number>();
    const out: Step[] = [];
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
    this.steps.forEach((s, i) => {
      if (taken.has(i)) out.push(s);
    });
    return out;
  }
}
