/**
 * DataScript oracle: runs OUR data (schema, transactions, queries, pull patterns, inputs — as EDN
 * strings or in Dataloom's EDN-in-JS representation, see `docs/CONTRACTS.md`) in the `datascript`
 * npm package (pinned 1.8.1) with ClojureScript semantics, and converts the results back into our
 * representation (interned `Keyword`s, `Set` vs `Array` as DataScript returns them, `Map`s for
 * `:keys`/pull, `List`s for seqs).
 *
 * Why this is not a thin wrapper over DataScript's JS API: that API keeps attribute names as
 * strings and converts every result with `clj->js`, which turns `:a/b` into `"b"`, sets into arrays
 * and maps into objects. The adapter avoids both losses:
 *
 * - **Into DataScript**: values are printed as EDN ({@link printEdn}) and read by DataScript's own
 *   reader inside a query (`[(ground …) …]`), so keywords, sets, lists, maps, `#uuid`, `#inst`
 *   become the real ClojureScript values. Schema and transaction data built this way hold real
 *   keyword attributes, exactly as in ClojureScript.
 * - **Out of DataScript**: while one of our `d.q` calls runs, every value "satisfies"
 *   ClojureScript's `IEncodeJS` protocol (a non-enumerable getter and method on
 *   `Object.prototype`, installed once at load; the getter says "no" whenever no capture is
 *   running), so `clj->js` hands back the raw ClojureScript result untouched. Raw values are then printed with DataScript's built-in
 *   `pr-str` (again inside a query) and read back with our `parseEdn`.
 *
 * The property names are the advanced-compilation names of `IEncodeJS`/`IEncodeClojure` in datascript 1.8.1;
 * {@link assertRawCapture} verifies them at load and fails loudly on another version.
 *
 * User functions passed as query inputs receive arguments converted to our representation and
 * their return values are converted back. Not for production: this file exists for differential
 * tests and benchmarks.
 */
import { createRequire } from 'node:module';
import {
  type EdnValue,
  Keyword,
  kw,
  List,
  parseEdn,
  printEdn,
  Sym,
  sym,
  Tagged,
} from '@dataloom/core';

const require = createRequire(import.meta.url);

/** The parts of DataScript's JS API (`datascript.js`) the adapter uses. Values are opaque CLJS. */
interface DataScriptJs {
  empty_db(schema?: unknown): unknown;
  init_db(datoms: unknown[], schema?: unknown): unknown;
  q(query: string, ...inputs: unknown[]): unknown;
  pull(db: unknown, pattern: string, eid: unknown): unknown;
  pull_many(db: unknown, pattern: string, eids: unknown): unknown;
  db_with(db: unknown, tx: unknown): unknown;
  conn_from_db(db: unknown): unknown;
  transact(conn: unknown, tx: unknown): { db_before: unknown; db_after: unknown; tx_data: RawDatom[]; tempids: Record<string, number> };
  datoms(db: unknown, index: string, ...components: unknown[]): RawDatom[];
}

interface RawDatom {
  e: number;
  a: unknown;
  v: unknown;
  /** Negative for retractions (DataScript encodes `added` in the sign). */
  tx: number;
}

/** The `datascript` npm package's JS API, for callers who want to use it directly (e.g. benchmarks). */
export const ds: DataScriptJs = require('datascript') as DataScriptJs;

/** The version this adapter was written for; the raw-capture hook depends on it. */
export const DATASCRIPT_VERSION: string = (require('datascript/package.json') as { version: string }).version;

// ---------------------------------------------------------------------------------------------
// Raw capture of query results (bypassing clj->js)
// ---------------------------------------------------------------------------------------------

/** Advanced-compilation property names of `cljs.core/IEncodeJS` in datascript 1.8.1. */
const IENCODEJS_MARKER = 'Pe';
const IENCODEJS_METHOD = 'Qe';

/** Advanced-compilation property names of `cljs.core/IEncodeClojure` in datascript 1.8.1. */
const IENCODECLJ_MARKER = 'jf';
const IENCODECLJ_METHOD = 'Oe';

const BOX = Symbol('raw-cljs');
interface Box {
  [BOX]: unknown;
}

let sentinel: unknown; // cljs.core/PROTOCOL_SENTINEL, found on a CLJS prototype at load
let captureDepth = 0; // > 0 while rawQ runs: clj->js hands back the raw value
let noConvertDepth = 0; // > 0 while withRaw runs: js->clj passes values through

/**
 * Installed once, never removed (adding/deleting properties on `Object.prototype` per call would
 * de-optimise every property access in the process). The getters answer "not a protocol
 * implementation" unless a capture is running, so DataScript's JS API behaves exactly as usual
 * outside `rawQ`/`withRaw`.
 */
function installHooks(): void {
  const define = (name: string, desc: PropertyDescriptor) =>
    Object.defineProperty(Object.prototype, name, { configurable: true, enumerable: false, ...desc });
  // Assigning the name on any object still creates an ordinary own property, as without the hook.
  const setter = (name: string) =>
    function (this: object, v: unknown) {
      Object.defineProperty(this, name, { value: v, writable: true, configurable: true, enumerable: true });
    };
  define(IENCODEJS_MARKER, { get: () => (captureDepth > 0 ? sentinel : undefined), set: setter(IENCODEJS_MARKER) });
  define(IENCODEJS_METHOD, { value: (x: unknown): Box => ({ [BOX]: x }), writable: true });
  define(IENCODECLJ_MARKER, { get: () => (noConvertDepth > 0 ? sentinel : undefined), set: setter(IENCODECLJ_MARKER) });
  define(IENCODECLJ_METHOD, { value: (x: unknown): unknown => x, writable: true });
}

/**
 * Runs `d.q` and returns DataScript's raw ClojureScript result (no `clj->js`). Re-entrant: user
 * functions called during the query may run their own raw queries.
 */
export function rawQ(query: string, ...inputs: unknown[]): unknown {
  captureDepth++;
  try {
    const r = ds.q(query, ...inputs);
    if (r === null || r === undefined) return null;
    if (typeof r === 'object' && BOX in (r as object)) return (r as Box)[BOX];
    throw new Error('datascript oracle: raw capture failed (clj->js was not intercepted)');
  } finally {
    captureDepth--;
  }
}

/**
 * `d/db-with` of transaction data that is already raw CLJS (a raw vector, or a JS array of raw
 * entity maps / raw op vectors): the JS API's `js->clj` copy is skipped, so benchmarks time
 * DataScript's transaction only. Top-level entity maps must hold `:db/id` under the string key
 * `":db/id"` (see {@link dsPrepareTx}).
 */
export function withRaw(db: unknown, rawTx: unknown): unknown {
  noConvertDepth++;
  try {
    return ds.db_with(db, rawTx);
  } finally {
    noConvertDepth--;
  }
}

/** Captures one raw CLJS value produced inside a query (used before the hook is known to work). */
function captureViaCallback(edn: string): unknown {
  let captured: unknown;
  ds.q(`[:find ?y . :in ?cb :where [(ground [${edn}]) [?x]] [(?cb ?x) ?y]]`, (x: unknown) => {
    captured = x;
    return 1;
  });
  return captured;
}

let KeywordCtor: new (...a: never[]) => object;
let DatomCtor: new (...a: never[]) => object;
let DbCtor: new (...a: never[]) => object;

/** Finds the protocol sentinel and checks that raw capture works; throws on an unsupported version. */
function assertRawCapture(): void {
  const samples = [captureViaCallback(':a/b'), captureViaCallback('[1]'), captureViaCallback('#{1}')] as object[];
  KeywordCtor = (samples[0] as object).constructor as typeof KeywordCtor;
  // The sentinel is the empty object that CLJS types store as the value of every protocol marker.
  const counts = new Map<unknown, number>();
  for (const s of samples) {
    const proto = Object.getPrototypeOf(s) as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const v = proto[name];
      if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && Object.keys(v).length === 0) {
        counts.set(v, (counts.get(v) ?? 0) + 1);
      }
    }
  }
  let best = 0;
  for (const [v, n] of counts) if (n > best) [sentinel, best] = [v, n];
  const fail = (why: string): never => {
    throw new Error(
      `datascript oracle: cannot capture raw results from datascript ${DATASCRIPT_VERSION} (${why}); ` +
        'the adapter is written for datascript 1.8.1 — update IENCODEJS_MARKER/IENCODEJS_METHOD',
    );
  };
  if (best === 0) fail('no protocol sentinel found');
  installHooks();
  let r: unknown;
  try {
    r = rawQ('[:find ?x . :where [(ground :a/b) ?x]]');
  } catch (e) {
    fail(String(e));
  }
  if (!(r instanceof KeywordCtor) || String(r) !== ':a/b') fail('hook returned ' + String(r));
  const report = ds.transact(ds.conn_from_db(ds.empty_db()), [[kwRaw('db/add'), -1, kwRaw('probe'), 1]]);
  DatomCtor = (report.tx_data[0] as object).constructor as typeof DatomCtor;
  DbCtor = (report.db_after as object).constructor as typeof DbCtor;
}

/** The raw CLJS keyword for `name` (`":a/b"` or `"a/b"`), cached. */
export function dsKeyword(name: string): unknown {
  return kwRaw(name);
}

// ---------------------------------------------------------------------------------------------
// Conversion: our representation <-> ClojureScript values
// ---------------------------------------------------------------------------------------------

const rawKeywords = new Map<Keyword, unknown>();

function kwRaw(name: string): unknown {
  const k = kw(name);
  let r = rawKeywords.get(k);
  if (r === undefined) {
    r = captureViaCallback(':' + k.fqn);
    rawKeywords.set(k, r);
  }
  return r;
}

/** An opaque DataScript database value. Pass it to {@link dsQ} etc. `raw` is the CLJS DB. */
export class DsDb {
  constructor(readonly raw: unknown) {}
  /** Short printed form, so results holding a db print readably. */
  toEdn(): string {
    return '#datascript/DB {}';
  }
}

/**
 * Converts a value in our representation to the equivalent ClojureScript value. Primitives and
 * `Date`s pass unchanged (they are the same in CLJS); {@link DsDb} unwraps; functions are wrapped so
 * they see our representation; everything else is printed as EDN and read by DataScript.
 */
export function toCljs(x: unknown): unknown {
  if (x === null || x === undefined) return null;
  switch (typeof x) {
    case 'string':
    case 'number':
    case 'boolean':
      return x;
    case 'function':
      return wrapFn(x as (...a: unknown[]) => unknown);
    default:
  }
  if (x instanceof Date) return x;
  if (x instanceof DsDb) return x.raw;
  if (x instanceof Keyword) return kwRaw(x.fqn);
  return rawQ(`[:find ?v . :where [(ground [${printEdn(x)}]) [?v]]]`);
}

function wrapFn(f: (...a: unknown[]) => unknown): (...a: unknown[]) => unknown {
  return (...args: unknown[]) => toCljs(f(...args.map(fromCljs)));
}

/** A datom in our representation, as the oracle reports them. */
export interface DsDatom {
  e: number;
  a: EdnValue;
  v: EdnValue;
  tx: number;
  added: boolean;
}

const READ_TAGS = {
  'datascript/Datom': (v: EdnValue): EdnValue => {
    const [e, a, val, tx, added] = v as EdnValue[];
    return { e, a, v: val, tx, added: added ?? true } as unknown as EdnValue;
  },
};

/** DataScript's `pr-str` of a raw value (run inside a query, so it is exactly what CLJS prints). */
export function prStr(raw: unknown): string {
  return rawQ('[:find ?s . :in ?x :where [(pr-str ?x) ?s]]', raw) as string;
}

/**
 * Converts a raw ClojureScript value to our representation: keywords → interned `Keyword`,
 * vectors → arrays, sets → `Set`, maps → `Map`, seqs/lists → `List`, datoms → {@link DsDatom},
 * databases → {@link DsDb}.
 */
export function fromCljs(raw: unknown): EdnValue {
  if (raw === null || raw === undefined) return null;
  switch (typeof raw) {
    case 'string':
    case 'number':
    case 'boolean':
      return raw;
    case 'function':
      return raw as unknown as EdnValue;
    default:
  }
  if (raw instanceof Date) return raw;
  if (raw instanceof KeywordCtor) return kw(String(raw).slice(1));
  if (raw instanceof DatomCtor) return datomFromRaw(raw as unknown as RawDatom) as unknown as EdnValue;
  if (raw instanceof DbCtor) return new DsDb(raw) as unknown as EdnValue;
  return parseEdn(prStr(raw), { tags: READ_TAGS });
}

function datomFromRaw(d: RawDatom): DsDatom {
  return { e: d.e, a: fromCljs(d.a), v: fromCljs(d.v), tx: Math.abs(d.tx), added: d.tx > 0 };
}

// ---------------------------------------------------------------------------------------------
// Normalising our JS data (strings in attribute positions mean keywords, per CONTRACTS.md)
// ---------------------------------------------------------------------------------------------

function asKw(x: unknown): unknown {
  return typeof x === 'string' ? kw(x) : x;
}

function keywordizeKey(k: unknown): unknown {
  return typeof k === 'string' ? kw(k) : k;
}

/** Entity maps: keys become keywords, nested entity maps likewise; `:db/id` lookup refs fixed. */
function normalizeEntityMap(m: unknown, topLevel: boolean): Map<unknown, unknown> {
  const entries: [unknown, unknown][] = m instanceof Map ? [...m] : Object.entries(m as object);
  const out = new Map<unknown, unknown>();
  for (const [k0, v0] of entries) {
    const k = keywordizeKey(k0);
    let v = v0;
    if (k === DB_ID) {
      if (Array.isArray(v) && typeof v[0] === 'string') v = [kw(v[0]), ...v.slice(1)];
      // DataScript's JS API replaces a top-level `:db/id` by the value under the *string* ":db/id".
      out.set(topLevel ? ':db/id' : k, v);
      continue;
    }
    out.set(k, normalizeNested(v));
  }
  return out;
}

function normalizeNested(v: unknown): unknown {
  if (v instanceof Map || isPlainObject(v)) return normalizeEntityMap(v, false);
  if (isColonLookupRef(v)) return normalizeLookupRef(v);
  if (Array.isArray(v)) return v.map((x) => (x instanceof Map || isPlainObject(x) ? normalizeEntityMap(x, false) : normalizeValue(x)));
  return v;
}

/**
 * A value position is ambiguous (a vector may be a tuple or a collection), so only a 2-element
 * array whose first element is a string with a leading colon (`[":email", "a@x"]`) is taken as a
 * lookup ref there. In an entity position any `[string, v]` is a lookup ref.
 */
function isColonLookupRef(v: unknown): v is unknown[] {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && v[0].startsWith(':');
}

function normalizeLookupRef(v: unknown[]): unknown[] {
  return [asKw(v[0]), ...v.slice(1)];
}

function normalizeValue(v: unknown): unknown {
  return isColonLookupRef(v) ? normalizeLookupRef(v) : v;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype;
}

const DB_ID = kw('db/id');

function normalizeTx(tx: unknown): unknown[] {
  const items = typeof tx === 'string' ? (parseEdn(tx) as unknown) : tx;
  if (!Array.isArray(items) && !(items instanceof List)) throw new Error('dsWith: transaction data must be a vector/list');
  const out: unknown[] = [];
  for (const item of items as Iterable<unknown>) {
    if (Array.isArray(item) || item instanceof List) {
      const arr = [...(item as Iterable<unknown>)];
      const [op, e, a, ...rest] = arr;
      const nop = asKw(op);
      const ne = Array.isArray(e) && typeof e[0] === 'string' ? [kw(e[0]), ...e.slice(1)] : e;
      const out1: unknown[] = [nop];
      if (arr.length > 1) out1.push(ne);
      if (arr.length > 2) out1.push(nop === kw('db.fn/call') ? a : asKw(a));
      out1.push(...rest.map(normalizeValue));
      out.push(out1);
    } else if (item instanceof Map || isPlainObject(item)) {
      out.push(normalizeEntityMap(item, true));
    } else {
      out.push(item);
    }
  }
  return out;
}

function normalizeSchema(schema: unknown): Map<unknown, unknown> {
  const s = typeof schema === 'string' ? parseEdn(schema) : schema ?? new Map();
  const out = new Map<unknown, unknown>();
  const entries: [unknown, unknown][] = s instanceof Map ? [...s] : Object.entries(s as object);
  for (const [attr, props] of entries) {
    const p = new Map<unknown, unknown>();
    const pe: [unknown, unknown][] = props instanceof Map ? [...props] : Object.entries(props as object);
    for (const [k, v] of pe) {
      let nv = v;
      if (typeof v === 'string' && (v.startsWith(':') || v.startsWith('db.'))) nv = kw(v);
      else if (Array.isArray(v)) nv = v.map(asKw);
      p.set(keywordizeKey(k), nv);
    }
    out.set(keywordizeKey(attr), p);
  }
  return out;
}

const CLAUSE_HEADS = new Set(['not', 'not-join', 'or', 'or-join', 'and']);

/** Where clauses given as JS data: a string in a data pattern's attribute position is a keyword. */
function normalizeClauses(clauses: unknown): unknown {
  if (!Array.isArray(clauses)) return clauses;
  return clauses.map(normalizeClause);
}

function normalizeClause(c: unknown): unknown {
  if (c instanceof List) {
    const [head, ...rest] = c.items;
    if (head instanceof Sym && CLAUSE_HEADS.has(head.fqn)) {
      const skip = head.fqn.endsWith('-join') ? 1 : 0;
      return new List([head, ...rest.slice(0, skip), ...rest.slice(skip).map(normalizeClause)] as EdnValue[]);
    }
    return c; // rule call
  }
  if (Array.isArray(c) && c.length > 0 && !(c[0] instanceof List) && !Array.isArray(c[0])) {
    const hasSrc = c[0] instanceof Sym && c[0].fqn.startsWith('$');
    const ai = hasSrc ? 2 : 1;
    if (typeof c[ai] === 'string') {
      const copy = [...c];
      copy[ai] = kw(c[ai] as string);
      return copy;
    }
  }
  return c;
}

function normalizeRules(rules: unknown): unknown {
  if (typeof rules === 'string') rules = parseEdn(rules);
  if (!Array.isArray(rules)) return rules;
  return rules.map((r) => (Array.isArray(r) ? [r[0], ...r.slice(1).map(normalizeClause)] : r));
}

interface QueryParts {
  text: string;
  /** Position (0-based) of `%` in `:in`, or -1. */
  rulesAt: number;
}

function normalizeQuery(query: unknown): QueryParts {
  if (typeof query === 'string') return { text: query, rulesAt: rulesIndex(parseEdn(query)) };
  let q = query;
  if (Array.isArray(q)) {
    const out: unknown[] = [];
    let section = '';
    for (const x of q) {
      if (x instanceof Keyword) section = x.fqn;
      else if (typeof x === 'string' && x.startsWith(':') && ['find', 'in', 'where', 'with', 'keys', 'strs', 'syms'].includes(x.slice(1))) {
        section = x.slice(1);
        out.push(kw(section));
        continue;
      } else if (section === 'where') {
        out.push(normalizeClause(x));
        continue;
      }
      out.push(x);
    }
    q = out;
  } else if (q instanceof Map) {
    const m = new Map(q);
    const where = m.get(kw('where'));
    if (where !== undefined) m.set(kw('where'), normalizeClauses(where));
    q = m;
  }
  return { text: printEdn(q), rulesAt: rulesIndex(q) };
}

function rulesIndex(q: unknown): number {
  let ins: unknown[] = [];
  if (Array.isArray(q)) {
    const i = q.indexOf(kw('in'));
    if (i >= 0) {
      for (let j = i + 1; j < q.length && !(q[j] instanceof Keyword); j++) ins.push(q[j]);
    }
  } else if (q instanceof Map) {
    ins = (q.get(kw('in')) as unknown[]) ?? [];
  }
  return ins.findIndex((x) => x instanceof Sym && x.fqn === '%');
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/** An empty DataScript database with `schema` (EDN string, `Map`, or plain object; keys may be strings). */
export function dsCreateDb(schema?: unknown): DsDb {
  return new DsDb(ds.empty_db(toCljs(normalizeSchema(schema))));
}

/** DataScript's `init-db` from datoms `[e a v tx?]` / `{e, a, v, tx}` in our representation. */
export function dsInitDb(datoms: Iterable<readonly unknown[] | { e: number; a: unknown; v: unknown; tx?: number }>, schema?: unknown): DsDb {
  const raw: unknown[] = [];
  for (const d of datoms) {
    const [e, a, v, tx] = Array.isArray(d) ? d : [(d as { e: number }).e, (d as { a: unknown }).a, (d as { v: unknown }).v, (d as { tx?: number }).tx];
    const r: unknown[] = [e, toCljs(asKw(a)), toCljs(v)];
    if (tx !== undefined) r.push(tx);
    raw.push(r);
  }
  return new DsDb(ds.init_db(raw, toCljs(normalizeSchema(schema))));
}

/** Result of {@link dsWith}: DataScript's transaction report in our representation. */
export interface DsReport {
  db: DsDb;
  dbBefore: DsDb;
  /** Tempid → entity id. Keys: numbers for numeric tempids, strings, and `:db/current-tx` as a Keyword. */
  tempids: Map<string | number | Keyword, number>;
  txData: DsDatom[];
}

/**
 * Converts transaction data (EDN string or our JS data) once into the raw CLJS vector DataScript's
 * JS API expects (top-level `:db/id` under the string key, see `normalizeTx`). Iterable from JS.
 */
export function dsPrepareTx(txData: unknown): Iterable<unknown> {
  return toCljs(normalizeTx(txData)) as Iterable<unknown>;
}

/** Transacts `txData` (EDN string or our JS data) against `db` without mutating it. */
export function dsWith(db: DsDb, txData: unknown): DsReport {
  const tx = toCljs(normalizeTx(txData));
  const r = ds.transact(ds.conn_from_db(db.raw), tx);
  const tempids = new Map<string | number | Keyword, number>();
  for (const [k, v] of Object.entries(r.tempids)) {
    tempids.set(/^-?\d+$/.test(k) ? Number(k) : k === ':db/current-tx' ? kw('db/current-tx') : k, v);
  }
  return { db: new DsDb(r.db_after), dbBefore: db, tempids, txData: r.tx_data.map(datomFromRaw) };
}

/**
 * DataScript's `q`. `query` is an EDN string or parsed data; inputs may be {@link DsDb}s, values in
 * our representation, rules (for `%`, as EDN string or data), or JS functions.
 */
export function dsQ(query: unknown, ...inputs: unknown[]): EdnValue {
  const { text, rulesAt } = normalizeQuery(query);
  const raw = inputs.map((x, i) => (i === rulesAt ? toCljs(normalizeRules(x)) : toCljs(x)));
  const r = fromCljs(rawQ(text, ...raw));
  // DataScript returns a seq for aggregate/pull finds; our contract (and Clojure `=`) says Array.
  return r instanceof List ? [...r.items] : r;
}

function patternText(pattern: unknown): string {
  if (typeof pattern === 'string') return pattern;
  return printEdn(normalizePattern(pattern));
}

function normalizePattern(p: unknown): unknown {
  if (typeof p === 'string') return p === '*' ? sym('*') : kw(p);
  if (Array.isArray(p)) return p.map(normalizePattern);
  if (p instanceof Map) return new Map([...p].map(([k, v]) => [normalizeAttrSpec(k), normalizePattern(v)]));
  if (isPlainObject(p)) return new Map(Object.entries(p).map(([k, v]) => [kw(k), normalizePattern(v)]));
  return p;
}

function normalizeAttrSpec(k: unknown): unknown {
  if (typeof k === 'string') return kw(k);
  if (Array.isArray(k)) return [asKw(k[0]), ...k.slice(1)];
  if (k instanceof List) return new List([asKw(k.items[0]) as EdnValue, ...k.items.slice(1)]);
  return k;
}

function eidValue(eid: unknown): unknown {
  if (Array.isArray(eid) && typeof eid[0] === 'string') return toCljs([kw(eid[0]), ...eid.slice(1)]);
  return toCljs(eid);
}

/** DataScript's `pull` (run as `[:find (pull ?e pattern) . :in $ ?e]`, same implementation). */
export function dsPull(db: DsDb, pattern: unknown, eid: unknown): EdnValue {
  return fromCljs(rawQ(`[:find (pull ?e ${patternText(pattern)}) . :in $ ?e]`, db.raw, eidValue(eid)));
}

/** DataScript's `pull-many`: one pull per id, in order. */
export function dsPullMany(db: DsDb, pattern: unknown, eids: Iterable<unknown>): EdnValue[] {
  const text = `[:find (pull ?e ${patternText(pattern)}) . :in $ ?e]`;
  return [...eids].map((e) => fromCljs(rawQ(text, db.raw, eidValue(e))));
}

/** Datoms of an index (`eavt` default, `aevt`, `avet`) with optional leading components. */
export function dsDatoms(db: DsDb, index: 'eavt' | 'aevt' | 'avet' = 'eavt', ...components: unknown[]): DsDatom[] {
  const comps = components.map((c, i) => ((index === 'eavt' ? i === 1 : i === 0) ? toCljs(asKw(c)) : toCljs(c)));
  return ds.datoms(db.raw, ':' + index, ...comps).map(datomFromRaw);
}

/** Outcome of {@link dsTry}. `data` is DataScript's `ex-data` in our representation when present. */
export type DsOutcome<T> = { ok: true; value: T } | { ok: false; message: string; data?: EdnValue };

/** Runs `fn`, capturing a DataScript (or any) error as `{ ok: false, message, data }`. */
export function dsTry<T>(fn: () => T): DsOutcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    const err = e as { message?: unknown; data?: unknown };
    const out: DsOutcome<T> = { ok: false, message: String(err?.message ?? e) };
    if (err && err.data !== undefined && err.data !== null && typeof err.data === 'object') {
      try {
        out.data = fromCljs(err.data);
      } catch {
        /* ex-data that does not print as EDN (e.g. holds a function): keep the message only */
      }
    }
    return out;
  }
}

/** The DataScript error keyword (`:transact/syntax` → `"transact/syntax"`) from an outcome, or null. */
export function dsErrorCode(o: DsOutcome<unknown>): string | null {
  if (o.ok || !(o.data instanceof Map)) return null;
  const code = o.data.get(kw('error'));
  return code instanceof Keyword ? code.fqn : null;
}

// ---------------------------------------------------------------------------------------------
// Canonical form
// ---------------------------------------------------------------------------------------------

/** Options for {@link canonical}. */
export interface CanonicalOptions {
  /**
   * Which arrays are compared as multisets (sorted): `'none'` (default), `'top'` (only the outermost
   * array — e.g. `[?x ...]` finds and `:with` results, whose order DataScript does not define), or
   * `'all'`.
   */
  unordered?: 'none' | 'top' | 'all';
  /** Significant digits for non-integer numbers (default 12), so float summation order does not matter. */
  precision?: number;
}

/**
 * An order-independent, printable normal form of a value for comparing our results with
 * DataScript's: sets sorted by the canonical form of their elements, maps sorted by key, arrays in
 * order (unless `unordered`), `-0` as `0`, floats rounded to `precision` significant digits, plain
 * objects as maps with sorted keys, lists as vectors. Two results are equal iff their canonical strings are equal.
 */
export function canonical(x: unknown, opts: CanonicalOptions = {}): string {
  return canon(x, opts.unordered ?? 'none', opts.precision ?? 12, true);
}

function canon(x: unknown, unordered: string, precision: number, top: boolean): string {
  const sub = (y: unknown): string => canon(y, unordered, precision, false);
  if (x === null || x === undefined) return 'nil';
  switch (typeof x) {
    case 'number':
      if (Object.is(x, -0)) return '0';
      if (Number.isInteger(x) || !Number.isFinite(x)) return printEdn(x);
      return String(Number(x.toPrecision(precision)));
    case 'string':
    case 'boolean':
    case 'bigint':
      return printEdn(x);
    case 'function':
      return '#function';
    default:
  }
  if (x instanceof Keyword || x instanceof Sym || x instanceof Date || x instanceof Tagged) return printEdn(x);
  if (Array.isArray(x) || x instanceof List) {
    // Lists print like vectors: Clojure's `=` does not tell them apart, nor do our contracts.
    const parts = (Array.isArray(x) ? x : [...x.items]).map(sub);
    if (unordered === 'all' || (unordered === 'top' && top)) parts.sort();
    return '[' + parts.join(' ') + ']';
  }
  if (x instanceof Set) return '#{' + [...x].map(sub).sort().join(' ') + '}';
  if (x instanceof Map) {
    return '{' + [...x].map(([k, v]) => sub(k) + ' ' + sub(v)).sort().join(', ') + '}';
  }
  if (typeof (x as { toEdn?: unknown }).toEdn === 'function') return (x as { toEdn(): string }).toEdn();
  if (isPlainObject(x)) {
    return '{' + Object.entries(x).map(([k, v]) => ':' + k + ' ' + sub(v)).sort().join(', ') + '}';
  }
  return printEdn(x);
}

assertRawCapture();
