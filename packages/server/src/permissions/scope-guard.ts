/**
 * Scope queries under read rules see only what their user may read. A scope query runs on the
 * server over the whole database, so whether an entity enters a scope could otherwise say
 * something of data the user may not read ("my entity, if some doc's salary is over 100k"). Here
 * every data pattern of the query — in `not`, `or` and `and` bodies too — is followed by a guard:
 * its entity is readable by the user (`can-read`), or that attribute of it (`can-read-attr`). The
 * guard reads the engine's permission views by name (`readable.ts`), so it costs a join, not a
 * second evaluation of the rules.
 *
 * The engine may call a function or predicate on a value before the guard filters it out (its
 * plan runs a call as soon as its inputs are bound), so built-ins are called through wrappers that
 * answer nil where they would throw: an error cannot name a value the user may not read, nor stop
 * the engine every connection shares (a scope query differs from `q` there: a call that throws
 * lets nothing through). Scope queries without read rules get the wrappers too, and nothing else. An `or` whose branches the guard gives variables of their own (a `_`
 * entity, the user) becomes an `or-join` on the variables its branches share.
 *
 * What a guarded query cannot do is refused (`sync/scope-invalid`): rule calls (`%` inputs),
 * named relations (other views of the server), functions given a database (`get-else`,
 * `missing?`, …), other sources, lookup refs as entities, and the map form of a query.
 */
import { DataloomError, List, Keyword, parseEdn, sym, type EdnValue, Sym } from '@dataloom/core';
import { BUILTINS } from '@dataloom/query';
import { quiet, varsOf } from './quiet.js';

/** How one user's guard reads the permission views. */
export interface Guard {
  /** The user, given as the query's last input (shared views are keyed by user), or undefined. */
  user: unknown;
  /** The guard clause for a datom of entity `e` (a variable) and attribute `a` (undefined: any). */
  clause(e: Sym, a: EdnValue | undefined, userVar: Sym): EdnValue;
}

export const USER_VAR = sym('?__scope-user');

function refuse(what: string): never {
  throw new DataloomError('sync/scope-invalid', `with read rules, a scope query cannot use ${what}`, {});
}

const isVar = (x: unknown): x is Sym => x instanceof Sym && x.fqn.startsWith('?');

/**
 * `query` (EDN text) with its patterns guarded, as EDN data, and the inputs it takes after the
 * query's own. Without a guard (no read rules) only its built-ins are wrapped (a throw would stop
 * the engine every connection shares) and nothing is refused.
 */
export function guardScopeQuery(query: string, guard: Guard | null): { query: EdnValue | string; inputs: unknown[] } {
  const form = parseEdn(query);
  if (!Array.isArray(form)) {
    if (guard) refuse('the map form (write it as a vector)');
    return { query, inputs: [] };
  }
  const sections: Array<[Keyword, EdnValue[]]> = [];
  for (const x of form) {
    if (x instanceof Keyword) sections.push([x, []]);
    else if (sections.length === 0) {
      if (guard) refuse('a query without :find');
      return { query, inputs: [] };
    } else sections[sections.length - 1]![1].push(x);
  }
  let fresh = 0;
  const freshVar = () => sym(`?__scope-g${fresh++}`);
  const clauses = (cs: readonly EdnValue[]): EdnValue[] => {
    const out: EdnValue[] = [];
    for (const c of cs) {
      if (Array.isArray(c)) {
        const head = c[0];
        if (head instanceof List) {
          const givenDb = head.items.slice(1).some((arg) => arg instanceof Sym && arg.fqn.startsWith('$'));
          if (givenDb && guard) refuse(`a function given a database (${String(head.items[0])})`);
          // a built-in is called through a wrapper that cannot throw: the engine may call it on a
          // value before the guard filters it out, and its error would name that value
          const f = head.items[0];
          const builtin = f instanceof Sym && !givenDb ? BUILTINS.get(f.fqn) : undefined;
          if (builtin === undefined) out.push(c);
          else {
            const v = sym(`?__scope-f${fns.length}`);
            fns.push(quiet(builtin));
            out.push([new List([v, ...head.items.slice(1)]), ...c.slice(1)]);
          }
          continue;
        }
        if (!guard) {
          out.push(c);
          continue;
        }
        let pattern = c;
        if (head instanceof Sym && head.fqn.startsWith('$')) {
          if (head.fqn !== '$') refuse(`another source (${head.fqn})`);
          pattern = c.slice(1);
        }
        const e = pattern[0];
        if (Array.isArray(e)) refuse('a lookup ref as an entity');
        if (e instanceof Sym && !e.fqn.startsWith('?') && e.fqn !== '_') refuse(`a named relation (${e.fqn})`);
        let ev: Sym;
        if (isVar(e)) ev = e;
        else {
          ev = freshVar();
          if (e instanceof Sym) {
            // `_`: any entity, named so it can be guarded
          } else out.push([new List([sym('ground'), e as EdnValue]), ev]);
        }
        out.push([ev, ...pattern.slice(1)]);
        out.push(guard.clause(ev, pattern[1], USER_VAR));
      } else if (c instanceof List) {
        const [h, ...rest] = c.items;
        const name = h instanceof Sym ? h.fqn : '';
        // a join's own variables are fresh inside it: the user's variable and the wrapped
        // built-ins its body calls join it too
        const from = fns.length;
        const joinVars = (v: EdnValue | undefined): EdnValue =>
          Array.isArray(v) ? [...v, ...(guard?.user !== undefined ? [USER_VAR] : []), ...fns.slice(from).map((_, i) => sym(`?__scope-f${from + i}`))] : v!;
        if (name === 'not' || name === 'and') out.push(new List([h!, ...clauses(rest)]));
        else if (name === 'not-join') {
          const body = clauses(rest.slice(1));
          out.push(new List([h!, joinVars(rest[0]), ...body]));
        } else if (name === 'or' || name === 'or-join') {
          // the guard adds variables of its own to a branch (a `_` entity named, the user, a wrapped
          // built-in): an `or` becomes an `or-join` on the variables its branches use, so the
          // added ones stay the branch's own
          const branches = (name === 'or-join' ? rest.slice(1) : rest).map((b) => {
            const inner = b instanceof List && b.items[0] instanceof Sym && b.items[0].fqn === 'and' ? b.items.slice(1) : [b];
            return new List([sym('and'), ...clauses(inner)]);
          });
          const shared = name === 'or' && (guard || fns.length > from) ? branchVars(rest) : null;
          const vars = name === 'or-join' ? [joinVars(rest[0])] : shared ? [joinVars(shared)] : [];
          out.push(new List([shared ? sym('or-join') : h!, ...vars, ...branches]));
        } else if (guard) refuse(`a rule call or named relation (${name || String(h)})`);
        else out.push(c);
      } else out.push(c);
    }
    return out;
  };
  const userInput = guard?.user !== undefined;
  const fns: Array<(...xs: unknown[]) => unknown> = [];
  const where = sections.find(([k]) => k.fqn === 'where');
  const guardedWhere = where ? clauses(where[1]) : [];
  // after the query's own inputs: the wrapped built-ins, then the user
  const extra: EdnValue[] = [...fns.map((_, i) => sym(`?__scope-f${i}`)), ...(userInput ? [USER_VAR] : [])];
  const out: EdnValue[] = [];
  let hasIn = false;
  for (const [k, body] of sections) {
    if (k.fqn === 'in') {
      hasIn = true;
      if (guard && body.some((b) => b instanceof Sym && b.fqn.startsWith('%'))) refuse('rules (%)');
      out.push(k, ...body, ...extra);
    } else if (k.fqn === 'where') out.push(k, ...guardedWhere);
    else out.push(k, ...body);
  }
  if (!hasIn && extra.length > 0) {
    const at = out.findIndex((x) => x instanceof Keyword && x.fqn === 'where');
    out.splice(at < 0 ? out.length : at, 0, kwIn, sym('$'), ...extra);
  }
  return { query: out, inputs: [...fns, ...(userInput ? [guard!.user] : [])] };
}

/** The variables the branches of an `or` use (its join variables, as the query parser takes them). */
function branchVars(branches: readonly EdnValue[]): Sym[] {
  const all = new Set<string>();
  for (const b of branches) varsOf(b, all);
  return [...all].sort().map((v) => sym(v));
}

const kwIn = parseEdn(':in') as Keyword;
