/**
 * Values crossing a thread boundary (postMessage / comlink) lose their classes. This codec turns
 * EDN values into structured-clone-safe data and back, so interned keywords and symbols stay
 * interned (`===`) on the receiving side.
 *
 * Encoded forms: `{$k: fqn}` Keyword, `{$y: name}` Sym, `{$u: uuid}` Uuid, `{$l: [...]}` List,
 * `{$m: [[k, v], ...]}` Map, `{$s: [...]}` Set, `{$o: {...}}` plain object. Dates, numbers,
 * strings, booleans, null, Uint8Array pass through; arrays are mapped.
 */
import { DataloomError, Keyword, List, Sym, Uuid, kw, sym } from '@dataloom/core';

export type Encoded = unknown;

/** Deepest nesting a value crossing the boundary may have (deeper: `client/too-deep`, not a stack overflow). */
export const MAX_DEPTH = 1000;

export function encode(x: unknown, depth = 0): Encoded {
  if (x === null || x === undefined || typeof x !== 'object') return x;
  if (depth > MAX_DEPTH) throw new DataloomError('client/too-deep', `value nested deeper than ${MAX_DEPTH} levels`, { max: MAX_DEPTH });
  const d = depth + 1;
  const enc = (v: unknown) => encode(v, d);
  if (Array.isArray(x)) return x.map(enc);
  if (x instanceof Keyword) return { $k: x.fqn };
  if (x instanceof Sym) return { $y: x.fqn };
  if (x instanceof Uuid) return { $u: x.value };
  if (x instanceof Date || x instanceof Uint8Array) return x;
  if (x instanceof List) return { $l: x.items.map(enc) };
  if (x instanceof Map) return { $m: [...x].map(([k, v]) => [enc(k), enc(v)]) };
  if (x instanceof Set) return { $s: [...x].map(enc) };
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) o[k] = enc(v);
  return { $o: o };
}

export function decode(x: Encoded): unknown {
  if (x === null || x === undefined || typeof x !== 'object') return x;
  if (Array.isArray(x)) return x.map(decode);
  if (x instanceof Date || x instanceof Uint8Array) return x;
  const o = x as Record<string, unknown>;
  if ('$k' in o) return kw(o.$k as string);
  if ('$y' in o) return sym(o.$y as string);
  if ('$u' in o) return new Uuid(o.$u as string);
  if ('$l' in o) return new List((o.$l as unknown[]).map(decode) as never);
  if ('$m' in o) return new Map((o.$m as Array<[unknown, unknown]>).map(([k, v]) => [decode(k), decode(v)]));
  if ('$s' in o) return new Set((o.$s as unknown[]).map(decode));
  if ('$o' in o) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o.$o as Record<string, unknown>)) out[k] = decode(v);
    return out;
  }
  return x;
}
