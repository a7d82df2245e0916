/**
 * Schema as data: an attribute is an entity holding `db/ident` (its name, a keyword) and schema
 * attributes (`db/valueType`, `db/cardinality`, …) as ordinary datoms, so schema travels through
 * the op stream like any data. The server writes its configured schema this way (on the entity
 * {@link attrEntityId}); replicas and the server read it back with {@link schemaFromDatoms} — the
 * one definition of which ops define the schema and what they mean.
 */
import { DataloomError } from '../errors.js';
import { Keyword } from '../edn/types.js';
import { parseSchema } from '../db/schema.js';
import type { GlobalId, Op, WireValue } from './types.js';
import { MergeSchema, mergeAttrOf, schemaMapOf, type MergeAttr } from './schema.js';
import type { VisibleDatom } from './types.js';
import { MergeState } from './state.js';

/** The attributes whose datoms define an attribute (on its entity). */
export const SCHEMA_ATTRS: ReadonlySet<string> = new Set(['db/ident', 'db/valueType', 'db/cardinality', 'db/unique', 'db/isComponent', 'db/index', 'db/doc', 'db/noHistory']);

const KEYWORD_PROPS = new Set(['db/valueType', 'db/cardinality', 'db/unique']);
const BOOLEAN_PROPS = new Set(['db/isComponent', 'db/index', 'db/noHistory']);

/** `:x` form of a wire keyword for the schema reader; other values as they are. */
function propValue(v: WireValue): unknown {
  return typeof v === 'object' && 'kw' in v ? ':' + v.kw : v;
}

/**
 * Why `v` is not a valid value of schema attribute `a` (asserted by an `add`), or null. Enumerated
 * values are checked by the schema reader itself (`:db.type/…`, `:db.cardinality/…`, `:db.unique/…`).
 */
export function schemaValueError(a: string, v: WireValue): string | null {
  if (a === 'db/ident') return typeof v === 'object' && 'kw' in v ? null : 'expected a keyword';
  if (a === 'db/doc') return typeof v === 'string' ? null : 'expected a string';
  if (BOOLEAN_PROPS.has(a)) return typeof v === 'boolean' ? null : 'expected a boolean';
  if (KEYWORD_PROPS.has(a)) {
    if (!(typeof v === 'object' && 'kw' in v)) return 'expected a keyword';
    try {
      parseSchema({ 'schema/probe': { [':' + a]: propValue(v) } });
      return null;
    } catch (e) {
      return e instanceof DataloomError ? e.message : String(e);
    }
  }
  return SCHEMA_ATTRS.has(a) ? null : `:${a} is not a schema attribute`;
}

/**
 * Deterministic entity id of the schema entity for attribute `ident`: `attr.<hash>`, the hash two
 * 32-bit FNV-1a variants of the ident in base36 — a valid global id, the same on every node and run.
 */
export function attrEntityId(ident: string): GlobalId {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < ident.length; i++) {
    const c = ident.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x01000193 + 2) >>> 0;
  }
  return 'attr.' + h1.toString(36) + '_' + h2.toString(36);
}

/**
 * A schema input as the datoms that define it: attribute → schema attribute → value. Writes
 * `db/valueType` and `db/unique` when declared, `db/cardinality`, `db/isComponent` and `db/index`
 * always (`db/index` as declared, not implied by uniqueness), `db/doc` when given. Validates like
 * the schema reader (throws `schema/validation`).
 */
export function schemaAsData(input: unknown): Map<string, Map<string, WireValue>> {
  const map = schemaMapOf(input);
  const parsed = parseSchema(map);
  const raw = new Map<string, Map<string, unknown>>();
  const entries = map instanceof Map ? [...map.entries()] : map && typeof map === 'object' ? Object.entries(map) : [];
  for (const [k, props] of entries) {
    const name = k instanceof Keyword ? k.fqn : String(k).replace(/^:/, '');
    const p = new Map<string, unknown>();
    const ps = props instanceof Map ? [...props.entries()] : props && typeof props === 'object' ? Object.entries(props) : [];
    for (const [pk, pv] of ps) p.set(pk instanceof Keyword ? pk.fqn : String(pk).replace(/^:/, ''), pv);
    raw.set(name, p);
  }
  const out = new Map<string, Map<string, WireValue>>();
  for (const [k, s] of parsed.attrs) {
    if (k.fqn === 'db/ident') continue;
    const m = new Map<string, WireValue>();
    const rawProps = raw.get(k.fqn);
    if (s.valueType !== null) m.set('db/valueType', { kw: 'db.type/' + s.valueType });
    m.set('db/cardinality', { kw: 'db.cardinality/' + s.cardinality });
    if (s.unique !== null) m.set('db/unique', { kw: 'db.unique/' + s.unique });
    m.set('db/isComponent', s.isComponent);
    m.set('db/index', rawProps?.get('db/index') === true);
    const doc = rawProps?.get('db/doc');
    if (typeof doc === 'string') m.set('db/doc', doc);
    out.set(k.fqn, m);
  }
  return out;
}

/** An attribute defined as data: its entity and its schema properties in schema-input form. */
export interface DataAttr {
  entity: GlobalId;
  /** `:db/…` property → value (keywords as `:ns/name` strings), ready for the schema reader. */
  props: Record<string, unknown>;
  /** The definition's merge facts, or null when it does not validate (it is then ignored). */
  attr: MergeAttr | null;
}

/**
 * The attributes defined by visible datoms: every entity with a `db/ident` keyword and at least
 * one other schema attribute. Lenient: a definition that does not validate is reported with
 * `attr: null` and defines nothing.
 */
export function schemaFromDatoms(datoms: Iterable<VisibleDatom>): Map<string, DataAttr> {
  const byEntity = new Map<GlobalId, Map<string, WireValue>>();
  for (const d of datoms) {
    if (!SCHEMA_ATTRS.has(d.a)) continue;
    let m = byEntity.get(d.e);
    if (!m) byEntity.set(d.e, (m = new Map()));
    m.set(d.a, d.v);
  }
  const out = new Map<string, DataAttr>();
  for (const [entity, m] of byEntity) {
    const ident = m.get('db/ident');
    if (m.size < 2 || typeof ident !== 'object' || !('kw' in ident)) continue;
    const props: Record<string, unknown> = {};
    for (const [a, v] of m) if (a !== 'db/ident') props[':' + a] = propValue(v);
    let attr: MergeAttr | null = null;
    try {
      const s = parseSchema({ [ident.kw]: props }).get(ident.kw);
      if (s) attr = mergeAttrOf(s);
    } catch {
      attr = null;
    }
    out.set(ident.kw, { entity, props, attr });
  }
  return out;
}

/** The ops that can matter to schema as data: schema-attribute ops, and tombstones of their entities. */
export function schemaOps(ops: Iterable<Op>): Op[] {
  const out: Op[] = [];
  const tombs: Op[] = [];
  const ents = new Set<GlobalId>();
  for (const o of ops) {
    if (o.op === 'retractEntity') tombs.push(o);
    else if (o.a !== undefined && SCHEMA_ATTRS.has(o.a)) {
      out.push(o);
      ents.add(o.e);
    }
  }
  for (const t of tombs) if (ents.has(t.e)) out.push(t);
  return out;
}

/** The merge schema of the attributes defined by `ops` (schema as data only). */
export function dataMergeSchema(ops: Iterable<Op>): MergeSchema {
  const s = new MergeState();
  s.apply(schemaOps(ops));
  const entries: Array<[string, MergeAttr]> = [];
  for (const [ident, d] of schemaFromDatoms(s.datoms())) if (d.attr) entries.push([ident, d.attr]);
  return new MergeSchema(entries);
}

/**
 * The app's schema extended with the attributes defined as data in `ops` (a data definition
 * replaces the app's for that attribute). Returns `schema` itself when the ops define nothing.
 */
export function schemaWithData(schema: unknown, ops: Iterable<Op>): unknown {
  const s = new MergeState();
  s.apply(schemaOps(ops));
  const defs: Record<string, Record<string, unknown>> = {};
  for (const [ident, d] of schemaFromDatoms(s.datoms())) if (d.attr) defs[':' + ident] = d.props;
  if (Object.keys(defs).length === 0) return schema;
  const base: Record<string, unknown> = {};
  const map = schema === null || schema === undefined ? null : schemaMapOf(schema);
  const entries = map instanceof Map ? [...map.entries()] : map && typeof map === 'object' ? Object.entries(map) : [];
  for (const [k, v] of entries) {
    const name = k instanceof Keyword ? k.fqn : String(k);
    base[name.startsWith(':') ? name : ':' + name] = v;
  }
  return { ...base, ...defs };
}
