/**
 * Conversions between database values and {@link WireValue}s, and the canonical value key used to
 * index values in merge state and order them in snapshots.
 */
import { DataloomError } from '../errors.js';
import { Keyword, Uuid, kw } from '../edn/types.js';
import type { GlobalId, WireValue } from './types.js';

/**
 * Canonical string key of a wire value: equal values ⇔ equal keys. The first character tags the
 * type, so keys of different types never collide.
 */
export function wireValueKey(v: WireValue): string {
  switch (typeof v) {
    case 'string':
      return 's' + v;
    case 'number':
      return 'n' + (Object.is(v, -0) ? '0' : String(v));
    case 'boolean':
      return v ? 'T' : 'F';
    default:
      if ('ref' in v) return 'r' + v.ref;
      if ('kw' in v) return 'k' + v.kw;
      if ('inst' in v) return 'i' + String(v.inst);
      if ('uuid' in v) return 'u' + v.uuid;
      throw new DataloomError('ops/value', 'unknown wire value', { value: JSON.stringify(v) });
  }
}

/**
 * The key of the value `v` of attribute `a` (`a\0` + {@link wireValueKey}): how the merge rules,
 * translation, drafts and the server's unique index key unique values and cardinality-many values.
 */
export function attrValueKey(a: string, v: WireValue): string {
  return a + '\u0000' + wireValueKey(v);
}

/**
 * The key of a cardinality-many value as the merge rules key it: a ref by its entity's
 * representative (`reps.rep`: identity components merge entities), any other value by
 * {@link wireValueKey}. Replicas, drafts and the server agree on which values are "the same".
 */
export function manyValueKey(v: WireValue, reps: { rep(e: GlobalId): GlobalId }): string {
  return typeof v === 'object' && 'ref' in v ? 'r' + reps.rep(v.ref) : wireValueKey(v);
}

/** Whether `v` is a well-formed wire value. */
export function isWireValue(v: unknown): v is WireValue {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object': {
      if (v === null || Array.isArray(v)) return false;
      const keys = Object.keys(v);
      if (keys.length !== 1) return false;
      const x = (v as Record<string, unknown>)[keys[0]!];
      switch (keys[0]) {
        case 'kw':
        case 'uuid':
        case 'ref':
          return typeof x === 'string';
        case 'inst':
          return typeof x === 'number' && Number.isFinite(x);
        default:
          return false;
      }
    }
    default:
      return false;
  }
}

/**
 * A JS value (as written in transaction data) → wire value. Refs must already be global ids and
 * are passed through `asRef` by the caller; here a plain value only.
 */
export function toWireValue(v: unknown): WireValue {
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new DataloomError('transact/value', `non-finite number ${v}`, { value: v });
    return v;
  }
  if (v instanceof Keyword) return { kw: v.fqn };
  if (v instanceof Date) return { inst: v.getTime() };
  if (v instanceof Uuid) return { uuid: v.value };
  throw new DataloomError('transact/value', `unsupported value ${String(v)}`, { value: String(v) });
}

/** Wire value → JS value; refs go through `ref` (e.g. to intern global ids as integers). */
export function fromWireValue<R = GlobalId>(v: WireValue, ref: (id: GlobalId) => R = (id) => id as unknown as R): unknown {
  if (typeof v !== 'object') return v;
  if ('ref' in v) return ref(v.ref);
  if ('kw' in v) return kw(v.kw);
  if ('inst' in v) return new Date(v.inst);
  return new Uuid(v.uuid);
}

/**
 * Whether wire value `v` is a value of `:db.type/<valueType>`; `null` (no declared type) accepts
 * anything but a ref. Types without a wire form (`tuple`, `symbol`, `bytes`) accept nothing, and a
 * `text` attribute takes Yjs updates (`text` ops), not plain values.
 */
export function wireValueHasType(v: WireValue, valueType: string | null): boolean {
  const tag = typeof v === 'object' ? Object.keys(v)[0] : typeof v;
  switch (valueType) {
    case null:
      return tag !== 'ref';
    case 'ref':
      return tag === 'ref';
    case 'string':
    case 'uri':
      return tag === 'string';
    case 'long':
    case 'bigint':
      return typeof v === 'number' && Number.isInteger(v);
    case 'double':
    case 'number':
    case 'float':
    case 'bigdec':
      return tag === 'number';
    case 'boolean':
      return tag === 'boolean';
    case 'instant':
      return tag === 'inst';
    case 'keyword':
      return tag === 'kw';
    case 'uuid':
      return tag === 'uuid';
    default:
      return false;
  }
}
