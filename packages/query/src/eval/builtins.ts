/**
 * DataScript's built-in query functions and predicates (`datascript.built-ins/query-fns`), with
 * ClojureScript semantics on Dataloom's JS representation of EDN values:
 * nil is `null`, truthiness is "not nil and not false" (0 and "" are truthy), comparisons use
 * DataScript's cross-type `value-compare` order, arithmetic is JavaScript's (as in ClojureScript).
 *
 * Functions that need a database (`get-else`, `get-some`, `missing?`) receive the `Db` as their
 * first argument, like DataScript's `$` argument.
 */
import { compareValues, type Db, kw, Keyword, List, printEdn, Sym, Uuid, valueEquals } from '@dataloom/core';
import { queryError } from '../errors.js';

/** A query function: receives evaluated arguments, returns a value. */
export type QueryFn = (...args: unknown[]) => unknown;

/** Clojure truthiness. */
export const truthy = (x: unknown): boolean => x !== null && x !== undefined && x !== false;

/** The built-ins marked {@link total}. */
const TOTAL = new Set<QueryFn>();

/**
 * Marks a built-in that cannot throw on any arguments (equality, the total order of
 * `compareValues`, nil tests, `str`): the server's permission rules call these directly and wrap
 * every other one (`@dataloom/server` permissions/quiet.ts). Checked by builtins-total.test.ts.
 */
function total(f: QueryFn): QueryFn {
  TOTAL.add(f);
  return f;
}

/** Whether the built-in `name` cannot throw on any arguments (see {@link total}). */
export function cannotThrow(name: string): boolean {
  const f = BUILTINS.get(name);
  return f !== undefined && TOTAL.has(f);
}

function cmpChain(test: (c: number) => boolean): QueryFn {
  return function (this: unknown, a?: unknown, b?: unknown) {
    const n = arguments.length;
    if (n === 2) {
      // fast path: numbers and strings compare natively (same order as value-compare)
      if (typeof a === 'number' && typeof b === 'number') return test(a < b ? -1 : a > b ? 1 : 0);
      return test(compareValues(a, b));
    }
    for (let i = 0; i + 1 < n; i++) if (!test(compareValues(arguments[i], arguments[i + 1]))) return false;
    return true;
  } as QueryFn;
}

function num(x: unknown, fn: string): number {
  if (typeof x === 'number') return x;
  throw queryError('query/call', `${fn}: expected a number, got ${printEdn(x)}`, x);
}

// ClojureScript arithmetic is JavaScript's: no type checks, NaN instead of errors.
function quot(n: unknown, d: unknown): number {
  return Math.trunc((n as number) / (d as number));
}
function rem(n: unknown, d: unknown): number {
  return (n as number) - (d as number) * quot(n, d);
}
function mod(n: unknown, d: unknown): number {
  const m = rem(n, d);
  return m === 0 || (n as number) > 0 === (d as number) > 0 ? m : m + (d as number);
}

/** Clojure's `compare` (same-type only, -1/0/1; throws `query/call` across types). */
export function cljCompare(a: unknown, b: unknown): number {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1;
  if (b === null || b === undefined) return 1;
  const sameKind =
    typeof a === typeof b ||
    (a instanceof Keyword && b instanceof Keyword) ||
    (a instanceof Sym && b instanceof Sym) ||
    (Array.isArray(a) && Array.isArray(b));
  if (!sameKind || (typeof a === 'object' && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b))) {
    throw queryError('query/call', `Cannot compare ${printEdn(a)} to ${printEdn(b)}`, [a, b]);
  }
  return Math.sign(compareValues(a, b));
}

function count(x: unknown): number {
  if (x === null || x === undefined) return 0;
  if (typeof x === 'string' || Array.isArray(x)) return x.length;
  if (x instanceof List) return x.items.length;
  if (x instanceof Set || x instanceof Map) return x.size;
  throw queryError('query/call', `count not supported on this type: ${printEdn(x)}`, x);
}

function seqOf(x: unknown): unknown[] {
  if (x === null || x === undefined) return [];
  if (Array.isArray(x)) return x;
  if (x instanceof List) return [...x.items];
  if (x instanceof Set) return [...x];
  if (x instanceof Map) return [...x].map(([k, v]) => [k, v]);
  if (typeof x === 'string') return [...x];
  throw queryError('query/call', `Don't know how to create a seq from ${printEdn(x)}`, x);
}

/** `str` of one value: nil → "", strings raw, everything else printed. */
function strOf(x: unknown): string {
  if (x === null || x === undefined) return '';
  if (typeof x === 'string') return x;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  if (x instanceof Uuid) return x.value;
  if (x instanceof Date) return x.toString();
  return printEdn(x);
}

/** `print-str` of one value: like `pr-str` but strings (also nested) unquoted at top level. */
function printOf(x: unknown): string {
  return typeof x === 'string' ? x : printEdn(x);
}

function get(m: unknown, k: unknown, dflt: unknown = null): unknown {
  if (m === null || m === undefined) return dflt;
  if (m instanceof Map) {
    if (m.has(k)) return m.get(k);
    for (const [mk, mv] of m) if (valueEquals(mk, k)) return mv;
    return dflt;
  }
  if (m instanceof Set) {
    if (m.has(k)) return k;
    for (const x of m) if (valueEquals(x, k)) return x;
    return dflt;
  }
  if (Array.isArray(m) || typeof m === 'string') {
    return typeof k === 'number' && Number.isInteger(k) && k >= 0 && k < m.length ? m[k] : dflt;
  }
  if (typeof m === 'object' && Object.getPrototypeOf(m) === Object.prototype) {
    const key = k instanceof Keyword ? k.fqn : typeof k === 'string' ? k : null;
    if (key !== null && Object.prototype.hasOwnProperty.call(m, key)) return (m as Record<string, unknown>)[key];
    return dflt;
  }
  return dflt;
}

function contains(m: unknown, k: unknown): boolean {
  if (m === null || m === undefined) return false;
  if (m instanceof Map || m instanceof Set) {
    if (m.has(k)) return true;
    for (const x of m.keys()) if (valueEquals(x, k)) return true;
    return false;
  }
  if (Array.isArray(m) || typeof m === 'string') return typeof k === 'number' && Number.isInteger(k) && k >= 0 && k < m.length;
  throw queryError('query/call', `contains? not supported on type: ${printEdn(m)}`, m);
}

function regex(re: unknown): RegExp {
  if (re instanceof RegExp) return re;
  if (typeof re === 'string') return new RegExp(re);
  throw queryError('query/call', `Expected a regular expression, got ${printEdn(re)}`, re);
}

function matchResult(m: RegExpMatchArray | RegExpExecArray | null): unknown {
  if (m === null) return null;
  if (m.length === 1) return m[0];
  return [...m].map((x) => (x === undefined ? null : x));
}

function reFind(re: unknown, s: unknown): unknown {
  if (typeof s !== 'string') throw queryError('query/call', 're-find expects a string', s);
  return matchResult(regex(re).exec(s));
}
function reMatches(re: unknown, s: unknown): unknown {
  if (typeof s !== 'string') throw queryError('query/call', 're-matches expects a string', s);
  const r = regex(re);
  const m = new RegExp(`^(?:${r.source})$`, r.flags.replace('g', '')).exec(s);
  return matchResult(m);
}
function reSeq(re: unknown, s: unknown): unknown {
  if (typeof s !== 'string') throw queryError('query/call', 're-seq expects a string', s);
  const r = regex(re);
  const g = new RegExp(r.source, r.flags.includes('g') ? r.flags : r.flags + 'g');
  const out: unknown[] = [];
  for (const m of s.matchAll(g)) {
    out.push(matchResult(m));
    if (m[0] === '') break;
  }
  return out.length === 0 ? null : new List(out as never[]);
}

function range(...args: unknown[]): List {
  let start = 0;
  let end: number;
  let step = 1;
  if (args.length === 1) end = num(args[0], 'range');
  else {
    start = num(args[0], 'range');
    end = num(args[1], 'range');
    if (args.length > 2) step = num(args[2], 'range');
  }
  const out: number[] = [];
  if (step > 0) for (let i = start; i < end && out.length < 1e7; i += step) out.push(i);
  else if (step < 0) for (let i = start; i > end && out.length < 1e7; i += step) out.push(i);
  return new List(out);
}

function name(x: unknown): string {
  if (typeof x === 'string') return x;
  if (x instanceof Keyword || x instanceof Sym) return x.name;
  throw queryError('query/call', `Doesn't support name: ${printEdn(x)}`, x);
}

function attrOf(a: unknown): unknown {
  return typeof a === 'string' ? kw(a) : a;
}

function dbArg(db: unknown, fn: string): Db {
  if (db && typeof (db as Db).values === 'function' && typeof (db as Db).entidStrict === 'function') return db as Db;
  throw queryError('query/call', `${fn}: the first argument must be a database`, db);
}

function getElse(db: unknown, e: unknown, a: unknown, dflt: unknown): unknown {
  const d = dbArg(db, 'get-else');
  const attr = attrOf(a) as Keyword;
  if (dflt === null || dflt === undefined) throw queryError('query/call', 'get-else: nil default value is not supported', dflt);
  const eid = d.entidStrict(e);
  const v = d.value(eid, attr);
  return v === undefined ? dflt : v;
}

function getSome(db: unknown, e: unknown, ...attrs: unknown[]): unknown {
  const d = dbArg(db, 'get-some');
  const eid = d.entidStrict(e);
  for (const a of attrs) {
    const attr = attrOf(a) as Keyword;
    const v = d.value(eid, attr);
    if (v !== undefined) return [attr, v];
  }
  return null;
}

/**
 * DataScript's `missing?` goes through the entity API: reverse attributes (`:_ref`) work, and a
 * cardinality-one ref to an entity with no datoms counts as missing (the entity is nil).
 */
function missing(db: unknown, e: unknown, a: unknown): boolean {
  const d = dbArg(db, 'missing?');
  const eid = d.entidStrict(e);
  const attr = attrOf(a) as Keyword;
  if (attr.name.startsWith('_')) {
    const fwd = kw(attr.ns ? `${attr.ns}/${attr.name.slice(1)}` : attr.name.slice(1));
    return d.refsTo(eid, fwd).length === 0;
  }
  const v = d.value(eid, attr);
  if (v === undefined) return true;
  if (typeof v === 'number' && d.isRef(attr) && !d.isMany(attr)) return d.entityDatoms(v).length === 0;
  return false;
}

function integer(x: unknown, fn: string): number {
  if (typeof x === 'number' && Number.isInteger(x)) return x;
  throw queryError('query/call', `${fn}: Argument must be an integer: ${printEdn(x)}`, x);
}

function typeOf(x: unknown): unknown {
  if (x === null || x === undefined) return null;
  if (typeof x === 'object' || typeof x === 'function') return (x as object).constructor ?? null;
  return ({ number: Number, string: String, boolean: Boolean, bigint: BigInt } as Record<string, unknown>)[typeof x] ?? null;
}

/** The built-in functions by name. */
export const BUILTINS: ReadonlyMap<string, QueryFn> = new Map<string, QueryFn>([
  ['=', total((...xs) => xs.every((x, i) => i === 0 || valueEquals(xs[0], x)))],
  ['==', total((...xs) => xs.every((x, i) => i === 0 || xs[0] === x))],
  ['not=', total((...xs) => !xs.every((x, i) => i === 0 || valueEquals(xs[0], x)))],
  ['!=', total((...xs) => !xs.every((x, i) => i === 0 || valueEquals(xs[0], x)))],
  ['<', total(cmpChain((c) => c < 0))],
  ['>', total(cmpChain((c) => c > 0))],
  ['<=', total(cmpChain((c) => c <= 0))],
  ['>=', total(cmpChain((c) => c >= 0))],
  ['+', (...xs) => xs.reduce((a: unknown, b) => (a as number) + (b as number), 0)],
  ['-', (...xs) => (xs.length === 1 ? -(xs[0] as number) : xs.slice(1).reduce((a: unknown, b) => (a as number) - (b as number), xs[0]))],
  ['*', (...xs) => xs.reduce((a: unknown, b) => (a as number) * (b as number), 1)],
  ['/', (...xs) => (xs.length === 1 ? 1 / (xs[0] as number) : xs.slice(1).reduce((a: unknown, b) => (a as number) / (b as number), xs[0]))],
  ['quot', quot],
  ['rem', rem],
  ['mod', mod],
  ['inc', (x) => (x as number) + 1],
  ['dec', (x) => (x as number) - 1],
  ['max', (...xs) => xs.reduce((a, b) => ((b as number) > (a as number) ? b : a))],
  ['min', (...xs) => xs.reduce((a, b) => ((b as number) < (a as number) ? b : a))],
  ['zero?', (x) => x === 0],
  ['pos?', (x) => (x as number) > 0],
  ['neg?', (x) => (x as number) < 0],
  ['even?', (x) => integer(x, 'even?') % 2 === 0],
  ['odd?', (x) => Math.abs(integer(x, 'odd?') % 2) === 1],
  ['compare', cljCompare],
  ['rand', (n) => Math.random() * (n === undefined ? 1 : (n as number))],
  ['rand-int', (n) => Math.floor(Math.random() * (n as number))],
  ['true?', total((x) => x === true)],
  ['false?', total((x) => x === false)],
  ['nil?', total((x) => x === null || x === undefined)],
  ['some?', total((x) => x !== null && x !== undefined)],
  ['not', (x) => !truthy(x)],
  [
    'and',
    (...xs) => {
      let last: unknown = true;
      for (const x of xs) {
        if (!truthy(x)) return x;
        last = x;
      }
      return last;
    },
  ],
  [
    'or',
    (...xs) => {
      let last: unknown = null;
      for (const x of xs) {
        if (truthy(x)) return x;
        last = x;
      }
      return last;
    },
  ],
  ['complement', (f) => (...xs: unknown[]) => !truthy((f as QueryFn)(...xs))],
  ['identical?', (a, b) => a === b],
  ['identity', total((x) => x)],
  ['keyword', (a, b) => (b === undefined ? (a instanceof Keyword ? a : kw(strOf(a))) : kw(a === null || a === undefined ? strOf(b) : `${strOf(a)}/${strOf(b)}`))],
  ['meta', () => null],
  ['name', name],
  ['namespace', (x) => {
    if (x instanceof Keyword || x instanceof Sym) return x.ns;
    throw queryError('query/call', `Doesn't support namespace: ${printEdn(x)}`, x);
  }],
  ['type', typeOf],
  ['vector', (...xs) => xs],
  ['list', (...xs) => new List(xs as never[])],
  ['set', (x) => new Set(seqOf(x))],
  ['hash-map', (...xs) => {
    const m = new Map<unknown, unknown>();
    for (let i = 0; i + 1 < xs.length; i += 2) m.set(xs[i], xs[i + 1]);
    return m;
  }],
  ['array-map', (...xs) => {
    const m = new Map<unknown, unknown>();
    for (let i = 0; i + 1 < xs.length; i += 2) m.set(xs[i], xs[i + 1]);
    return m;
  }],
  ['count', count],
  ['range', range],
  ['not-empty', (x) => (count(x) === 0 ? null : x)],
  ['empty?', (x) => count(x) === 0],
  ['contains?', contains],
  ['str', total((...xs) => xs.map(strOf).join(''))],
  ['pr-str', (...xs) => xs.map((x) => printEdn(x)).join(' ')],
  ['print-str', (...xs) => xs.map(printOf).join(' ')],
  ['println-str', (...xs) => xs.map(printOf).join(' ') + '\n'],
  ['prn-str', (...xs) => xs.map((x) => printEdn(x)).join(' ') + '\n'],
  ['subs', (s, start, end) => {
    if (typeof s !== 'string') throw queryError('query/call', 'subs expects a string', s);
    // ClojureScript's subs is JavaScript's substring: out-of-range bounds clamp, reversed bounds swap.
    return end === undefined ? s.substring(start as number) : s.substring(start as number, end as number);
  }],
  ['get', get],
  ['re-find', reFind],
  ['re-matches', reMatches],
  ['re-seq', reSeq],
  ['re-pattern', (s) => (s instanceof RegExp ? s : new RegExp(strOf(s)))],
  ['-differ?', (...xs) => {
    const h = xs.length / 2;
    return !valueEquals(xs.slice(0, h), xs.slice(h));
  }],
  ['get-else', getElse],
  ['get-some', getSome],
  ['missing?', missing],
  ['ground', total((x) => x)],
  ['tuple', (...xs) => xs],
  ['untuple', (x) => x],
  ['clojure.string/blank?', (s) => s === null || s === undefined || (typeof s === 'string' && s.trim() === '')],
  ['clojure.string/includes?', (s, sub) => strOf(s).includes(strOf(sub))],
  ['clojure.string/starts-with?', (s, sub) => strOf(s).startsWith(strOf(sub))],
  ['clojure.string/ends-with?', (s, sub) => strOf(s).endsWith(strOf(sub))],
]);

/** Built-ins whose first argument is a database (DataScript passes `$`; it searches its indexes). */
export const DB_FNS: ReadonlySet<string> = new Set(['get-else', 'get-some', 'missing?']);

