/**
 * Schema parsing and validation: DataScript/Datomic attribute maps given as an EDN string, a `Map`
 * or a plain object. Keys may be keywords or strings with or without the colon; values keywords or
 * strings (`":db.type/ref"`, `"db.type/ref"`) or booleans.
 *
 * Unlike DataScript (which only knows `ref` and `tuple`), every Datomic value type is accepted and
 * then enforced on assertions (`transact/value-type`). `:db/ident` is implicitly unique identity.
 */
import { DataloomError } from '../errors.js';
import { Keyword, kw } from '../edn/types.js';
import { parseEdn } from '../edn/reader.js';
import type { AttrLike, AttrSchema, Schema, SchemaInput, ValueType } from './types.js';

const VALUE_TYPES: ReadonlySet<string> = new Set([
  'ref',
  'string',
  'text',
  'long',
  'double',
  'number',
  'boolean',
  'instant',
  'keyword',
  'uuid',
  'tuple',
  'symbol',
  'bigint',
  'bigdec',
  'float',
  'uri',
  'bytes',
]);

const K_VALUE_TYPE = kw('db/valueType');
const K_CARDINALITY = kw('db/cardinality');
const K_UNIQUE = kw('db/unique');
const K_IS_COMPONENT = kw('db/isComponent');
const K_INDEX = kw('db/index');
const K_TUPLE_ATTRS = kw('db/tupleAttrs');
const K_TUPLE_TYPE = kw('db/tupleType');
const K_TUPLE_TYPES = kw('db/tupleTypes');
const K_DOC = kw('db/doc');
const K_NO_HISTORY = kw('db/noHistory');
const K_IDENT = kw('db/ident');

/** Reads a keyword-ish thing: Keyword, or string with/without colon. */
export function toKeyword(x: unknown): Keyword | null {
  if (x instanceof Keyword) return x;
  if (typeof x === 'string' && x.length > 0) return kw(x);
  return null;
}

/** An attribute argument as a keyword (strings are read as keyword names). */
export function attrKw(a: AttrLike): Keyword {
  return typeof a === 'string' ? kw(a) : a;
}

function entriesOf(x: unknown): Array<[unknown, unknown]> | null {
  if (x instanceof Map) return [...x.entries()];
  if (typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Keyword)) return Object.entries(x);
  return null;
}

function bad(attr: Keyword, key: Keyword | null, message: string, value?: unknown): never {
  throw new DataloomError('schema/validation', `Bad attribute specification for :${attr.fqn}: ${message}`, {
    attribute: attr,
    key,
    value,
  });
}

function enumValue(attr: Keyword, key: Keyword, v: unknown, ns: string, allowed: readonly string[]): string {
  const k = toKeyword(v);
  if (k !== null && k.ns === ns && allowed.includes(k.name)) return k.name;
  return bad(attr, key, `${printish(key)} expected one of ${allowed.map((a) => `:${ns}/${a}`).join(', ')}, got ${printish(v)}`, v);
}

function printish(v: unknown): string {
  if (v instanceof Keyword) return v.toString();
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

function valueType(attr: Keyword, key: Keyword, v: unknown): ValueType {
  const k = toKeyword(v);
  if (k !== null && k.ns === 'db.type' && VALUE_TYPES.has(k.name)) return k.name as ValueType;
  return bad(attr, key, `:db/valueType expected a :db.type/… keyword, got ${printish(v)}`, v);
}

function bool(attr: Keyword, key: Keyword, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  return bad(attr, key, `${key} expects true or false, got ${printish(v)}`, v);
}

class SchemaImpl implements Schema {
  /**
   * Composite tuples: source attribute → (tuple attribute → position). Empty when the schema has
   * no `:db/tupleAttrs`.
   */
  readonly attrTuples: ReadonlyMap<Keyword, ReadonlyMap<Keyword, number>>;
  constructor(readonly attrs: ReadonlyMap<Keyword, AttrSchema>) {
    const at = new Map<Keyword, Map<Keyword, number>>();
    for (const s of attrs.values()) {
      s.tupleAttrs?.forEach((src, i) => {
        let m = at.get(src);
        if (m === undefined) at.set(src, (m = new Map()));
        m.set(s.ident, i);
      });
    }
    this.attrTuples = at;
  }
  get(a: AttrLike): AttrSchema | undefined {
    return this.attrs.get(attrKw(a));
  }
  isRef(a: AttrLike): boolean {
    return this.attrs.get(attrKw(a))?.valueType === 'ref';
  }
  isMany(a: AttrLike): boolean {
    return this.attrs.get(attrKw(a))?.cardinality === 'many';
  }
  isUnique(a: AttrLike): boolean {
    return (this.attrs.get(attrKw(a))?.unique ?? null) !== null;
  }
  isUniqueIdentity(a: AttrLike): boolean {
    return this.attrs.get(attrKw(a))?.unique === 'identity';
  }
  isComponent(a: AttrLike): boolean {
    return this.attrs.get(attrKw(a))?.isComponent === true;
  }
  valueType(a: AttrLike): ValueType | null {
    return this.attrs.get(attrKw(a))?.valueType ?? null;
  }
}

const IDENT_SCHEMA: AttrSchema = {
  ident: K_IDENT,
  valueType: null,
  cardinality: 'one',
  unique: 'identity',
  isComponent: false,
  index: true,
  tupleAttrs: null,
  tupleType: null,
  tupleTypes: null,
};

/** Composite-tuple sources of a parsed schema (see {@link SchemaImpl.attrTuples}). */
export function attrTuples(s: Schema): ReadonlyMap<Keyword, ReadonlyMap<Keyword, number>> {
  return (s as SchemaImpl).attrTuples ?? new Map();
}

/** Parses and validates a schema; throws `schema/validation` with the attribute and key. */
export function parseSchema(input: SchemaInput): Schema {
  if (input instanceof SchemaImpl) return input;
  let src: unknown = input;
  if (typeof src === 'string') src = parseEdn(src);
  const attrs = new Map<Keyword, AttrSchema>();
  attrs.set(K_IDENT, IDENT_SCHEMA);
  if (src === null || src === undefined) return new SchemaImpl(attrs);
  const entries = entriesOf(src);
  if (entries === null) {
    throw new DataloomError('schema/validation', `Schema must be a map of attribute → properties, got ${printish(src)}`, {
      schema: src,
    });
  }
  for (const [rawAttr, rawProps] of entries) {
    const attr = toKeyword(rawAttr);
    if (attr === null) {
      throw new DataloomError('schema/validation', `Schema attribute must be a keyword or string, got ${printish(rawAttr)}`, {
        attribute: rawAttr,
      });
    }
    const props = entriesOf(rawProps);
    if (props === null) bad(attr, null, `properties must be a map, got ${printish(rawProps)}`, rawProps);
    let vt: ValueType | null = null;
    let card: 'one' | 'many' = 'one';
    let unique: 'identity' | 'value' | null = null;
    let isComponent = false;
    let index = false;
    let tupleAttrs: Keyword[] | null = null;
    let tupleType: ValueType | null = null;
    let tupleTypes: ValueType[] | null = null;
    for (const [rk, v] of props) {
      const k = toKeyword(rk);
      if (k === K_VALUE_TYPE) vt = valueType(attr, k, v);
      else if (k === K_CARDINALITY) card = enumValue(attr, k, v, 'db.cardinality', ['one', 'many']) as 'one' | 'many';
      else if (k === K_UNIQUE) unique = enumValue(attr, k, v, 'db.unique', ['identity', 'value']) as 'identity' | 'value';
      else if (k === K_IS_COMPONENT) isComponent = bool(attr, k, v);
      else if (k === K_INDEX) index = bool(attr, k, v);
      else if (k === K_TUPLE_ATTRS) {
        if (!Array.isArray(v) || v.length < 2) bad(attr, k, ':db/tupleAttrs must be a vector of at least two attributes', v);
        tupleAttrs = (v as unknown[]).map((x) => toKeyword(x) ?? bad(attr, k, 'tuple attributes must be keywords', v));
      } else if (k === K_TUPLE_TYPE) tupleType = valueType(attr, k, v);
      else if (k === K_TUPLE_TYPES) {
        if (!Array.isArray(v)) bad(attr, k, ':db/tupleTypes must be a vector of value types', v);
        tupleTypes = (v as unknown[]).map((x) => valueType(attr, k, x));
      } else if (k === K_DOC || k === K_NO_HISTORY || k === K_IDENT) {
        // documentation only
      } else {
        // DataScript ignores unknown keys; so do we.
      }
    }
    if (isComponent && vt !== 'ref') {
      bad(attr, K_IS_COMPONENT, '{:db/isComponent true} should also have {:db/valueType :db.type/ref}');
    }
    if ((tupleAttrs !== null || tupleType !== null || tupleTypes !== null) && vt !== 'tuple') {
      if (vt === null) vt = 'tuple';
      else bad(attr, K_VALUE_TYPE, 'tuple attributes must have {:db/valueType :db.type/tuple}', vt);
    }
    if (tupleAttrs !== null) {
      if (card === 'many') bad(attr, K_CARDINALITY, ':db/tupleAttrs can’t have :db.cardinality/many');
      for (const t of tupleAttrs) {
        const ts = attrs.get(t);
        if (t === attr) bad(attr, K_TUPLE_ATTRS, 'a tuple can’t contain itself');
        if (ts?.cardinality === 'many') bad(attr, K_TUPLE_ATTRS, `:db/tupleAttrs can’t depend on :db.cardinality/many attribute :${t.fqn}`);
      }
    }
    attrs.set(attr, {
      ident: attr,
      valueType: vt,
      cardinality: card,
      unique,
      isComponent,
      index: index || unique !== null,
      tupleAttrs,
      tupleType,
      tupleTypes,
    });
  }
  // second pass: tuple members declared after the tuple
  for (const s of attrs.values()) {
    for (const t of s.tupleAttrs ?? []) {
      if (attrs.get(t)?.cardinality === 'many') {
        bad(s.ident, K_TUPLE_ATTRS, `:db/tupleAttrs can’t depend on :db.cardinality/many attribute :${t.fqn}`);
      }
    }
  }
  return new SchemaImpl(attrs);
}
