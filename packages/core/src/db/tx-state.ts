/**
 * The mutable state of one transaction attempt (`TxState`: transient index copies, tempids, counts,
 * queued composite tuples) and the datom writes the resolver makes through it (`transactAdd` with
 * its value-type check), plus the raw path replicas use (`applyDatomsImpl`).
 */
import { Keyword, Sym, Uuid, kw } from '../edn/types.js';
import { printEdn } from '../edn/printer.js';
import type { TSet } from './btree.js';
import { compareValues } from './compare.js';
import { attrTuples } from './schema.js';
import * as ix from './indexes.js';
import { Datom, EMAX, TX0 } from './types.js';
import type { AttrSchema, EntityId, TxId, DbIndexes } from './types.js';
import { K, type Tempid, isTempid, isTxId, err } from './tx-forms.js';

const K_IDENT_ATTR = kw('db/ident');

export class Retry {
  constructor(
    readonly tempid: Tempid,
    readonly eid: EntityId,
    readonly tempids: Map<Tempid, EntityId>,
  ) {}
}

/** Mutable state of one transaction attempt. */
export class TxState {
  readonly eavt: TSet<Datom>;
  readonly aevt: TSet<Datom>;
  readonly avet: TSet<Datom>;
  /** The parent's lazily covered AVET attributes (fixed for the transaction: the parent may grow its own). */
  readonly avetLazy: ReadonlySet<Keyword>;
  readonly vaet: TSet<Datom>;
  maxEid: EntityId;
  readonly tx: TxId;
  /** datoms per attribute; copied from the db on first write */
  counts: Map<Keyword, number>;
  private countsOwned = false;
  readonly txData: Datom[] = [];
  readonly tempids: Map<Tempid, EntityId>;
  /** allocated eid → tempid, for tempids seen as ref values */
  readonly valueTempids = new Map<EntityId, Tempid>();
  /** entity ids of redundant additions (they count as "used" for value tempids) */
  readonly redundantEs = new Set<EntityId>();
  /** composite tuples to write at the next flush: e → tuple attr → values */
  queuedTuples: Map<EntityId, Map<Keyword, unknown[]>> | null = null;
  /** tx-id names used (recorded in tempids) */
  readonly txIdKeys = new Set<string | Keyword>();
  /** a read-only view db, rebuilt lazily for lookups that need a Db (entid, tx fns) */
  private viewCache: DbIndexes | null = null;

  constructor(
    readonly db: DbIndexes,
    seeded: Map<Tempid, EntityId>,
  ) {
    this.eavt = db.eavt.transient();
    this.aevt = db.aevt.transient();
    this.avet = db.avet.transient();
    this.avetLazy = db.avetLazy;
    this.vaet = db.vaet.transient();
    this.maxEid = db.maxEid;
    this.tx = db.maxTx + 1;
    this.counts = db.attrCounts as Map<Keyword, number>;
    this.tempids = new Map(seeded);
  }

  view(): DbIndexes {
    if (this.viewCache === null) {
      this.viewCache = this.db.derive(
        this.eavt.peek(),
        this.aevt.peek(),
        this.avet.peek(),
        this.vaet.peek(),
        this.maxEid,
        this.db.maxTx,
        this.counts,
        this.avetLazy,
      );
    }
    return this.viewCache;
  }

  private dirty(): void {
    this.viewCache = null;
  }

  nextEid(): EntityId {
    return this.maxEid + 1;
  }

  advance(eid: EntityId): void {
    if (eid > this.maxEid && eid < TX0) {
      this.maxEid = eid;
      this.dirty();
    }
  }

  allocate(e: unknown, eid: EntityId): void {
    if (isTxId(e)) this.txIdKeys.add(e === ':db/current-tx' ? K.currentTx : (e as string | Keyword));
    else if (isTempid(e)) this.tempids.set(e, eid);
    this.advance(eid);
  }

  entid(x: unknown): EntityId | null {
    if (typeof x === 'number' && x > 0 && x <= EMAX && Number.isInteger(x)) return x;
    return this.view().entid(x);
  }

  entidStrict(x: unknown): EntityId {
    if (typeof x === 'number' && x > 0 && x <= EMAX && Number.isInteger(x)) return x;
    return this.view().entidStrict(x);
  }

  /** Whether AVET keeps `a`'s datoms in this transaction (see `DbIndexes.avetCovers`). */
  avetCovers(a: Keyword): boolean {
    return a === K_IDENT_ATTR || this.db.schema.get(a)?.index === true || this.avetLazy.has(a);
  }

  /** The datom of unique attribute `a` with value `v` (AVET always holds unique attributes). */
  firstAV(a: Keyword, v: unknown): Datom | undefined {
    return this.avet.first(ix.probeAV(a, v));
  }

  datomsEA(e: EntityId, a: Keyword): Datom[] {
    return this.eavt.peek().range(ix.probeEA(e, a));
  }

  /** Queues composite tuples that depend on `d.a` (DataScript's queue-tuples). */
  private queueTuples(d: Datom, added: boolean): void {
    const tuples = attrTuples(this.db.schema).get(d.a);
    if (tuples === undefined) return;
    if (this.queuedTuples === null) this.queuedTuples = new Map();
    let q = this.queuedTuples.get(d.e);
    if (q === undefined) this.queuedTuples.set(d.e, (q = new Map()));
    for (const [tuple, idx] of tuples) {
      let cur = q.get(tuple);
      if (cur === undefined) {
        const existing = this.eavt.first(ix.probeEA(d.e, tuple))?.v as unknown[] | undefined;
        cur = existing !== undefined ? existing.slice() : new Array(this.db.schema.get(tuple)!.tupleAttrs!.length).fill(null);
        q.set(tuple, cur);
      }
      cur[idx] = added ? d.v : null;
    }
  }

  addDatom(d: Datom, isRef: boolean): void {
    this.queueTuples(d, true);
    this.eavt.add(d);
    this.aevt.add(d);
    if (this.avetCovers(d.a)) this.avet.add(d);
    if (isRef && typeof d.v === 'number') this.vaet.add(d);
    this.count(d.a, 1);
    this.txData.push(d);
    this.advance(d.e);
    this.dirty();
  }

  /** Adjusts the per-attribute datom count (copy-on-write). */
  count(a: Keyword, delta: number): void {
    if (!this.countsOwned) {
      this.counts = new Map(this.counts);
      this.countsOwned = true;
    }
    const c = (this.counts.get(a) ?? 0) + delta;
    if (c <= 0) this.counts.delete(a);
    else this.counts.set(a, c);
  }

  /** Removes a present datom and records its retraction. */
  retractDatom(d: Datom): void {
    if (!this.eavt.delete(d)) return;
    this.queueTuples(d, false);
    this.aevt.delete(d);
    if (this.avetCovers(d.a)) this.avet.delete(d);
    if (typeof d.v === 'number' && this.db.schema.isRef(d.a)) this.vaet.delete(d);
    this.count(d.a, -1);
    this.txData.push(new Datom(d.e, d.a, d.v, this.tx, false));
    this.dirty();
  }
}

export function checkType(s: AttrSchema | undefined, a: Keyword, v: unknown, form: unknown): void {
  if (s === undefined || s.valueType === null) return;
  let ok = true;
  switch (s.valueType) {
    case 'string':
    case 'text':
    case 'uri':
      ok = typeof v === 'string';
      break;
    case 'long':
    case 'bigint':
      ok = (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
      break;
    case 'double':
    case 'float':
    case 'number':
    case 'bigdec':
      ok = typeof v === 'number';
      break;
    case 'boolean':
      ok = typeof v === 'boolean';
      break;
    case 'instant':
      ok = v instanceof Date;
      break;
    case 'keyword':
      ok = v instanceof Keyword;
      break;
    case 'symbol':
      ok = v instanceof Sym;
      break;
    case 'uuid':
      ok = v instanceof Uuid;
      break;
    case 'tuple':
      ok = Array.isArray(v);
      break;
    default:
  }
  if (!ok) {
    throw err('transact/value-type', `Value ${printEdn(v)} of :${a.fqn} is not a :db.type/${s.valueType}, at ${printEdn(form)}`, {
      attribute: a,
      value: v,
      valueType: s.valueType,
      txData: form,
    });
  }
}

export function transactAdd(st: TxState, rawE: unknown, a: Keyword, rawV: unknown, form: unknown, tx: TxId): void {
  if (rawV === null || rawV === undefined) {
    throw err('transact/syntax', `Cannot store nil as a value at ${printEdn(form)}`, { value: null, context: form });
  }
  const schema = st.db.schema;
  const s = schema.attrs.get(a);
  const e = st.entidStrict(rawE);
  const isRef = s?.valueType === 'ref';
  let v = rawV;
  if (isRef) v = st.entidStrict(rawV);
  else checkType(s, a, v, form);
  const d = new Datom(e, a, v as Datom['v'], tx, true);
  if (s?.cardinality === 'many') {
    if (st.eavt.first(ix.probeEAV(e, a, v)) !== undefined) {
      st.redundantEs.add(e);
      return;
    }
  } else {
    const old = st.eavt.first(ix.probeEA(e, a));
    if (old !== undefined) {
      if (compareValues(old.v, v) === 0) {
        st.redundantEs.add(e);
        return;
      }
      st.retractDatom(old);
    }
  }
  if (s !== undefined && s.unique !== null) {
    const found = st.firstAV(a, v);
    if (found !== undefined) {
      throw err(
        'transact/unique',
        `Cannot add [${e} :${a.fqn} ${printEdn(v)}] because of unique constraint: [${found.e} :${a.fqn} ${printEdn(found.v)}]`,
        { attribute: a, datom: d, found },
      );
    }
  }
  st.addDatom(d, isRef);
}

/**
 * Raw path for replicas: applies datoms as given, no tx-language resolution, no tempids, no unique
 * checks. `added` datoms are asserted (a cardinality-one assert replaces the current value);
 * `!added` datoms retract `[e a v]` when present. Datoms keep their own `tx` unless `tx` is given.
 * Returns the new db and the datoms actually changed (a no-op datom is left out).
 */
export function applyDatomsImpl(db: DbIndexes, datoms: Iterable<Datom>, tx?: TxId): { db: DbIndexes; changes: Datom[] } {
  const st = new TxState(db, new Map());
  const schema = db.schema;
  let maxTx = db.maxTx;
  for (const d0 of datoms) {
    const t = tx ?? d0.tx;
    if (t > maxTx) maxTx = t;
    const a = d0.a;
    const isRef = schema.isRef(a);
    if (d0.added) {
      const many = schema.isMany(a);
      const existing = st.eavt.first(many ? ix.probeEAV(d0.e, a, d0.v) : ix.probeEA(d0.e, a));
      if (existing !== undefined) {
        if (compareValues(existing.v, d0.v) === 0) continue;
        removeRaw(st, existing, t);
      }
      const d = d0.tx === t ? d0 : new Datom(d0.e, a, d0.v, t, true);
      st.addDatom(d, isRef);
    } else {
      const existing = st.eavt.first(ix.probeEAV(d0.e, a, d0.v));
      if (existing !== undefined) removeRaw(st, existing, t);
    }
  }
  const out = db.derive(
    st.eavt.persistent(),
    st.aevt.persistent(),
    st.avet.persistent(),
    st.vaet.persistent(),
    st.maxEid,
    maxTx,
    st.counts,
    st.avetLazy,
  );
  return { db: out, changes: st.txData };
}

export function removeRaw(st: TxState, d: Datom, tx: TxId): void {
  st.eavt.delete(d);
  st.aevt.delete(d);
  if (st.avetCovers(d.a)) st.avet.delete(d);
  if (typeof d.v === 'number' && st.db.schema.isRef(d.a)) st.vaet.delete(d);
  st.count(d.a, -1);
  st.txData.push(new Datom(d.e, d.a, d.v, tx, false));
}
