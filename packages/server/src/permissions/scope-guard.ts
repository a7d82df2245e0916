/**
 * Scope queries under read rules see only what their user may read. A scope query runs on the
 * server over the whole database, so whether an entity enters a scope could otherwise say
 * something of data the user may not read ("my entity, if some doc's salary is over 100k"). Here
 * every data pattern of the query — in `not`, `or` and `and` bodies too — is followed by a guard:
 * its entity is readable by the user (`can-read`), or that attribute of it (`can-read-attr`). The
 * guard reads the engine's permission views by name (`readable.ts`), so it costs a join, not a
 * second evaluation of the rules.
 *
 * What a guarded query cannot do is refused (`sync/scope-invalid`): rule calls (`%` inputs),
 * named relations (other views of the server), functions given a database (`get-else`,
 * `missing?`, …), other sources, lookup refs as entities, and the map form of a query.
 */
import { DataloomError, List, Keyword, parseEdn, sym, type EdnValue, Sym } from '@dataloom/core';


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

/** `query` (EDN text) with its patterns guarded, as EDN data, and whether the user is its last input. */
export function guardScopeQuery(query: string, guard: Guard): { query: EdnValue; userInput: boolean } {
  const form = parseEdn(query);
  if (!Array.isArray(form)) refuse('the map form (write it as a vector)');
  const sections: Array<[Keyword, EdnValue[]]> = [];
  for (const x of form) {
    if (x instanceof Keyword) sections.push([x, []]);
    else if (sections.length === 0) refuse('a query without :find');
    else sections[sections.length - 1]![1].push(x);
  }
  let fresh = 0;
  const freshVar = () => sym(`?__scope-g${fresh++}`);
  const clauses = (cs: readonly EdnValue[]): EdnValue[] => {
    const out: EdnValue[] = [];
    for (const c of cs) {
      if (Array.isArray(c)) {
        const head = c[0];
        if (head instanceof List) {
          for (const arg of head.items.slice(1)) if (arg instanceof Sym && arg.fqn.startsWith('$')) refuse(`a function given a database (${String(head.items[0])})`);
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
        // a join's own variables are fresh inside it: the user's variable joins it too
        const joinVars = (v: EdnValue | undefined): EdnValue => (Array.isArray(v) && guard.user !== undefined ? [...v, USER_VAR] : v!);
        if (name === 'not' || name === 'and') out.push(new List([h!, ...clauses(rest)]));
        else if (name === 'not-join') out.push(new List([h!, joinVars(rest[0]), ...clauses(rest.slice(1))]));
        else if (name === 'or' || name === 'or-join') {
          const vars = name === 'or-join' ? [joinVars(rest[0])] : [];
          const branches = (name === 'or-join' ? rest.slice(1) : rest).map((b) => {
            const inner = b instanceof List && b.items[0] instanceof Sym && b.items[0].fqn === 'and' ? b.items.slice(1) : [b];
            return new List([sym('and'), ...clauses(inner)]);
          });
          out.push(new List([h!, ...vars, ...branches]));
        } else refuse(`a rule call or named relation (${name || String(h)})`);
      } else out.push(c);
    }
    return out;
  };
  const userInput = guard.user !== undefined;
  const out: EdnValue[] = [];
  let hasIn = false;
  for (const [k, body] of sections) {
    if (k.fqn === 'in') {
      hasIn = true;
      if (body.some((b) => b instanceof Sym && b.fqn.startsWith('%'))) refuse('rules (%)');
      out.push(k, ...body, ...(userInput ? [USER_VAR] : []));
    } else if (k.fqn === 'where') out.push(k, ...clauses(body));
    else out.push(k, ...body);
  }
  if (!hasIn && userInput) {
    const at = out.findIndex((x) => x instanceof Keyword && x.fqn === 'where');
    out.splice(at < 0 ? out.length : at, 0, kwIn, sym('$'), USER_VAR);
  }
  return { query: out, userInput };
}

const kwIn = parseEdn(':in') as Keyword;
