/**
 * What a scope's pull pattern takes along (`{ query, pull }`), as Datalog the server's engine
 * maintains incrementally: the entities the pattern's nested maps reach from each entity the
 * scope query finds — `[:todo/title {:todo/list [*]}]` reaches the todos' lists,
 * `{:todo/list [{:list/owner [:user/name]}]}` their owners too, a reverse attribute
 * (`{:todo/_list [*]}`) the entities referring to the found one, and a recursive entry
 * (`{:folder/parent ...}` or a depth) the whole chain.
 *
 * Each (sub)pattern becomes a rule `(scope-pull-<k> ?from ?to)`; the query reads the scope's root
 * view by name. Taken along: entities reached through a map entry (as `pull` nests them). Not
 * taken along: the target of a plain ref attribute (`pull` gives only its `:db/id`) and
 * components under `*`. A recursion depth is followed without its limit (the scope may hold more
 * than that `pull` shows, never more than the user may read).
 */
import { DataloomError, Keyword, printEdn, sym, type Pattern } from '@dataloom/core';
import { parsePattern } from '@dataloom/core/internals';
import { parseQuery } from '@dataloom/query';
import { USER_VAR, type Guard } from './scope-guard.js';

/** The query (and its rules) finding the entities `pull` reaches from the rows of the view `root`; null when it reaches none. */
export function pullReach(query: string, root: string, pull: string, guard: Guard | null = null): { query: string; rules: string } | null {
  let pattern: Pattern;
  try {
    pattern = parsePattern(pull);
  } catch (e) {
    throw new DataloomError('sync/scope-invalid', `bad pull pattern: ${(e as Error).message}`, {});
  }
  const rules: string[] = [];
  // shared permission views are keyed by user: the rules take the user along
  const u = guard?.user !== undefined ? `${USER_VAR.fqn} ` : '';
  const names = new Map<Pattern, string>();
  /** The rule name of `p`, or null when `p` reaches nothing. */
  const ruleOf = (p: Pattern): string | null => {
    const known = names.get(p);
    if (known !== undefined) return known;
    const specs = p.attrs.filter((s) => s.sub !== null || s.recursion !== null);
    if (specs.length === 0) return null;
    const name = `scope-pull-${names.size}`;
    names.set(p, name);
    for (const s of specs) {
      const a = attrText(s.attr);
      // under read rules a step reads a datom of the entity it leaves (forward) or arrives at (reverse): it must be readable
      const step = (from: string, to: string) => {
        const datomOf = s.reverse ? to : from;
        const check = guard ? ' ' + printEdn(guard.clause(sym(datomOf), s.attr, USER_VAR) as never) : '';
        return (s.reverse ? `[${to} ${a} ${from}]` : `[${from} ${a} ${to}]`) + check;
      };
      rules.push(`[(${name} ${u}?from ?to) ${step('?from', '?to')}]`);
      const next = s.recursion !== null ? name : s.sub ? ruleOf(s.sub) : null;
      if (next !== null) rules.push(`[(${name} ${u}?from ?to) ${step('?from', '?via')} (${next} ${u}?via ?to)]`);
    }
    return name;
  };
  const top = ruleOf(pattern);
  if (top === null) return null;
  const arity = findArity(query);
  const rest = ' _'.repeat(arity - 1);
  const userIn = u ? ` ${USER_VAR.fqn}` : '';
  return { query: `[:find ?to :in $ %${userIn} :where [${root} ?e${rest}] (${top} ${u}?e ?to)]`, rules: `[${rules.join(' ')}]` };
}

function attrText(k: Keyword): string {
  return ':' + k.fqn;
}

/** How many columns the rows of `query` have. */
function findArity(query: string): number {
  const f = parseQuery(query).find;
  return f.kind === 'rel' || f.kind === 'tuple' ? f.elements.length : 1;
}
