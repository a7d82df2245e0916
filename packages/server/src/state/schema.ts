/**
 * The server's view of the schema: what it needs to validate operations.
 *
 * Schema is data. An attribute is an entity with `db/ident` (a keyword) and the usual schema
 * attributes (`db/valueType`, `db/cardinality`, `db/unique`, `db/isComponent`, `db/index`,
 * `db/doc`). The schema given to `createServer` is written to the log as such operations (on
 * entity ids {@link attrEntityId}) when it differs from the logged schema, so every
 * client receives schema changes through the ordinary op stream.
 */
import { DataloomError, Keyword, parseEdn } from '@dataloom/core';

export type ValueTypeName = 'ref' | 'string' | 'long' | 'double' | 'number' | 'float' | 'boolean' | 'instant' | 'keyword' | 'uuid' | 'text' | 'bigint' | 'bigdec' | 'symbol' | 'tuple';

export interface AttrSpec {
  ident: string;
  valueType: ValueTypeName | null;
  cardinality: 'one' | 'many';
  unique: 'identity' | 'value' | null;
  isComponent: boolean;
  index: boolean;
  doc?: string;
}

/** Attributes whose ops define the schema (a is one of these). */
export const SCHEMA_ATTRS = new Set(['db/ident', 'db/valueType', 'db/cardinality', 'db/unique', 'db/isComponent', 'db/index', 'db/doc', 'db/noHistory', 'db/tupleType', 'db/tupleTypes', 'db/tupleAttrs']);

export const VALUE_TYPES = new Set<string>(['ref', 'string', 'long', 'double', 'number', 'float', 'boolean', 'instant', 'keyword', 'uuid', 'text', 'bigint', 'bigdec', 'symbol', 'tuple']);

function nameOf(x: unknown): string | null {
  if (x instanceof Keyword) return x.fqn;
  if (typeof x === 'string') return x.startsWith(':') ? x.slice(1) : x;
  return null;
}

function entriesOf(x: unknown): Array<[unknown, unknown]> | null {
  if (x instanceof Map) return [...x.entries()];
  if (typeof x === 'object' && x !== null && !Array.isArray(x)) return Object.entries(x);
  return null;
}

function bad(message: string, form: unknown): never {
  throw new DataloomError('server/schema', message, { form: String(form) });
}

/** Normalise one attribute's properties (keys/values as keywords or strings). */
export function attrSpecOf(ident: string, props: unknown): AttrSpec {
  const spec: AttrSpec = { ident, valueType: null, cardinality: 'one', unique: null, isComponent: false, index: false };
  for (const [k, v] of entriesOf(props) ?? bad(`schema of ${ident} must be a map`, props)) {
    const key = nameOf(k);
    const val = nameOf(v);
    switch (key) {
      case 'db/valueType': {
        const t = val?.replace(/^db\.type\//, '');
        if (!t || !VALUE_TYPES.has(t)) bad(`unknown :db/valueType ${String(v)} for ${ident}`, v);
        spec.valueType = t as ValueTypeName;
        break;
      }
      case 'db/cardinality':
        if (val === 'db.cardinality/many') spec.cardinality = 'many';
        else if (val === 'db.cardinality/one') spec.cardinality = 'one';
        else bad(`unknown :db/cardinality ${String(v)} for ${ident}`, v);
        break;
      case 'db/unique':
        if (val === 'db.unique/identity') spec.unique = 'identity';
        else if (val === 'db.unique/value') spec.unique = 'value';
        else bad(`unknown :db/unique ${String(v)} for ${ident}`, v);
        break;
      case 'db/isComponent':
        spec.isComponent = v === true;
        break;
      case 'db/index':
        spec.index = v === true;
        break;
      case 'db/doc':
        if (typeof v === 'string') spec.doc = v;
        break;
      case 'db/ident':
      case 'db/noHistory':
      case 'db/tupleType':
      case 'db/tupleTypes':
      case 'db/tupleAttrs':
        break;
      default:
        bad(`unknown schema property ${String(k)} for ${ident}`, k);
    }
  }
  return spec;
}

/**
 * Parse a schema given as an EDN string, a parsed EDN map, a plain object (DataScript style,
 * `{"person/name": {"db/valueType": "db.type/string"}}`) or a vector of attribute maps with
 * `:db/ident` (Datomic style).
 */
export function parseSchema(input: unknown): Map<string, AttrSpec> {
  const out = new Map<string, AttrSpec>();
  if (input === null || input === undefined) return out;
  const data = typeof input === 'string' ? parseEdn(input) : input;
  if (Array.isArray(data)) {
    for (const m of data) {
      const e = entriesOf(m) ?? bad('schema vector entries must be maps', m);
      const identEntry = e.find(([k]) => nameOf(k) === 'db/ident');
      const ident = identEntry ? nameOf(identEntry[1]) : null;
      if (!ident) bad('schema attribute map needs :db/ident', m);
      out.set(ident, attrSpecOf(ident, m));
    }
    return out;
  }
  for (const [k, v] of entriesOf(data) ?? bad('schema must be a map or a vector of attribute maps', data)) {
    const ident = nameOf(k);
    if (!ident) bad('schema keys must be keywords or strings', k);
    out.set(ident, attrSpecOf(ident, v));
  }
  return out;
}

/**
 * Deterministic entity id of the schema entity for attribute `ident`: `attr.<hash>` where the
 * hash is two 32-bit FNV-1a hashes of the ident in base36 — a valid global id (lowercase suffix),
 * the same on every server node and every run.
 */
export function attrEntityId(ident: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < ident.length; i++) {
    const c = ident.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x01000193 + 2) >>> 0;
  }
  return 'attr.' + h1.toString(36) + '_' + h2.toString(36);
}
