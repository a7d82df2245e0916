/**
 * The contract of an immutable database value: what the query engine, the dataflow engine, pull
 * and the replica layer code against.
 *
 * Invariants (hold for every {@link Db}):
 * - A `Db` never changes after it is made. `with` returns a new value; the old one stays valid and
 *   keeps answering as before (structural sharing makes this cheap).
 * - Every current datom is in all four indexes, ordered as in DataScript/Datomic:
 *   - EAVT: by entity, attribute, value, tx
 *   - AEVT: by attribute, entity, value, tx
 *   - AVET: by attribute, value, entity, tx — for **every** attribute, not only `:db/index` ones,
 *     so value lookups are always index seeks. Kept up to date by transactions for `:db/index` /
 *     `:db/unique` attributes and `:db/ident`; any other attribute's part is built from AEVT the
 *     first time a value lookup reads it (a database value does this once per attribute, and the
 *     values transactions derive from it keep that part up to date), so writes to attributes
 *     nobody looks up by value pay for three indexes, not four
 *   - VAET: ref attributes only, by value (the referenced entity), attribute, entity, tx
 * - Attributes compare like keywords in Clojure (namespace first, then name); values compare with
 *   {@link compareValues} (DataScript's cross-type order).
 * - Datoms returned from a `Db` are never mutated by anyone: treat them as frozen.
 * - Entity ids are positive integers ≤ 2147483647; tx ids start at {@link TX0} + 1 (536870913).
 *
 * Attribute arguments accept a {@link Keyword} (fast path) or a string with or without the leading
 * colon (`":person/name"` or `"person/name"`), read as that keyword.
 */
import type { Keyword, Uuid } from '../edn/types.js';
import type { PSet } from './btree.js';

/** Entity id inside a database: a positive integer. */
export type EntityId = number;

/** A transaction id (an entity id ≥ 536870913 in DataScript numbering). */
export type TxId = number;

/** An attribute as callers may write it: an interned keyword, or its name as a string. */
export type AttrLike = Keyword | string;

/**
 * A value stored in a datom: string (also `:db.type/text`, which queries see as its string),
 * number (long/double), boolean, Keyword, Date (instant), Uuid, an entity id number (refs), or a
 * tuple (array of those, `:db.type/tuple`).
 */
export type Value = string | number | boolean | Keyword | Date | Uuid | readonly Value[];

/**
 * Anything that names an entity: an id, a lookup ref `[attr, value]` on a unique attribute, or a
 * `:db/ident` keyword.
 */
export type EntityRef = EntityId | Keyword | readonly [AttrLike, unknown];

/** The four index orders. */
export type IndexName = 'eavt' | 'aevt' | 'avet' | 'vaet';

/** First transaction id minus one (DataScript's `tx0`). The first transaction gets `TX0 + 1`. */
export const TX0 = 0x20000000; // 536870912
/** Largest entity id accepted (DataScript's `emax`). */
export const EMAX = 0x7fffffff; // 2147483647
/** Largest tx id (DataScript's `txmax`). */
export const TXMAX = 0x7fffffff;

/**
 * A datom `[e a v tx added]`. Immutable by convention (never mutate one you were given).
 * `added` is true for assertions; tx reports list retractions with `added === false`.
 */
export class Datom {
  constructor(
    readonly e: EntityId,
    readonly a: Keyword,
    readonly v: Value,
    readonly tx: TxId,
    readonly added: boolean = true,
  ) {}
  /** `[e, a, v, tx, added]` — handy for tests and printing. */
  toArray(): [EntityId, Keyword, Value, TxId, boolean] {
    return [this.e, this.a, this.v, this.tx, this.added];
  }
  /** EDN-ish print like DataScript: `#datascript/Datom [1 :name "Ivan" 536870913 true]`. */
  toString(): string {
    return `#datom [${this.e} :${this.a.fqn} ${JSON.stringify(this.v)} ${this.tx} ${this.added}]`;
  }
}

/** Value types understood by the schema. `number` is accepted as an alias of `double`. */
export type ValueType =
  | 'ref'
  | 'string'
  | 'text'
  | 'long'
  | 'double'
  | 'number'
  | 'boolean'
  | 'instant'
  | 'keyword'
  | 'uuid'
  | 'tuple'
  | 'symbol'
  | 'bigint'
  | 'bigdec'
  | 'float'
  | 'uri'
  | 'bytes';

/** One attribute's schema, normalised. */
export interface AttrSchema {
  readonly ident: Keyword;
  /** null when the schema leaves the type open (DataScript: any value). */
  readonly valueType: ValueType | null;
  readonly cardinality: 'one' | 'many';
  /** `identity` upserts; `value` only rejects duplicates. */
  readonly unique: 'identity' | 'value' | null;
  /** Only for refs: retracting the parent retracts the child; pull/entity expand it. */
  readonly isComponent: boolean;
  /** `:db/index` (or unique): AVET is maintained from the start (others: from the first value lookup). */
  readonly index: boolean;
  /** `:db/tupleAttrs` for composite tuples. */
  readonly tupleAttrs: readonly Keyword[] | null;
  /** `:db/tupleType` (homogeneous) / `:db/tupleTypes` (heterogeneous) for value tuples. */
  readonly tupleType: ValueType | null;
  readonly tupleTypes: readonly ValueType[] | null;
}

/** A validated, normalised schema. */
export interface Schema {
  /** Attribute → its schema; attributes absent here are untyped cardinality-one attributes. */
  readonly attrs: ReadonlyMap<Keyword, AttrSchema>;
  get(a: AttrLike): AttrSchema | undefined;
  isRef(a: AttrLike): boolean;
  isMany(a: AttrLike): boolean;
  isUnique(a: AttrLike): boolean;
  isUniqueIdentity(a: AttrLike): boolean;
  isComponent(a: AttrLike): boolean;
  valueType(a: AttrLike): ValueType | null;
}

/**
 * Schema input: an EDN map (string or parsed `Map`) or a plain object keyed by attribute name, e.g.
 * `{":person/friend": {":db/valueType": ":db.type/ref", ":db/cardinality": ":db.cardinality/many"}}`.
 * Keys may omit the colon; values may be keywords or strings.
 */
export type SchemaInput = Schema | Map<unknown, unknown> | Record<string, unknown> | string | null | undefined;

/** What a transaction returns (DataScript's tx report). */
export interface TxReport {
  readonly dbBefore: Db;
  readonly dbAfter: Db;
  /** Datoms asserted (`added`) and retracted (`!added`) by this transaction, in order. */
  readonly txData: Datom[];
  /**
   * Tempid → resolved entity id. Keys are the tempids as written (strings or negative numbers);
   * the key `:db/current-tx` (the keyword) maps to this transaction's id, like DataScript.
   */
  readonly tempids: Map<string | number | Keyword, EntityId>;
  /** `txMeta` as passed to `with`, or null. */
  readonly txMeta: unknown;
}

/**
 * Transaction data: an array (or iterable) of forms, each an entity map (`Map` or plain object),
 * `[:db/add e a v]`, `[:db/retract e a v?]`, `[:db/retractEntity e]`, `[:db.fn/retractAttribute e a]`,
 * `[:db/cas e a old new]`, or a tx-function call; or an EDN string of such a vector. nil entries are
 * skipped.
 */
export type TxData = string | Iterable<unknown>;

/** A lazy entity view (see `entity(db, eid)`). */
export interface Entity {
  readonly db: Db;
  /** The entity id (`:db/id`). */
  readonly eid: EntityId;
  /**
   * The value of `attr`: a scalar for cardinality one, a `Set` for cardinality many, an `Entity`
   * (or `Set` of entities) for refs, reverse refs with `_` (`:person/_friend`) give a `Set` of
   * entities (a single entity for component reverse refs); `undefined` when absent.
   */
  get(attr: AttrLike): unknown;
  /** Attributes present on the entity. */
  keys(): Keyword[];
  /** A `Map` keyword → value with refs as `{:db/id n}` maps, like DataScript's `touch` + print. */
  toEdn(): Map<Keyword, unknown>;
}

/**
 * An immutable database value. All methods are pure reads except `with`, which returns a report
 * holding a new database.
 */
export interface Db {
  readonly schema: Schema;
  /** Highest entity id in use (0 when empty; excludes tx ids). */
  readonly maxEid: EntityId;
  /** Id of the last transaction ({@link TX0} when none). */
  readonly maxTx: TxId;
  /** Number of current datoms. */
  readonly size: number;

  // ---- DataScript-style index access --------------------------------------------------------

  /**
   * Datoms of `index` whose leading components equal `components` (DataScript's `d/datoms`),
   * in index order. Components are given in index order: for `'avet'` → `(a, v, e, tx)`,
   * for `'vaet'` → `(v, a, e, tx)`. Entity components (and ref values) may be lookup refs or
   * idents; one that matches nothing throws `entity-id/missing`, as in DataScript.
   */
  datoms(index: IndexName, ...components: unknown[]): Datom[];
  /**
   * Datoms of `index` from the first one ≥ `components` to the end of the index
   * (DataScript's `d/seek-datoms`). Lazy: stop iterating early to pay only for what you read.
   */
  seekDatoms(index: IndexName, ...components: unknown[]): Iterable<Datom>;
  /** Datoms in reverse index order from the last one ≤ `components` (DataScript's `d/rseek-datoms`). */
  rseekDatoms(index: IndexName, ...components: unknown[]): Iterable<Datom>;
  /**
   * AVET datoms of `attr` with `start ≤ v ≤ end` (either bound may be `undefined` = open), in
   * value order (DataScript's `d/index-range`, but for every attribute).
   */
  indexRange(attr: AttrLike, start?: unknown, end?: unknown): Datom[];

  // ---- fast primitives for query engines ----------------------------------------------------

  /** Values of `(e, a)` in value order (empty when none). */
  values(e: EntityId, a: AttrLike): Value[];
  /** The single value of `(e, a)` (the smallest for cardinality many), or `undefined`. */
  value(e: EntityId, a: AttrLike): Value | undefined;
  /** Whether the datom `[e a v]` (or any `[e a _]` when `v` is omitted) is present. */
  has(e: EntityId, a: AttrLike, v?: unknown): boolean;
  /** Entities having `a` (any value), ascending, no duplicates. */
  entitiesWithAttr(a: AttrLike): EntityId[];
  /** Entities having `a = v`, ascending. Uses AVET. A ref value may be a lookup ref (none → `[]`). */
  entitiesWith(a: AttrLike, v: unknown): EntityId[];
  /** Calls `fn(e, v, tx)` for every datom of `a`, in AEVT order. */
  forEachOfAttr(a: AttrLike, fn: (e: EntityId, v: Value, tx: TxId) => void): void;
  /** Datoms referring to `e` (VAET), optionally only through `a`. */
  refsTo(e: EntityId, a?: AttrLike): Datom[];
  /** Number of datoms of attribute `a` (for planners). */
  countAttr(a: AttrLike): number;
  /** Attributes that have at least one datom. */
  attrs(): Keyword[];
  /** Every datom of entity `e` (EAVT order). */
  entityDatoms(e: EntityId): Datom[];

  /**
   * Resolves an entity reference: ints are returned as they are, lookup refs `[attr value]` through
   * AVET (attr must be unique), `:db/ident` keywords through the ident attribute. Returns `null` when
   * no entity matches; throws `lookup-ref/unique`, `lookup-ref/syntax` on malformed refs.
   */
  entid(x: unknown): EntityId | null;
  /** Like {@link entid} but throws `entity-id/missing` when nothing matches. */
  entidStrict(x: unknown): EntityId;

  // ---- schema predicates ---------------------------------------------------------------------
  isRef(a: AttrLike): boolean;
  isMany(a: AttrLike): boolean;
  isUnique(a: AttrLike): boolean;
  isComponent(a: AttrLike): boolean;
  valueType(a: AttrLike): ValueType | null;

  // ---- writing -------------------------------------------------------------------------------

  /**
   * Applies transaction data and returns the report; `this` is unchanged. Throws a
   * `DataloomError` (`transact/syntax`, `transact/unique`, `transact/upsert`, `transact/cas`,
   * `entity-id/missing`, …) and leaves nothing changed when the transaction is bad.
   */
  with(txData: TxData, txMeta?: unknown): TxReport;
}

/**
 * @internal A database value as the transaction resolver sees it: its four indexes, its datom
 * counts, and how to build the next value over new indexes. `DbImpl` (`database.ts`) implements
 * it; `transact.ts` and `tx-state.ts` program against it, so they do not import the class.
 */
export interface DbIndexes extends Db {
  readonly eavt: PSet<Datom>;
  readonly aevt: PSet<Datom>;
  readonly avet: PSet<Datom>;
  readonly vaet: PSet<Datom>;
  readonly attrCounts: ReadonlyMap<Keyword, number>;
  /** Attributes without `:db/index` whose datoms `avet` holds (see the module comment). */
  readonly avetLazy: ReadonlySet<Keyword>;
  /** Whether transactions keep `a`'s datoms in AVET (indexed, unique, `:db/ident`, or in `avetLazy`). */
  avetCovers(a: Keyword): boolean;
  derive(eavt: PSet<Datom>, aevt: PSet<Datom>, avet: PSet<Datom>, vaet: PSet<Datom>, maxEid: EntityId, maxTx: TxId, attrCounts: ReadonlyMap<Keyword, number>, avetLazy: ReadonlySet<Keyword>): DbIndexes;
}
