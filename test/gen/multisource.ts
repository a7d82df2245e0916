/**
 * Seeded random multi-source queries, for the differential test against DataScript
 * (`test/query/multisource.test.ts`): two databases `$` and `$2` over {@link SCHEMA}, a collection
 * source `$c` (tuples `[e attr v]` or `[e v]`), explicit sources on patterns, on `not`/`not-join`/
 * `or`/`or-join`, on rule calls and on function arguments (`get-else`, `missing?`, `get-some`),
 * nested source switches, rules whose bodies name `$2`, pull with a source and with a pattern passed
 * as an input, and queries that omit a source they use (errors must agree).
 *
 * Avoids the forms where DataScript 1.8.1 is known to misbehave (see `queries.ts`): a variable
 * repeated inside one pattern, required-variable rule heads, mutual recursion over cyclic data.
 */
import { ATTRS, chance, type GenDb, int, type Rng } from './queries.js';
import { pick } from './prng.js';

/** Rules for multi-source queries: `reach`/`link` over the default source, `in2` naming `$2`. */
export const MS_RULES = `[[(reach ?a ?b) [?a :ref ?b]]
 [(reach ?a ?b) [?a :ref ?x] (reach ?x ?b)]
 [(link ?a ?b) [?a :ref ?b]]
 [(link ?a ?b) [?b :ref ?a]]
 [(has-a ?e ?v) [?e :a ?v]]
 [(in2 ?e) [$2 ?e :a _]]
 [(no-b ?e) [?e :a _] (not [?e :b _])]
 [(a-in-both ?e) [?e :a ?v] [$ ?e :a ?v]]
 [(not-in-$ ?e) [?e :a _] ($ not [?e :b _])]]`;

export interface GenMultiQuery {
  query: string;
  /** Input names in `:in` order after `$`: `$2`, `$c`, `%`, `?pat`. */
  ins: string[];
  /** The collection source (EDN text) and the pull pattern input (EDN text). */
  coll: string;
  pat: string;
}

const SMALL_ATTRS = ATTRS.filter((a) => a.kind === 'int' || a.kind === 'ref');

/** A collection source: 3-tuples `[e attr v]` (like datoms) or 2-tuples `[e v]`. */
export function genCollection(rng: Rng, n: number): { text: string; arity: 2 | 3 } {
  const arity = chance(rng, 0.65) ? 3 : 2;
  const k = int(rng, 0, 8);
  const tuples: string[] = [];
  for (let i = 0; i < k; i++) {
    const e = int(rng, 1, n);
    if (arity === 3) {
      const a = pick(rng, SMALL_ATTRS);
      tuples.push(`[${e} ${a.name} ${a.kind === 'ref' ? int(rng, 1, n) : int(rng, 0, 5)}]`);
    } else tuples.push(`[${e} ${int(rng, 0, 5)}]`);
  }
  const set = chance(rng, 0.2);
  return { text: (set ? '#{' : '[') + (set ? [...new Set(tuples)] : tuples).join(' ') + (set ? '}' : ']'), arity };
}

/** A random multi-source query over databases like `db` (ids 1..n in both). */
export function genMultiQuery(rng: Rng, db: GenDb): GenMultiQuery {
  const n = db.n;
  const coll = genCollection(rng, n);
  const used = new Set<string>();
  const ents: string[] = [];
  const ints: string[] = [];
  let next = 0;
  const fresh = (p: string) => `?${p}${next++}`;
  const ent = (): string => {
    if (ents.length > 0 && chance(rng, 0.7)) return pick(rng, ents);
    if (chance(rng, 0.1)) return String(int(rng, 1, n));
    const e = fresh('e');
    ents.push(e);
    return e;
  };
  const boundEnt = (): string | null => (ents.length ? pick(rng, ents) : null);
  const src = (): string => {
    const r = rng();
    if (r < 0.4) return '';
    if (r < 0.5) return '$ ';
    used.add('$2');
    return '$2 ';
  };
  const srcName = (): string => {
    const r = rng();
    if (r < 0.6) {
      used.add('$2');
      return '$2';
    }
    if (r < 0.8) {
      used.add('$c');
      return '$c';
    }
    return '$';
  };
  /** A data pattern over the default source of its context (no explicit source). */
  const plain = (e: string, canBind: boolean): string => {
    const a = pick(rng, SMALL_ATTRS);
    const r = rng();
    let v: string;
    if (r < 0.35) v = a.kind === 'ref' ? String(int(rng, 1, n)) : String(int(rng, 0, 5));
    else if (r < 0.5 || !canBind) v = '_';
    else {
      v = fresh(a.kind === 'ref' ? 'e' : 'v');
      (a.kind === 'ref' ? ents : ints).push(v);
    }
    return `[${e} ${a.name} ${v}]`;
  };
  const collPattern = (): string => {
    used.add('$c');
    const e = ent();
    if (coll.arity === 2) {
      const v = chance(rng, 0.3) ? String(int(rng, 0, 5)) : fresh('v');
      if (v.startsWith('?')) ints.push(v);
      return `[$c ${e} ${v}]`;
    }
    const a = pick(rng, SMALL_ATTRS);
    const attr = chance(rng, 0.2) ? '_' : a.name;
    const v = chance(rng, 0.3) ? (a.kind === 'ref' ? String(int(rng, 1, n)) : String(int(rng, 0, 5))) : fresh(a.kind === 'ref' ? 'e' : 'v');
    if (v.startsWith('?')) (a.kind === 'ref' && attr !== '_' ? ents : ints).push(v);
    return `[$c ${e} ${attr} ${v}]`;
  };

  const clauses: string[] = [];
  const nGen = int(rng, 1, 3);
  for (let i = 0; i < nGen; i++) {
    if (chance(rng, 0.25)) clauses.push(collPattern());
    else if (chance(rng, 0.08)) {
      // Variable attribute or entity-only pattern over another source.
      used.add('$2');
      const e = ent();
      if (chance(rng, 0.5)) clauses.push(`[$2 ${e}]`);
      else {
        const a = fresh('a');
        const v = fresh('x');
        clauses.push(`[$2 ${e} ${a} ${v}]`, `[(= ${a} :a)]`);
        ints.push(v);
      }
    } else {
      const s = src();
      const e = ent();
      clauses.push(plain(e, true).replace('[', '[' + s));
    }
  }
  const extras = int(rng, 0, 3);
  let usesRules = false;
  for (let i = 0; i < extras; i++) {
    const r = rng();
    const e = boundEnt();
    if (e === null) break;
    if (r < 0.18) {
      const s = srcName();
      clauses.push(`(${s === '$' ? '' : s + ' '}not ${plain(e, false)})`);
    } else if (r < 0.3) {
      const s = srcName();
      const t = fresh('n');
      clauses.push(`(${s} not-join [${e}] [${e} :ref ${t}] ${plain(t, false)})`);
    } else if (r < 0.45) {
      const s = srcName();
      clauses.push(`(${s} or ${plain(e, false)} ${plain(e, false)})`);
    } else if (r < 0.55) {
      const s = srcName();
      const t = fresh('n');
      clauses.push(`(${s} or-join [${e}] (and [${e} :ref ${t}] ${plain(t, false)}) ${plain(e, false)})`);
    } else if (r < 0.62) {
      // Nested switch: inside `$2`'s `or`, a `not` over `$` (the query's `$`? no: `$` is `$2` there).
      used.add('$2');
      const inner = chance(rng, 0.5) ? '$c' : '$';
      if (inner === '$c') used.add('$c');
      clauses.push(`($2 or (and ${plain(e, false)} (${inner} not ${plain(e, false)})) ${plain(e, false)})`);
    } else if (r < 0.75) {
      usesRules = true;
      const s = srcName();
      const rule = pick(rng, ['reach', 'link', 'has-a', 'in2', 'no-b', 'a-in-both', 'not-in-$']);
      const pre = s === '$' && chance(rng, 0.5) ? '' : s + ' ';
      if (rule === 'in2') used.add('$2');
      if (rule === 'in2' || rule === 'no-b' || rule === 'a-in-both' || rule === 'not-in-$') {
        // Sometimes the call sits inside another source's `or`: it inherits that default source.
        if (chance(rng, 0.3)) {
          used.add('$2');
          clauses.push(`($2 or (${rule} ${e}) ${plain(e, false)})`);
        } else clauses.push(`(${pre}${rule} ${e})`);
      }
      else {
        const b = fresh(rule === 'has-a' ? 'v' : 'e');
        (rule === 'has-a' ? ints : ents).push(b);
        clauses.push(`(${pre}${rule} ${e} ${b})`);
      }
    } else if (r < 0.85) {
      used.add('$2');
      const f = pick(rng, ['get-else', 'missing?', 'get-some']);
      const s = chance(rng, 0.8) ? '$2' : chance(rng, 0.5) ? '$' : '$c';
      if (s === '$c') used.add('$c');
      const w = fresh('v');
      if (f === 'get-else') {
        clauses.push(`[(get-else ${s} ${e} :b -1) ${w}]`);
        ints.push(w);
      } else if (f === 'missing?') clauses.push(`[(missing? ${s} ${e} :a)]`);
      else clauses.push(`[(get-some ${s} ${e} :b :a) [_ ${w}]]`);
    } else if (ints.length > 0) {
      clauses.push(`[(> ${pick(rng, ints)} ${int(rng, 0, 4)})]`);
    }
  }

  // Find.
  const vars = [...new Set([...ents, ...ints])];
  if (vars.length === 0) {
    clauses.push('[?zz :a _]');
    vars.push('?zz');
    ents.push('?zz');
  }
  let find: string;
  let usesPat = false;
  const fr = rng();
  const pe = ents.filter((x) => x.startsWith('?'));
  if (fr < 0.3 && pe.length > 0) {
    const e = pick(rng, pe);
    const psrc = chance(rng, 0.6) ? '$2 ' : chance(rng, 0.3) ? '$ ' : '';
    if (psrc === '$2 ') used.add('$2');
    let pattern: string;
    if (chance(rng, 0.5)) {
      usesPat = true;
      pattern = '?pat';
    } else pattern = pick(rng, ['[:a :b]', '[*]', '[:a {:ref [:a]}]', '[:tags]']);
    find = `(pull ${psrc}${e} ${pattern})` + (chance(rng, 0.3) ? ` ${pick(rng, vars)}` : '');
  } else if (fr < 0.4) {
    find = `(count ${pick(rng, vars)}) .`;
  } else {
    const k = int(rng, 1, Math.min(3, vars.length));
    find = vars.slice(0, k).join(' ');
  }
  const pat = pick(rng, ['[:a :b]', '[*]', '[:a {:ref [:a :b]}]', '[:db/id :tags]']);

  // Inputs: `$` always (dropped rarely, so errors on a missing default source are compared),
  // `$2`/`$c`/`%`/`?pat` when used (dropped rarely too).
  const ins: string[] = [];
  const drop = chance(rng, 0.05);
  if (!drop || !chance(rng, 0.5)) ins.push('$');
  for (const name of ['$2', '$c']) if (used.has(name)) ins.push(name);
  if (usesRules) ins.push('%');
  if (usesPat) ins.push('?pat');
  if (drop && ins.length > 1 && ins[0] === '$') ins.splice(int(rng, 1, ins.length - 1), 1);
  // Sources in any order (`:in $2 $ …` is as good as `:in $ $2 …`).
  if (chance(rng, 0.3)) ins.reverse();
  const query = `[:find ${find} :in ${ins.join(' ')} :where ${clauses.join(' ')}]`;
  return { query, ins, coll: coll.text, pat };
}
