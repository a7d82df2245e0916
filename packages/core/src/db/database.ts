/**
 * The immutable database value: four persistent B+tree indexes over shared {@link Datom} objects,
 * the schema, `maxEid`/`maxTx` and per-attribute datom counts. See `types.ts` for the contract.
 */
import { DataloomError } from '../errors.js';
import { Keyword, kw } from '../edn/types.js';
import { printEdn } from '../edn/printer.js';
import { PSet } from './btree.js';
import type { Probe } from './btree.js';
import { compareKeywords, compareValues } from './compare.js';
import * as ix from './indexes.js';
import { attrKw, parseSchema } from './schema.js';
import { transact } from './transact.js';
import { Datom, EMAX, TX0 } from './types.js';
import type { AttrLike, Db, DbIndexes, EntityId, IndexName, Schema, SchemaInput, TxData, TxId, TxReport, Value, ValueType } from './types.js';

const K_IDENT = kw('db/ident');

/** @internal The concrete {@link Db}. Construct through `createDb`/`initDb`/`with`. */
export class DbImpl implements DbIndexes {
  constructor(
    readonly schema: Schema,
    readonly eavt: PSet<Datom>,
    readonly aevt: PSet<Datom>,
    avet: PSet<Datom>,
    readonly vaet: PSet<Datom>,
    readonly maxEid: EntityId,
    readonly maxTx: TxId,
    /** datoms per attribute; never mutated once the db is built */
    readonly attrCounts: ReadonlyMap<Keyword, number>,
    avetLazy: ReadonlySet<Keyword> = NO_ATTRS,
  ) {
    this.avetSet = avet;
    this.lazy = avetLazy;
  }

  /**
   * AVET holds every attribute's datoms once {@link coverAvet} ran for it: `:db/index`/unique
   * attributes and `:db/ident` always, others from their first value lookup on this value. The
   * set and `avetLazy` only ever grow, together; readers outside the value see one AVET.
   */
  private avetSet: PSet<Datom>;
  private lazy: ReadonlySet<Keyword>;

  get avet(): PSet<Datom> {
    return this.avetSet;
  }

  get avetLazy(): ReadonlySet<Keyword> {
    return this.lazy;
  }

  avetCovers(a: Keyword): boolean {
    return a === K_IDENT || this.schema.get(a)?.index === true || this.lazy.has(a);
  }

  /** Makes AVET hold `a`'s datoms (every attribute's when `a` is null), built from AEVT. */
  private coverAvet(a: Keyword | null): void {
    const todo = a === null ? [...this.attrCounts.keys()].filter((x) => !this.avetCovers(x)) : this.avetCovers(a) ? [] : [a];
    if (todo.length === 0) return;
    const t = this.avetSet.transient();
    for (const x of todo) for (const d of sortByValue(this.aevt.range(ix.probeA(x)))) t.add(d);
    this.avetSet = t.persistent();
    const lazy = new Set(this.lazy);
    for (const x of todo) lazy.add(x);
    this.lazy = lazy;
  }

  get size(): number {
    return this.eavt.size;
  }

  /**
   * @internal A database with this one's schema over other indexes: what a transaction builds
   * (`transact.ts`, `tx-state.ts` construct through it, so they need this class only as a type).
   */
  derive(eavt: PSet<Datom>, aevt: PSet<Datom>, avet: PSet<Datom>, vaet: PSet<Datom>, maxEid: EntityId, maxTx: TxId, attrCounts: ReadonlyMap<Keyword, number>, avetLazy: ReadonlySet<Keyword>): DbImpl {
    return new DbImpl(this.schema, eavt, aevt, avet, vaet, maxEid, maxTx, attrCounts, avetLazy);
  }

  // ---- index access ---------------------------------------------------------------------------

  /**
   * @internal probe for a prefix of components of `index`. Entity components (and ref values) go
   * through `entidStrict`, like DataScript's `d/datoms`: a lookup ref that matches nothing throws
   * `entity-id/missing`.
   */
  probeFor(index: IndexName, comps: readonly unknown[]): Probe<Datom> | null {
    const n = prefixLength(comps);
    switch (index) {
      case 'eavt': {
        if (n === 0) return ix.probeAll;
        const e = this.entidStrict(comps[0]);
        if (e === null) return null;
        if (n === 1) return ix.probeE(e);
        const a = attrKw(comps[1] as AttrLike);
        if (n === 2) return ix.probeEA(e, a);
        const v = this.resolveVStrict(a, comps[2]);
        return ix.probeEAV(e, a, v);
      }
      case 'aevt': {
        if (n === 0) return ix.probeAll;
        const a = attrKw(comps[0] as AttrLike);
        if (n === 1) return ix.probeA(a);
        const e = this.entidStrict(comps[1]);
        if (e === null) return null;
        if (n === 2) return ix.probeAE(a, e);
        const v = this.resolveVStrict(a, comps[2]);
        return ix.probeAEV(a, e, v);
      }
      case 'avet': {
        if (n === 0) {
          this.coverAvet(null);
          return ix.probeAll;
        }
        const a = attrKw(comps[0] as AttrLike);
        this.coverAvet(a);
        if (n === 1) return ix.probeA(a);
        const v = this.resolveVStrict(a, comps[1]);
        if (n === 2) return ix.probeAV(a, v);
        const e = this.entidStrict(comps[2]);
        if (e === null) return null;
        return ix.probeAVE(a, v, e);
      }
      case 'vaet': {
        if (n === 0) return ix.probeAll;
        const v = this.entidStrict(comps[0]);
        if (v === null) return null;
        if (n === 1) return ix.probeV(v);
        const a = attrKw(comps[1] as AttrLike);
        if (n === 2) return ix.probeVA(v, a);
        const e = this.entidStrict(comps[2]);
        if (e === null) return null;
        return ix.probeVAE(v, a, e);
      }
      default:
        throw new DataloomError('index/unknown', `Unknown index ${String(index)}, expected eavt, aevt, avet or vaet`, {
          index,
        });
    }
  }

  private resolveVStrict(a: Keyword, v: unknown): unknown {
    return this.schema.isRef(a) && typeof v !== 'number' ? this.entidStrict(v) : v;
  }

  private resolveV(a: Keyword, v: unknown): unknown {
    return this.schema.isRef(a) && typeof v !== 'number' ? this.entid(v) : v;
  }

  /** @internal */
  index(index: IndexName): PSet<Datom> {
    switch (index) {
      case 'eavt':
        return this.eavt;
      case 'aevt':
        return this.aevt;
      case 'avet':
        return this.avet;
      case 'vaet':
        return this.vaet;
      default:
        throw new DataloomError('index/unknown', `Unknown index ${String(index)}, expected eavt, aevt, avet or vaet`, {
          index,
        });
    }
  }

  datoms(index: IndexName, ...components: unknown[]): Datom[] {
    const probe = this.probeFor(index, components); // before the set: it may complete AVET
    if (probe === null) return [];
    const set = this.index(index);
    const out = set.range(probe);
    const tx = txComponent(components);
    return tx === undefined ? out : out.filter((d) => d.tx === tx);
  }

  seekDatoms(index: IndexName, ...components: unknown[]): Iterable<Datom> {
    // A seek runs on past its prefix: the whole AVET must be there.
    if (index === 'avet') this.coverAvet(null);
    const probe = this.probeFor(index, components);
    if (probe === null) return [];
    const set = this.index(index);
    return set.iterateFrom(probe);
  }

  rseekDatoms(index: IndexName, ...components: unknown[]): Iterable<Datom> {
    if (index === 'avet') this.coverAvet(null);
    const probe = prefixLength(components) === 0 ? () => 0 : this.probeFor(index, components);
    if (probe === null) return [];
    const set = this.index(index);
    const out: Datom[] = [];
    set.forEachBackFrom(probe, (d) => {
      out.push(d);
    });
    return out;
  }

  indexRange(attr: AttrLike, start?: unknown, end?: unknown): Datom[] {
    const a = attrKw(attr);
    const out: Datom[] = [];
    const lo: Probe<Datom> =
      start === undefined || start === null
        ? ix.probeA(a)
        : (d) => (d.a !== a ? compareKeywords(d.a, a) : compareValues(d.v, start));
    const open = end === undefined || end === null;
    this.coverAvet(a);
    this.avet.forEachFrom(lo, (d) => {
      if (d.a !== a) return false;
      if (!open && compareValues(d.v, end) > 0) return false;
      out.push(d);
      return true;
    });
    return out;
  }

  // ---- fast primitives ------------------------------------------------------------------------

  values(e: EntityId, a: AttrLike): Value[] {
    const out: Value[] = [];
    this.eavt.forRange(ix.probeEA(e, attrKw(a)), (d) => {
      out.push(d.v);
    });
    return out;
  }

  value(e: EntityId, a: AttrLike): Value | undefined {
    return this.eavt.first(ix.probeEA(e, attrKw(a)))?.v;
  }

  has(e: EntityId, a: AttrLike, v?: unknown): boolean {
    const ak = attrKw(a);
    if (v === undefined) return this.eavt.first(ix.probeEA(e, ak)) !== undefined;
    return this.eavt.first(ix.probeEAV(e, ak, v)) !== undefined;
  }

  entitiesWithAttr(a: AttrLike): EntityId[] {
    const out: EntityId[] = [];
    let last = -1;
    this.aevt.forRange(ix.probeA(attrKw(a)), (d) => {
      if (d.e !== last) {
        out.push(d.e);
        last = d.e;
      }
    });
    return out;
  }

  entitiesWith(a: AttrLike, v: unknown): EntityId[] {
    const ak = attrKw(a);
    const vv = this.resolveV(ak, v);
    if (vv === null) return [];
    const out: EntityId[] = [];
    this.coverAvet(ak);
    this.avet.forRange(ix.probeAV(ak, vv), (d) => {
      out.push(d.e);
    });
    return out;
  }

  forEachOfAttr(a: AttrLike, fn: (e: EntityId, v: Value, tx: TxId) => void): void {
    this.aevt.forRange(ix.probeA(attrKw(a)), (d) => {
      fn(d.e, d.v, d.tx);
    });
  }

  refsTo(e: EntityId, a?: AttrLike): Datom[] {
    return this.vaet.range(a === undefined ? ix.probeV(e) : ix.probeVA(e, attrKw(a)));
  }

  countAttr(a: AttrLike): number {
    return this.attrCounts.get(attrKw(a)) ?? 0;
  }

  attrs(): Keyword[] {
    return [...this.attrCounts.keys()].sort(compareKeywords);
  }

  entityDatoms(e: EntityId): Datom[] {
    return this.eavt.range(ix.probeE(e));
  }

  // ---- entity ids ------------------------------------------------------------------------------

  entid(x: unknown): EntityId | null {
    if (typeof x === 'number') {
      if (x > 0 && Number.isInteger(x)) {
        if (x > EMAX) {
          throw new DataloomError('entity-id/range', `Highest supported entity id is ${EMAX}, got ${x}`, { value: x });
        }
        return x;
      }
      throw new DataloomError('entity-id/syntax', `Expected number or lookup ref for entity id, got ${x}`, {
        entityId: x,
      });
    }
    if (Array.isArray(x)) {
      if (x.length !== 2) {
        throw new DataloomError('lookup-ref/syntax', `Lookup ref should contain 2 elements: ${printEdn(x)}`, {
          entityId: x,
        });
      }
      const a = typeof x[0] === 'string' ? kw(x[0]) : x[0];
      if (!(a instanceof Keyword) || !this.schema.isUnique(a)) {
        throw new DataloomError('lookup-ref/unique', `Lookup ref attribute should be marked as :db/unique: ${printEdn(x)}`, {
          entityId: x,
        });
      }
      const v = x[1];
      if (v === null || v === undefined) return null;
      const vv = this.schema.isRef(a) && typeof v !== 'number' ? this.entid(v) : v;
      if (vv === null) return null;
      return this.avet.first(ix.probeAV(a, vv))?.e ?? null;
    }
    if (x instanceof Keyword) return this.avet.first(ix.probeAV(K_IDENT, x))?.e ?? null;
    if (typeof x === 'object' && x !== null && typeof (x as { eid?: unknown }).eid === 'number') {
      return (x as { eid: number }).eid;
    }
    throw new DataloomError('entity-id/syntax', `Expected number or lookup ref for entity id, got ${printEdn(x)}`, {
      entityId: x,
    });
  }

  entidStrict(x: unknown): EntityId {
    const e = this.entid(x);
    if (e === null) {
      throw new DataloomError('entity-id/missing', `Nothing found for entity id ${printEdn(x)}`, { entityId: x });
    }
    return e;
  }

  // ---- schema ---------------------------------------------------------------------------------

  isRef(a: AttrLike): boolean {
    return this.schema.isRef(a);
  }
  isMany(a: AttrLike): boolean {
    return this.schema.isMany(a);
  }
  isUnique(a: AttrLike): boolean {
    return this.schema.isUnique(a);
  }
  isComponent(a: AttrLike): boolean {
    return this.schema.isComponent(a);
  }
  valueType(a: AttrLike): ValueType | null {
    return this.schema.valueType(a);
  }

  with(txData: TxData, txMeta?: unknown): TxReport {
    return transact(this, txData, txMeta);
  }

  toString(): string {
    return `#dataloom/DB {:datoms ${this.size}, :max-eid ${this.maxEid}, :max-tx ${this.maxTx}}`;
  }
}

function prefixLength(comps: readonly unknown[]): number {
  let n = 0;
  while (n < comps.length && n < 3 && comps[n] !== undefined && comps[n] !== null) n++;
  return n;
}

function txComponent(comps: readonly unknown[]): number | undefined {
  if (comps.length >= 4 && prefixLength(comps) === 3 && typeof comps[3] === 'number') return comps[3];
  return undefined;
}

/** An empty database with `schema` (DataScript's `empty-db`). */
export function createDb(schema?: SchemaInput): Db {
  const s = parseSchema(schema);
  return new DbImpl(
    s,
    PSet.empty(ix.cmpEAVT),
    PSet.empty(ix.cmpAEVT),
    PSet.empty(ix.cmpAVET),
    PSet.empty(ix.cmpVAET),
    0,
    TX0,
    new Map(),
  );
}

/**
 * A database holding exactly `datoms` (DataScript's `init-db`): retractions (`added === false`) are
 * ignored, duplicates of (e, a, v) collapse, no transaction-language checks run. `maxEid` is the
 * largest entity id below the tx range, `maxTx` the largest tx seen (at least {@link TX0}).
 * O(n log n) for the four sorts, then O(n) bulk loads.
 */
export function initDb(datoms: Iterable<Datom>, schema?: SchemaInput): Db {
  const s = parseSchema(schema);
  const all: Datom[] = [];
  let maxEid = 0;
  let maxTx = TX0;
  for (const d of datoms) {
    if (!(d instanceof Datom)) {
      throw new DataloomError('init/syntax', 'initDb expects Datom instances', { datom: d });
    }
    if (!d.added) continue;
    all.push(d);
    if (d.e > maxEid && d.e < TX0) maxEid = d.e;
    if (d.tx > maxTx) maxTx = d.tx;
  }
  // snapshots and replicas usually hand datoms over in EAVT order already: check before sorting
  let sorted = true;
  for (let i = 1; i < all.length; i++) {
    if (ix.cmpEAVT(all[i - 1]!, all[i]!) > 0) {
      sorted = false;
      break;
    }
  }
  if (!sorted) all.sort(ix.cmpEAVT);
  // dedupe (e, a, v), keep the last given
  let w = 0;
  for (let r = 0; r < all.length; r++) {
    if (w > 0 && ix.cmpEAVT(all[w - 1]!, all[r]!) === 0) all[w - 1] = all[r]!;
    else all[w++] = all[r]!;
  }
  all.length = w;
  const counts = new Map<Keyword, number>();
  const refs: Datom[] = [];
  for (const d of all) {
    counts.set(d.a, (counts.get(d.a) ?? 0) + 1);
    if (s.isRef(d.a) && typeof d.v === 'number') refs.push(d);
  }
  const eavt = PSet.fromSorted(all, ix.cmpEAVT);
  const aevt = PSet.fromSorted(sortByAttr(all, counts, ix.cmpAEVT), ix.cmpAEVT);
  // AVET from the start only for attributes that need it (the others: on first value lookup).
  const indexed = all.filter((d) => d.a === K_IDENT || s.get(d.a)?.index === true);
  const avet = PSet.fromSorted(sortByAttr(indexed, countsOf(indexed), ix.cmpAVET), ix.cmpAVET);
  refs.sort(byVA);
  const vaet = PSet.fromSorted(refs, ix.cmpVAET);
  return new DbImpl(s, eavt, aevt, avet, vaet, maxEid, maxTx, counts);
}

const NO_ATTRS: ReadonlySet<Keyword> = new Set();

function countsOf(ds: readonly Datom[]): Map<Keyword, number> {
  const m = new Map<Keyword, number>();
  for (const d of ds) m.set(d.a, (m.get(d.a) ?? 0) + 1);
  return m;
}

function byValue(x: Datom, y: Datom): number {
  return compareValues(x.v, y.v);
}

/**
 * Stable sort of e-ordered datoms by value. Few distinct primitive values (a `:sex`, a `:name`):
 * group by value in a hash map and sort only the distinct values, O(n + d log d). Otherwise a
 * plain stable sort.
 */
function sortByValue(b: Datom[]): Datom[] {
  const groups = new Map<unknown, Datom[]>();
  const limit = b.length >> 3;
  for (const d of b) {
    const v = d.v;
    const t = typeof v;
    if (t !== 'string' && t !== 'number' && t !== 'boolean' && !(v instanceof Keyword)) return b.sort(byValue);
    const g = groups.get(v);
    if (g !== undefined) g.push(d);
    else {
      if (groups.size >= limit && groups.size > 16) return b.sort(byValue);
      groups.set(v, [d]);
    }
  }
  const keys = [...groups.keys()].sort(compareValues);
  const out: Datom[] = [];
  for (const k of keys) for (const d of groups.get(k)!) out.push(d);
  return out;
}

/** VAET order for EAVT-ordered ref datoms: stable sort by (v, a) keeps e order. */
function byVA(x: Datom, y: Datom): number {
  if (x.v !== y.v) return (x.v as number) < (y.v as number) ? -1 : 1;
  return x.a === y.a ? 0 : compareKeywords(x.a, y.a);
}

/** Buckets EAVT-sorted datoms by attribute (stable), then sorts each bucket: cheaper than one big sort. */
function sortByAttr(eavtSorted: Datom[], counts: Map<Keyword, number>, cmp: (a: Datom, b: Datom) => number): Datom[] {
  const attrs = [...counts.keys()].sort(compareKeywords);
  const buckets = new Map<Keyword, Datom[]>();
  for (const a of attrs) buckets.set(a, []);
  for (const d of eavtSorted) buckets.get(d.a)!.push(d);
  const out: Datom[] = [];
  for (const a of attrs) {
    const b = buckets.get(a)!;
    // AEVT: EAVT order restricted to one attribute is already (e, v) sorted. AVET: a stable sort
    // by value keeps the e order within equal values.
    if (cmp === ix.cmpAEVT) {
      for (const d of b) out.push(d);
    } else {
      for (const d of sortByValue(b)) out.push(d);
    }
  }
  return out;
}
