/** The static check that decides whether a rule instance needs its caller's bindings as demand. */
import type { Clause, RuleBranch } from '@dataloom/query';
import { collectVars } from '@dataloom/query';

export interface RuleDef {
  readonly id: number;
  readonly name: string;
  readonly branches: readonly RuleBranch[];
  /** Anonymous (`or`/`not`) definitions get demand only when they need it. */
  readonly anon: 'or' | 'not' | null;
}

/**
 * Whether every branch of `def` can bind its head and feed its predicates from its own generators
 * when the head positions `boundPos` are given (a syntactic check on the AST).
 */
export function rangeRestricted(def: RuleDef, boundPos: number[]): boolean {
  for (const br of def.branches) {
    const head = [...br.vars.required, ...br.vars.free].map((v) => v.name);
    const bound = new Set(boundPos.map((i) => head[i]!));
    const needed = new Set<string>();
    const gen = (cs: readonly Clause[]): void => {
      for (const c of cs) {
        switch (c.kind) {
          case 'pattern':
            for (const t of c.terms) if (t.kind === 'var') bound.add(t.name);
            break;
          case 'rule-call':
            for (const t of c.args) if (t.kind === 'var') bound.add(t.name);
            break;
          case 'fn':
            for (const a of c.args) if (a.kind === 'var') needed.add(a.name);
            for (const v of collectVars([c])) if (!c.args.some((a) => a.kind === 'var' && a.name === v.name)) bound.add(v.name);
            break;
          case 'pred':
            for (const a of c.args) if (a.kind === 'var') needed.add(a.name);
            break;
          case 'and':
            gen(c.clauses);
            break;
          case 'or': {
            // Variables every branch binds by itself count as bound.
            for (const v of c.joinVars) needed.add(v.name);
            const sub: RuleDef = { id: -1, name: '', anon: 'or', branches: c.clauses.map((x) => ({ vars: { required: [], free: c.joinVars }, clauses: x.kind === 'and' ? x.clauses : [x] })) };
            if (rangeRestricted(sub, [])) for (const v of c.joinVars) bound.add(v.name);
            break;
          }
          case 'not':
            for (const v of c.vars ?? []) needed.add(v.name);
            break;
        }
      }
    };
    gen(br.clauses);
    for (const h of head) if (!bound.has(h)) return false;
    for (const n of needed) if (!bound.has(n)) return false;
  }
  return true;
}
