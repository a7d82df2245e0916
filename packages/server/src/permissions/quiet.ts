/**
 * Built-ins that cannot throw in the engine every connection shares. The server evaluates scope
 * queries (`scope-guard.ts`) and the app's permission rules (`can-read`, `can-read-attr`,
 * `can-write`, draft rules and the helpers they call) over data any client may have written: a
 * function that throws on some value (`re-find` on a number, `<` across types) would otherwise
 * throw out of the shared `ReadEngine` on commit and stall every scope of the node, or let an error
 * name a value its reader may not read. So built-ins are called through {@link quiet} wrappers: a
 * call that throws lets nothing through (a predicate: false; a function: no binding), where `q`
 * would throw. Results where nothing throws are those of `q`.
 *
 * In rules a wrapped built-in is bound in the body itself — `[(re-find ?p ?v) ?m]` becomes
 * `[(ground <wrapper>) ?__perm-f0] [(?__perm-f0 ?p ?v) ?m]` — and an `or` whose branches this
 * gives variables of their own becomes an `or-join` on the variables its branches use. Wrappers
 * are kept per (rule, function), so the views of rule variants still share their operators.
 */
import { DataloomError, List, Sym, sym, type EdnValue } from '@dataloom/core';
import { BUILTINS } from '@dataloom/query';

type Fn = (...xs: unknown[]) => unknown;

/** `f`, answering nil where it throws (a predicate: false; a function: no binding); `onThrow` hears of each throw. */
export function quiet(f: Fn, onThrow?: (e: unknown) => void): Fn {
  return (...xs) => {
    try {
      return f(...xs);
    } catch (e) {
      onThrow?.(e);
      return null;
    }
  };
}

/**
 * Built-ins that cannot throw on any value (equality, the total order of `compareValues`, nil
 * tests, `str`): rules call them directly, so the engine still plans them as built-ins (a wrapped
 * call is a function variable; per-user views of a rule like `[(str ?u) ?s] [(= ?s "auditor")]`
 * cost 2–4× more per transaction wrapped).
 */
const CANNOT_THROW = new Set(['ground', '=', '==', 'not=', '!=', '<', '>', '<=', '>=', 'true?', 'false?', 'nil?', 'some?', 'identity', 'str']);

/** The built-in a function clause `[(f …) …]` calls, where it needs a wrapper (one that can throw, not given a database). */
export function wrappableBuiltin(head: List): Fn | undefined {
  const f = head.items[0];
  if (!(f instanceof Sym) || CANNOT_THROW.has(f.fqn)) return undefined;
  if (head.items.slice(1).some((arg) => arg instanceof Sym && arg.fqn.startsWith('$'))) return undefined;
  return BUILTINS.get(f.fqn) as Fn | undefined;
}

const isVar = (x: unknown): x is Sym => x instanceof Sym && x.fqn.startsWith('?');

/** The variables of a form (`_` aside). */
export function varsOf(x: unknown, out: Set<string> = new Set()): Set<string> {
  if (x instanceof Sym) {
    if (isVar(x) && x.fqn !== '_') out.add(x.fqn);
  } else if (x instanceof List) for (const i of x.items) varsOf(i, out);
  else if (Array.isArray(x)) for (const i of x) varsOf(i, out);
  return out;
}

/** Permission rules with their built-ins wrapped; a throw is reported once per (rule, function). */
export class QuietRules {
  private readonly fns = new Map<string, Fn>();
  private readonly done = new WeakMap<object, EdnValue>();
  private readonly reported = new Set<string>();
  private wrapped = 0;
  /** The first (rule, function) that threw since it was last cleared (the write gate reads it). */
  threw: { rule: string; fn: string } | null = null;

  constructor(private readonly report: (e: DataloomError) => void = () => {}) {}

  /** `rules` (a rules vector, as data) with every built-in call wrapped (memoized per rules object). */
  rules(rules: EdnValue): EdnValue {
    if (!Array.isArray(rules)) return rules;
    const hit = this.done.get(rules);
    if (hit !== undefined) return hit;
    const out = rules.map((branch) => {
      if (!Array.isArray(branch) || !(branch[0] instanceof List)) return branch;
      const head = branch[0].items[0];
      const rule = head instanceof Sym ? head.fqn : String(head);
      let fresh = 0;
      return [branch[0], ...this.clauses(branch.slice(1), rule, () => sym(`?__perm-f${fresh++}`))];
    });
    this.done.set(rules, out);
    return out;
  }

  private wrapper(rule: string, name: string, f: Fn): Fn {
    const key = rule + '\u0000' + name;
    let w = this.fns.get(key);
    if (w === undefined) {
      w = quiet(f, (e) => {
        this.threw ??= { rule, fn: name };
        if (this.reported.has(key)) return;
        this.reported.add(key);
        const err = e as { code?: string; message?: string };
        this.report(
          new DataloomError(
            'server/permissions',
            `permission rule (${rule} …) calls ${name}, which threw on the data (${err.code ?? 'error'}: ${String(err.message ?? e).slice(0, 200)}); that binding is taken as not matching (reported once per rule and function)`,
            { rule, fn: name },
          ),
        );
      });
      this.fns.set(key, w);
    }
    return w;
  }

  private clauses(cs: readonly EdnValue[], rule: string, fresh: () => Sym): EdnValue[] {
    const out: EdnValue[] = [];
    for (const c of cs) {
      if (Array.isArray(c) && c[0] instanceof List) {
        const builtin = wrappableBuiltin(c[0]);
        if (builtin === undefined) out.push(c);
        else {
          const v = fresh();
          this.wrapped++;
          const name = (c[0].items[0] as Sym).fqn;
          out.push([new List([sym('ground'), this.wrapper(rule, name, builtin) as unknown as EdnValue]), v]);
          out.push([new List([v, ...c[0].items.slice(1)]), ...c.slice(1)]);
        }
      } else if (c instanceof List) {
        const [h, ...rest] = c.items;
        const name = h instanceof Sym ? h.fqn : '';
        if (name === 'not' || name === 'and') out.push(new List([h!, ...this.clauses(rest, rule, fresh)]));
        else if (name === 'not-join') out.push(new List([h!, rest[0]!, ...this.clauses(rest.slice(1), rule, fresh)]));
        else if (name === 'or' || name === 'or-join') {
          const given = name === 'or-join' ? rest.slice(1) : rest;
          const from = this.wrapped;
          const branches = given.map((b) => {
            const inner = b instanceof List && b.items[0] instanceof Sym && b.items[0].fqn === 'and' ? b.items.slice(1) : [b];
            return new List([sym('and'), ...this.clauses(inner, rule, fresh)]);
          });
          if (this.wrapped === from) out.push(c);
          else {
            // the branches' variables, before wrappers added their own (an `or`'s branches all use them)
            const vars = name === 'or-join' ? rest[0]! : [...varsOf(rest)].sort().map((v) => sym(v));
            out.push(new List([sym('or-join'), vars, ...branches]));
          }
        } else out.push(c);
      } else out.push(c);
    }
    return out;
  }
}
