/**
 * Seeded random generator of small databases and DataScript queries, for differential tests
 * (Dataloom vs the datascript npm package) and for incremental-vs-recompute checks (dataflow).
 *
 * Everything is produced as EDN text, so any engine can consume it. Same seed → same case.
 *
 * ```ts
 * const rng = mulberry32(seed);
 * const db = genDb(rng);                 // { schema, tx }
 * const c = genQuery(rng, db);           // { query, inputs, rules }
 * ```
 *
 * The generated queries avoid forms where DataScript 1.8.1 is known to misbehave (so a difference
 * is a bug of ours): a variable repeated inside one data pattern, mutual recursion over cyclic
 * data, required-variable rule heads, 5-term patterns.
 */
export { mulberry32, pick } from './prng.js';
import { mulberry32, pick } from './prng.js';
export type Rng = () => number;
export const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
export const chance = (rng: Rng, p: number): boolean => rng() < p;

/** Attribute kinds of the generated schema. */
type Kind = 'int' | 'str' | 'kw' | 'ref' | 'any';
interface Attr {
  name: string;
  kind: Kind;
  many: boolean;
}

/** The attributes every generated database uses. */
export const ATTRS: readonly Attr[] = [
  { name: ':a', kind: 'int', many: false },
  { name: ':b', kind: 'int', many: false },
  { name: ':s', kind: 'str', many: false },
  { name: ':k', kind: 'kw', many: false },
  { name: ':tags', kind: 'int', many: true },
  { name: ':ref', kind: 'ref', many: false },
  { name: ':refs', kind: 'ref', many: true },
];

export const SCHEMA = `{:tags {:db/cardinality :db.cardinality/many}
 :ref {:db/valueType :db.type/ref}
 :refs {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many}}`;

const STRS = ['"x"', '"y"', '"z"', '"xy"'];
const KWS = [':k/a', ':k/b', ':c'];

function constOf(rng: Rng, kind: Kind, nEnt: number): string {
  switch (kind) {
    case 'int':
      return String(int(rng, 0, 5));
    case 'str':
      return pick(rng, STRS);
    case 'kw':
      return pick(rng, KWS);
    case 'ref':
    case 'any':
      return String(int(rng, 1, nEnt));
  }
}

export interface GenDb {
  schema: string;
  /** One transaction (EDN vector of entity maps with explicit ids 1..n). */
  tx: string;
  /** Number of entities. */
  n: number;
}

/** A random database of 3–`maxEntities` entities. */
export function genDb(rng: Rng, maxEntities = 16): GenDb {
  const n = int(rng, 3, maxEntities);
  const ents: string[] = [];
  for (let e = 1; e <= n; e++) {
    const parts = [`:db/id ${e}`];
    for (const a of ATTRS) {
      if (!chance(rng, a.kind === 'ref' ? 0.45 : 0.6)) continue;
      if (a.many) {
        const vs = new Set<string>();
        const k = int(rng, 1, 3);
        for (let i = 0; i < k; i++) vs.add(constOf(rng, a.kind, n));
        parts.push(`${a.name} [${[...vs].join(' ')}]`);
      } else parts.push(`${a.name} ${constOf(rng, a.kind, n)}`);
    }
    ents.push('{' + parts.join(' ') + '}');
  }
  return { schema: SCHEMA, tx: '[' + ents.join('\n ') + ']', n };
}

/** Rules available to generated queries (`%`). `reach` is recursive (terminates on cycles). */
export const RULES = `[[(reach ?a ?b) [?a :ref ?b]]
 [(reach ?a ?b) [?a :refs ?b]]
 [(reach ?a ?b) [?a :ref ?x] (reach ?x ?b)]
 [(link ?a ?b) [?a :ref ?b]]
 [(link ?a ?b) [?b :ref ?a]]
 [(same-a ?x ?y) [?x :a ?v] [?y :a ?v]]
 [(big ?e) [?e :a ?v] [(> ?v 2)]]
 [(no-b ?e) [?e :a _] (not [?e :b _])]]`;

export interface GenQuery {
  /** The query as EDN text. */
  query: string;
  /** Inputs after `$` (and `%` when `rules`), as EDN texts or JS values. */
  inputs: unknown[];
  /** Whether the query takes `%` (pass {@link RULES} as the input right after `$`). */
  rules: boolean;
  /** The query uses an aggregate (result is a bag; compare unordered). */
  aggregate: boolean;
}

interface Scope {
  ents: string[]; // bound entity vars
  vals: Map<string, Kind>; // bound value vars and their kind
  next: number;
}

function fresh(s: Scope, prefix: string): string {
  return `?${prefix}${s.next++}`;
}

/** A random query over a database from {@link genDb}. */
export function genQuery(rng: Rng, db: GenDb): GenQuery {
  const s: Scope = { ents: [], vals: new Map(), next: 0 };
  const clauses: string[] = [];
  let usesRules = false;
  const nPatterns = int(rng, 1, 4);
  const pattern = (): string => {
    const a = pick(rng, ATTRS);
    let e: string;
    if (s.ents.length > 0 && chance(rng, 0.75)) e = pick(rng, s.ents);
    else if (chance(rng, 0.1)) e = String(int(rng, 1, db.n));
    else {
      e = fresh(s, 'e');
      s.ents.push(e);
    }
    let v: string;
    const r = rng();
    if (a.kind === 'ref') {
      if (r < 0.2) v = String(int(rng, 1, db.n));
      else if (r < 0.5 && s.ents.some((x) => x !== e)) v = pick(rng, s.ents.filter((x) => x !== e));
      else {
        v = fresh(s, 'e');
        s.ents.push(v);
      }
    } else if (r < 0.3) v = constOf(rng, a.kind, db.n);
    else if (r < 0.45 && [...s.vals].some(([, k]) => k === a.kind)) v = pick(rng, [...s.vals].filter(([, k]) => k === a.kind).map(([n]) => n));
    else if (r < 0.5) v = '_';
    else {
      v = fresh(s, 'v');
      s.vals.set(v, a.kind);
    }
    return `[${e} ${a.name} ${v}]`;
  };
  for (let i = 0; i < nPatterns; i++) clauses.push(pattern());

  const intVars = () => [...s.vals].filter(([, k]) => k === 'int').map(([n]) => n);
  const extras = int(rng, 0, 3);
  for (let i = 0; i < extras; i++) {
    const r = rng();
    const ints = intVars();
    const strs = [...s.vals].filter(([, k]) => k === 'str' || k === 'kw').map(([n]) => n);
    if (r < 0.05 && strs.length > 0) {
      // comparisons across strings/keywords (DataScript's value order, also across types)
      clauses.push(`[(${pick(rng, ['<', '>', '<=', '>='])} ${pick(rng, strs)} ${pick(rng, [...STRS, ...KWS, '3'])})]`);
    } else if (r < 0.2 && ints.length > 0) {
      const x = pick(rng, ints);
      const op = pick(rng, ['<', '>', '<=', '>=', '=', 'not=']);
      const y = chance(rng, 0.5) && ints.length > 1 ? pick(rng, ints) : String(int(rng, 0, 5));
      clauses.push(`[(${op} ${x} ${y})]`);
    } else if (r < 0.3 && ints.length > 0) {
      const x = pick(rng, ints);
      const w = fresh(s, 'v');
      clauses.push(`[(${pick(rng, ['+', '-', '*'])} ${x} ${int(rng, 1, 3)}) ${w}]`);
      s.vals.set(w, 'int');
    } else if (r < 0.38 && s.ents.length > 0) {
      const e = pick(rng, s.ents);
      const w = fresh(s, 'v');
      clauses.push(`[(get-else $ ${e} :b -1) ${w}]`);
      s.vals.set(w, 'int');
    } else if (r < 0.44 && s.ents.length > 0) {
      clauses.push(`[(missing? $ ${pick(rng, s.ents)} ${pick(rng, [':a', ':s', ':ref'])})]`);
    } else if (r < 0.58 && s.ents.length > 0) {
      const e = pick(rng, s.ents);
      const a = pick(rng, ATTRS.filter((x) => x.kind !== 'ref'));
      if (chance(rng, 0.5)) clauses.push(`(not [${e} ${a.name} ${constOf(rng, a.kind, db.n)}])`);
      else {
        const f = fresh(s, 'n');
        clauses.push(`(not-join [${e}] [${e} :ref ${f}] [${f} ${a.name} ${constOf(rng, a.kind, db.n)}])`);
      }
    } else if (r < 0.72 && s.ents.length > 0) {
      const e = pick(rng, s.ents);
      const a1 = pick(rng, ATTRS.filter((x) => x.kind !== 'ref'));
      const a2 = pick(rng, ATTRS.filter((x) => x.kind !== 'ref'));
      if (chance(rng, 0.5)) clauses.push(`(or [${e} ${a1.name} ${constOf(rng, a1.kind, db.n)}] [${e} ${a2.name} ${constOf(rng, a2.kind, db.n)}])`);
      else {
        const t = fresh(s, 'n');
        clauses.push(`(or-join [${e}] (and [${e} :ref ${t}] [${t} ${a1.name} ${constOf(rng, a1.kind, db.n)}]) [${e} ${a2.name} ${constOf(rng, a2.kind, db.n)}])`);
      }
    } else if (r < 0.78 && s.ents.length > 0) {
      const e = pick(rng, s.ents);
      const x = rng();
      if (x < 0.3) {
        const w = fresh(s, 'v');
        clauses.push(`[${e} :s ${w}] [(clojure.string/starts-with? ${w} "x")]`);
        s.vals.set(w, 'str');
      } else if (x < 0.55) {
        clauses.push(`(or (and [${e} :a ${int(rng, 0, 5)}] (not [${e} :b ${int(rng, 0, 5)}])) [${e} :k ${pick(rng, KWS)}])`);
      } else if (x < 0.8) {
        const w = fresh(s, 'v');
        clauses.push(`[(get-some $ ${e} :s :k :a) [_ ${w}]]`);
        s.vals.set(w, 'any' as Kind);
      } else {
        const t = fresh(s, 'n');
        clauses.push(`(or-join [[${e}] ${t}] [${e} :ref ${t}] (and [${t} :refs ${e}] [${t} :a _]))`);
        s.ents.push(t);
      }
    } else if (r < 0.9) {
      usesRules = true;
      const rule = pick(rng, ['reach', 'reach', 'link', 'big', 'same-a', 'no-b']);
      const arg = (): string => {
        const x = rng();
        if (x < 0.25) return String(int(rng, 1, db.n));
        if (x < 0.7 && s.ents.length > 0) return pick(rng, s.ents);
        const v = fresh(s, 'e');
        s.ents.push(v);
        return v;
      };
      if (rule === 'big') clauses.push(`(big ${arg()})`);
      else if (rule === 'no-b') {
        // Not with a constant: DataScript substitutes it into the body and then raises
        // "Insufficient bindings" for the `not` even where its body relation is already empty.
        let a = arg();
        if (!a.startsWith('?')) {
          a = fresh(s, 'e');
          s.ents.push(a);
        }
        clauses.push(`(no-b ${a})`);
      }
      else {
        const a = arg();
        let b = arg();
        if (b === a) {
          b = fresh(s, 'e');
          s.ents.push(b);
        }
        clauses.push(`(${rule} ${a} ${b})`);
      }
    } else if (ints.length > 0 || s.ents.length > 0) {
      // Rarely: a predicate over a variable bound only later (or never) — errors must agree.
      const v = fresh(s, 'u');
      clauses.splice(int(rng, 0, clauses.length), 0, `[(> ${v} 1)]`);
      if (chance(rng, 0.5)) {
        clauses.push(`[${pick(rng, s.ents.length ? s.ents : ['?zz'])} :a ${v}]`);
        s.vals.set(v, 'int');
      }
    }
  }

  // Find spec.
  const vars = [...new Set([...s.ents, ...s.vals.keys()])];
  let find: string;
  let withClause = '';
  let aggregate = false;
  if (vars.length === 0) {
    find = '?zz';
    clauses.push('[?zz :a _]');
  } else {
    const r = rng();
    const ints = vars.filter((v) => s.vals.get(v) === 'int');
    const nonNum = vars.filter((v) => s.vals.get(v) === 'str' || s.vals.get(v) === 'kw');
    if (r < 0.2 && (ints.length > 0 || nonNum.length > 0)) {
      aggregate = true;
      const numeric = ints.length > 0 && (nonNum.length === 0 || chance(rng, 0.7));
      const x = pick(rng, numeric ? ints : nonNum);
      const agg = numeric
        ? pick(rng, ['count', 'count-distinct', 'sum', 'min', 'max', 'avg', 'median', 'variance', 'distinct'])
        : pick(rng, ['count', 'count-distinct', 'min', 'max', 'distinct']);
      const groups = vars.filter((v) => v !== x && chance(rng, 0.3)).slice(0, 1);
      find = [...groups, `(${agg} ${x})`].join(' ');
      const others = vars.filter((v) => v !== x && !groups.includes(v));
      if (others.length > 0 && chance(rng, 0.5)) withClause = ` :with ${pick(rng, others)}`;
    } else if (r < 0.3) {
      find = `[${pick(rng, vars)} ...]`;
    } else if (r < 0.35) {
      find = `(count ${pick(rng, vars)}) .`;
      aggregate = true;
    } else {
      const k = int(rng, 1, Math.min(3, vars.length));
      const shuffled = vars.slice().sort(() => rng() - 0.5);
      find = shuffled.slice(0, k).join(' ');
      if (chance(rng, 0.15) && vars.length > k) withClause = ` :with ${vars.find((v) => !shuffled.slice(0, k).includes(v))}`;
    }
  }
  const inputs: unknown[] = [];
  let inVars = '';
  const x = rng();
  if (x < 0.08) {
    inVars = ' ?in-a';
    inputs.push(int(rng, 0, 5));
    clauses.unshift(`[?in-e :a ?in-a]`);
  } else if (x < 0.14) {
    inVars = ' [?in-b ...]';
    inputs.push([int(rng, 0, 5), int(rng, 0, 5)]);
    clauses.unshift(`[?in-e :b ?in-b]`);
  } else if (x < 0.18) {
    inVars = ' [[?in-s ?in-k]]';
    inputs.push([[pick(rng, ['x', 'y', 'z']), 1], [pick(rng, ['x', 'y', 'z']), 2]]);
    clauses.unshift(`[?in-e :s ?in-s]`);
  }
  const ins = usesRules || inVars ? ` :in $${usesRules ? ' %' : ''}${inVars}` : '';
  const keys = !aggregate && !find.startsWith('[') && !withClause && chance(rng, 0.1) ? ` :keys ${find.split(' ').map((_, i) => 'k' + i).join(' ')}` : '';
  const query = `[:find ${find}${keys}${withClause}${ins} :where ${clauses.join(' ')}]`;
  return { query, inputs, rules: usesRules, aggregate };
}

/**
 * A random follow-up transaction for a database from {@link genDb} (for incremental-vs-recompute
 * checks): 1–`maxOps` operations among asserting attribute values (replacing cardinality-one
 * values), retracting a possible datom (which may not exist — a no-op), retracting all values of
 * an attribute and `:db/retractEntity`. Only entity ids 1..n are touched.
 */
export function genTx(rng: Rng, db: GenDb, maxOps = 4): string {
  const ops: string[] = [];
  const k = int(rng, 1, maxOps);
  for (let i = 0; i < k; i++) {
    const e = int(rng, 1, db.n);
    const a = pick(rng, ATTRS);
    const r = rng();
    if (r < 0.55) ops.push(`[:db/add ${e} ${a.name} ${constOf(rng, a.kind, db.n)}]`);
    else if (r < 0.8) ops.push(`[:db/retract ${e} ${a.name} ${constOf(rng, a.kind, db.n)}]`);
    else if (r < 0.92) ops.push(`[:db/retract ${e} ${a.name}]`);
    else ops.push(`[:db/retractEntity ${e}]`);
  }
  return '[' + ops.join(' ') + ']';
}
