/**
 * A value's identity key: the one definition of "the same value" for every package. Two values get
 * the same key exactly when DataScript's `=` holds for them: numbers by value, strings by content,
 * keywords and symbols by name, dates by time, uuids by text, vectors and lists element-wise (a
 * vector equals a list of the same elements), maps, sets and plain objects by content whatever
 * their insertion order, tagged literals by tag and value, bytes by content, regular expressions by
 * flags and source (DataScript compares them by identity; here one `re-pattern` evaluated twice by
 * the engine must give the same value). Values with no
 * structural meaning (functions, database values, other class instances) are keyed by identity.
 *
 * Invariant: a single value's key is a `number` (for numbers: the number itself, so entity ids key
 * `Map`s without allocating) or a `string` starting with a type tag that no other type uses.
 * Composite keys (tuples, the elements of a collection) join element keys with U+0001; a string or
 * name that contains U+0001 is JSON-escaped, and a collection's key states its size, so every key
 * decodes one way. Pairs of small non-negative integers pack into one number ({@link pairKey}).
 * Every producer of multi-value keys goes through {@link tupleKey}/{@link colsKey}/{@link pairKey},
 * so the encodings agree. Wire values (`WireValue`) have their own key, `wireValueKey` in `ops/`.
 */
import { Keyword, List, Sym, Tagged, Uuid } from './types.js';

/** A value or tuple key (see the module comment). */
export type ValueKey = string | number;

const SEP = '\u0001';

/** The key of one value. */
export function valueKey(v: unknown): ValueKey {
  switch (typeof v) {
    case 'number':
      return v;
    case 'string':
      return v.indexOf(SEP) < 0 ? '"' + v : 'j' + JSON.stringify(v);
    case 'boolean':
      return v ? 'T' : 'F';
    case 'undefined':
      return 'N';
    case 'bigint':
      return 'B' + v.toString();
    case 'function':
      return identity(v);
    case 'symbol':
      return symbolKey(v);
    default:
  }
  if (v === null) return 'N';
  if (v instanceof Keyword) return ':' + name(v.fqn);
  if (v instanceof Date) return 'D' + v.getTime();
  if (v instanceof Uuid) return 'U' + v.value;
  if (v instanceof Sym) return "'" + name(v.fqn);
  if (Array.isArray(v)) return seqKey(v);
  if (v instanceof List) return seqKey(v.items);
  if (v instanceof Set) return bagKey('S', [...v].map(elementKey));
  if (v instanceof Map) return bagKey('M', [...v].map(([k, x]) => elementKey(k) + SEP + elementKey(x)));
  if (v instanceof Tagged) return 'G' + name(v.tag) + SEP + elementKey(v.value);
  if (v instanceof Uint8Array) return 'Y' + v.join(',');
  if (v instanceof RegExp) return 'R' + v.flags + '/' + name(v.source);
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Object.prototype || proto === null) {
    return bagKey('O', Object.entries(v as object).map(([k, x]) => valueKey(k) + SEP + elementKey(x)));
  }
  return identity(v as object);
}

/**
 * Whether `v`'s key rests on some object's identity (a function, a class instance, or a
 * collection holding one): two such values built alike by two calls are not the same value.
 */
export function keyedByIdentity(v: unknown): boolean {
  if (typeof v === 'function') return true;
  if (typeof v !== 'object' || v === null) return false;
  if (v instanceof Keyword || v instanceof Date || v instanceof Uuid || v instanceof Sym || v instanceof Uint8Array || v instanceof RegExp) return false;
  if (Array.isArray(v)) return v.some(keyedByIdentity);
  if (v instanceof List) return v.items.some(keyedByIdentity);
  if (v instanceof Set) return [...v].some(keyedByIdentity);
  if (v instanceof Map) return [...v].some(([k, x]) => keyedByIdentity(k) || keyedByIdentity(x));
  if (v instanceof Tagged) return keyedByIdentity(v.value);
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Object.prototype || proto === null) return Object.values(v as object).some(keyedByIdentity);
  return true;
}

const PAIR_LIMIT = 67108864; // 2^26: two such integers pack into one exact double

/**
 * The key of a pair of values. Two small non-negative integers (entity ids, the common case of
 * graph edges) pack into one number, `a·2^26 + b`, with no string allocated; anything else joins
 * the element keys. (Numbers never collide with strings in a `Map`.)
 */
export function pairKey(a: unknown, b: unknown): ValueKey {
  if (typeof a === 'number' && typeof b === 'number' && a >= 0 && b >= 0 && a < PAIR_LIMIT && b < PAIR_LIMIT && Number.isInteger(a) && Number.isInteger(b)) {
    return a * PAIR_LIMIT + b;
  }
  return valueKey(a) + SEP + valueKey(b);
}

/** The key of a tuple's first `n` values (all of them when `n` is omitted). */
export function tupleKey(t: readonly unknown[], n: number = t.length): ValueKey {
  if (n === 1) return valueKey(t[0]);
  if (n === 2) return pairKey(t[0], t[1]);
  let s = '';
  for (let i = 0; i < n; i++) {
    if (i > 0) s += SEP;
    s += valueKey(t[i]);
  }
  return s;
}

/** The key of the values of `t` at `cols` (in that order). */
export function colsKey(t: readonly unknown[], cols: readonly number[]): ValueKey {
  if (cols.length === 1) return valueKey(t[cols[0]!]);
  if (cols.length === 2) return pairKey(t[cols[0]!], t[cols[1]!]);
  let s = '';
  for (let i = 0; i < cols.length; i++) {
    if (i > 0) s += SEP;
    s += valueKey(t[cols[i]!]);
  }
  return s;
}

/**
 * DataScript `=` on two values: the same as comparing their keys, without building them for
 * primitives, keywords and dates. `nil` is `null` or `undefined`.
 */
export function valueEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined) return b === null || b === undefined;
  const ta = typeof a;
  if (ta === 'number' || ta === 'string' || ta === 'boolean' || typeof b !== ta || b === null) return false;
  if (a instanceof Keyword) return b instanceof Keyword && a.fqn === b.fqn;
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  return valueKey(a) === valueKey(b);
}

/** A key inside a composite key: numbers as text (a `number` key is a single value's only). */
function elementKey(v: unknown): string {
  return String(valueKey(v));
}

/** Vectors and lists alike: size, then each element's key followed by the separator. */
function seqKey(xs: readonly unknown[]): string {
  let s = 'A' + xs.length + ':';
  for (let i = 0; i < xs.length; i++) s += elementKey(xs[i]) + SEP;
  return s;
}

/** Unordered collections: size, then the sorted element keys, each followed by the separator. */
function bagKey(tag: string, keys: string[]): string {
  keys.sort();
  let s = tag + keys.length + ':';
  for (const k of keys) s += k + SEP;
  return s;
}

function name(s: string): string {
  return s.indexOf(SEP) < 0 ? s : JSON.stringify(s);
}

const identities = new WeakMap<object, number>();
const symbols = new Map<symbol, number>();
let nextIdentity = 1;

function identity(o: object): string {
  let id = identities.get(o);
  if (id === undefined) {
    id = nextIdentity++;
    identities.set(o, id);
  }
  return '@' + id;
}

function symbolKey(s: symbol): string {
  let id = symbols.get(s);
  if (id === undefined) {
    id = nextIdentity++;
    symbols.set(s, id);
  }
  return '@' + id;
}
