/**
 * What a scope's pull pattern takes along (`{ query, pull }`), as Datalog the server's engine
 * maintains incrementally: the entities `pull` would nest as maps from each entity the scope query
 * finds, by DataScript's rules (core's `pull` follows them too):
 *
 * - a map entry's sub-pattern (`{:todo/list [*]}`, reverse `{:todo/_list [*]}`) reaches its
 *   targets, pulled with the sub-pattern;
 * - a recursive entry (`{:folder/parent ...}`, or a depth `{:friend 2}`) reaches its targets,
 *   pulled with the enclosing pattern again; a depth counts, per entry, the recursive steps of that
 *   entry on the path so far (carried into sub-patterns), and the entry stops when it is spent;
 * - a forward component attribute without a sub-pattern (`[:order/lines]`), and every component
 *   attribute an entity has under `*` that the pattern does not name, reaches the component, pulled
 *   with `[*]` (so its own components come too);
 * - a plain ref attribute (`pull` gives only its `:db/id`), a reverse component attribute without
 *   sub-pattern, and a second entry of a forward attribute an earlier entry of the same pattern
 *   read reach nothing.
 *
 * Each pattern, with the depths spent on the way to it, is a state; each state becomes a rule
 * `(scope-pull-<k> ?from ?to)`, and the query reads the scope's root view by name. The scope takes
 * an entity along whenever a step reaches it, even where `pull` would drop its map as empty, and
 * every value of a many attribute (`pull` stops at `:limit`, 1000 by default); and a recursion
 * step into an entity already on the path is followed (`pull` answers it with its `:db/id`) — more
 * than `pull` shows there, never more than the user may read: under read rules every step reads a
 * datom the user may read (`scope-guard.ts`).
 */
import { DataloomError, kw, printEdn, sym, type Keyword, type Pattern } from '@dataloom/core';
import { parsePattern, type MergeSchema } from '@dataloom/core/internals';
import { parseQuery } from '@dataloom/query';
import { USER_VAR, type Guard } from './scope-guard.js';

type Spec = Pattern['attrs'][number];
/** A pattern and the depth each of its finite recursive entries spent on the way to it. */
interface State {
  pattern: Pattern;
  depth: ReadonlyMap<Spec, number>;
}
/** One step of a state: the attribute (forward, or reverse), and the state its targets are pulled with. */
interface Step {
  attr: Keyword;
  reverse: boolean;
  to: State;
}

/** More states than this (recursion depths multiply them) is refused. */
const MAX_STATES = 256;
const STAR: Pattern = parsePattern('[*]');

/** The query (and its rules) finding the entities `pull` reaches from the rows of the view `root`; null when it reaches none. */
export function pullReach(query: string, root: string, pull: string, schema: MergeSchema, guard: Guard | null = null): { query: string; rules: string } | null {
  let pattern: Pattern;
  try {
    pattern = parsePattern(pull);
  } catch (e) {
    throw new DataloomError('sync/scope-invalid', `bad pull pattern: ${(e as Error).message}`, {});
  }
  const states = new Map<string, { name: string; steps: Step[] }>();
  const patternIds = new Map<Pattern, number>();
  const specIds = new Map<Spec, number>();
  const idOf = <T>(m: Map<T, number>, x: T) => m.get(x) ?? (m.set(x, m.size), m.size - 1);
  const keyOf = (s: State) => `${idOf(patternIds, s.pattern)}|${[...s.depth].map(([sp, d]) => `${idOf(specIds, sp)}:${d}`).sort().join(',')}`;
  const queue: State[] = [];
  const nameOf = (s: State): string => {
    const k = keyOf(s);
    const known = states.get(k);
    if (known) return known.name;
    if (states.size >= MAX_STATES) throw new DataloomError('sync/scope-invalid', `pull pattern ${pull.slice(0, 200)} needs more than ${MAX_STATES} rules (its recursion depths multiply)`, {});
    const name = `scope-pull-${states.size}`;
    states.set(k, { name, steps: [] });
    queue.push(s);
    return name;
  };
  nameOf({ pattern, depth: new Map() });
  while (queue.length > 0) {
    const s = queue.shift()!;
    states.get(keyOf(s))!.steps = stepsOf(s, schema);
    for (const step of states.get(keyOf(s))!.steps) nameOf(step.to);
  }
  const rules: string[] = [];
  // shared permission views are keyed by user: the rules take the user along
  const u = guard?.user !== undefined ? `${USER_VAR.fqn} ` : '';
  for (const [, { name, steps }] of states) {
    for (const s of steps) {
      const a = ':' + s.attr.fqn;
      // under read rules a step reads a datom of the entity it leaves (forward) or arrives at (reverse): it must be readable
      const step = (from: string, to: string) => {
        const check = guard ? ' ' + printEdn(guard.clause(sym(s.reverse ? to : from), s.attr, USER_VAR) as never) : '';
        return (s.reverse ? `[${to} ${a} ${from}]` : `[${from} ${a} ${to}]`) + check;
      };
      rules.push(`[(${name} ${u}?from ?to) ${step('?from', '?to')}]`);
      const next = states.get(keyOf(s.to))!;
      if (next.steps.length > 0) rules.push(`[(${name} ${u}?from ?to) ${step('?from', '?via')} (${next.name} ${u}?via ?to)]`);
    }
  }
  if (rules.length === 0) return null;
  const arity = findArity(query);
  const rest = ' _'.repeat(arity - 1);
  const userIn = u ? ` ${USER_VAR.fqn}` : '';
  return { query: `[:find ?to :in $ %${userIn} :where [${root} ?e${rest}] (scope-pull-0 ${u}?e ?to)]`, rules: `[${rules.join(' ')}]` };
}

/** The steps `pull` takes from an entity pulled with `s` (see the file comment). */
function stepsOf(s: State, schema: MergeSchema): Step[] {
  const out: Step[] = [];
  const p = s.pattern;
  const read = new Set<string>();
  for (const spec of p.attrs) {
    const a = spec.attr.fqn;
    if (a === 'db/id' && !spec.reverse) continue;
    if (!spec.reverse) {
      // the values of a forward attribute go to the first entry reading it
      if (read.has(a)) continue;
      read.add(a);
    }
    const attr = schema.get(a);
    if (!attr.ref) continue;
    if (spec.recursion !== null) {
      if (spec.recursion === Infinity) out.push({ attr: spec.attr, reverse: spec.reverse, to: { pattern: p, depth: s.depth } });
      else {
        const d = s.depth.get(spec) ?? 0;
        if (d < spec.recursion) out.push({ attr: spec.attr, reverse: spec.reverse, to: { pattern: p, depth: new Map([...s.depth, [spec, d + 1]]) } });
      }
    } else if (spec.sub !== null) out.push({ attr: spec.attr, reverse: spec.reverse, to: { pattern: spec.sub, depth: s.depth } });
    else if (!spec.reverse && attr.component) out.push({ attr: spec.attr, reverse: false, to: { pattern: STAR, depth: new Map() } });
  }
  if (p.wildcard) {
    for (const [a, attr] of schema.entries()) {
      if (attr.ref && attr.component && !read.has(a) && !p.explicit.has(kw(a))) out.push({ attr: kw(a), reverse: false, to: { pattern: STAR, depth: new Map() } });
    }
  }
  return out;
}

/** How many columns the rows of `query` have. */
function findArity(query: string): number {
  const f = parseQuery(query).find;
  return f.kind === 'rel' || f.kind === 'tuple' ? f.elements.length : 1;
}
