/**
 * Globally unique ids made on a replica without coordination.
 *
 * - Replica ids: random, 16 base36 characters (≈ 82 bits) from `crypto.getRandomValues`.
 * - Entity ids ({@link GlobalId}): `<replica>.<suffix>`, where the suffix is derived from the HLC
 *   stamp of the creating transaction and the entity's position in it:
 *   `<ms base36>_<counter base36>_<index base36>`. Stamps are unique per replica (the clock is
 *   strictly increasing), so ids are unique without any extra persisted counter.
 */
import { DataloomError } from '../errors.js';
import type { GlobalId } from '../ops/types.js';
import type { Hlc } from './hlc.js';

/** A fresh random replica id. */
export function newReplicaId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += (b % 36).toString(36);
  return s;
}

/** The `index`-th entity id allocated by the transaction stamped `h`. */
export function allocGlobalId(h: Hlc, index: number): GlobalId {
  return h.replica + '.' + h.ms.toString(36) + '_' + h.counter.toString(36) + '_' + index.toString(36);
}

const GID_RE = /^[0-9A-Za-z_]{1,64}\.[0-9a-z_]{1,40}$/;

/** Whether `x` is a well-formed global entity id. */
export function isGlobalId(x: unknown): x is GlobalId {
  return typeof x === 'string' && GID_RE.test(x);
}

/** Throws `ops/id` unless `x` is a well-formed global id. */
export function checkGlobalId(x: unknown): GlobalId {
  if (!isGlobalId(x)) throw new DataloomError('ops/id', `malformed global entity id ${JSON.stringify(x)}`, { id: x });
  return x;
}
