/**
 * Hybrid logical clock stamps (Kulkarni et al., "Logical Physical Clocks").
 *
 * A stamp is `(ms, counter, replica)`, totally ordered by `ms`, then `counter`, then `replica`.
 * Two forms, both order-preserving:
 * - string ({@link HlcString}): `<ms:12 base36>-<counter:4 base36>-<replica>`; compare with `<`.
 * - binary: 8 bytes big-endian ms (6 used) + 4 bytes counter + UTF-8 replica; compare bytewise.
 *
 * Replica ids are 1–64 characters of `[0-9A-Za-z_]` (no `-` or `.`, which separate stamp and
 * global-id fields).
 */
import { DataloomError } from '../errors.js';
import type { HlcString } from '../ops/types.js';

/** A decoded HLC stamp. */
export interface Hlc {
  /** Wall-clock milliseconds since the epoch (the physical part). */
  readonly ms: number;
  /** Logical counter, 0…{@link MAX_COUNTER}. */
  readonly counter: number;
  /** The replica that issued the stamp. */
  readonly replica: string;
}

/** Largest ms encodable in 12 base36 digits is far beyond year 10000; we cap at 2^47. */
export const MAX_MS = 2 ** 47 - 1;
/** Largest counter (4 base36 digits). On overflow the clock borrows one millisecond. */
export const MAX_COUNTER = 36 ** 4 - 1;

const REPLICA_RE = /^[0-9A-Za-z_]{1,64}$/;

/** Throws `hlc/replica` unless `id` is a valid replica id. */
export function checkReplicaId(id: unknown): string {
  if (typeof id !== 'string' || !REPLICA_RE.test(id)) {
    throw new DataloomError('hlc/replica', `invalid replica id ${JSON.stringify(id)}: expected 1-64 chars of [0-9A-Za-z_]`, {
      replica: id,
    });
  }
  return id;
}

/** The sortable string form. */
export function formatHlc(h: Hlc): HlcString {
  return h.ms.toString(36).padStart(12, '0') + '-' + h.counter.toString(36).padStart(4, '0') + '-' + h.replica;
}

const HLC_RE = /^([0-9a-z]{12})-([0-9a-z]{4})-([0-9A-Za-z_]{1,64})$/;

/** Parses the string form; throws `hlc/syntax` on anything else. */
export function parseHlc(s: unknown): Hlc {
  const m = typeof s === 'string' ? HLC_RE.exec(s) : null;
  if (m === null) throw new DataloomError('hlc/syntax', `malformed HLC stamp ${JSON.stringify(s)}`, { stamp: s });
  const ms = parseInt(m[1]!, 36);
  if (ms > MAX_MS) throw new DataloomError('hlc/syntax', `HLC stamp ms out of range in ${s}`, { stamp: s });
  return { ms, counter: parseInt(m[2]!, 36), replica: m[3]! };
}

/** Whether `s` is a well-formed stamp string. */
export function isHlcString(s: unknown): s is HlcString {
  return typeof s === 'string' && HLC_RE.test(s) && parseInt(s.slice(0, 12), 36) <= MAX_MS;
}

/** Total order on stamps: negative, 0, positive. Same as comparing the string forms. */
export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  return a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** Compact binary form (12 bytes + replica). Bytewise order equals stamp order. */
export function encodeHlc(h: Hlc): Uint8Array {
  const r = enc.encode(h.replica);
  const out = new Uint8Array(12 + r.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, Math.floor(h.ms / 2 ** 32));
  dv.setUint32(4, h.ms >>> 0);
  dv.setUint32(8, h.counter);
  out.set(r, 12);
  return out;
}

/** Inverse of {@link encodeHlc}; throws `hlc/syntax` on malformed input. */
export function decodeHlc(bytes: Uint8Array): Hlc {
  if (!(bytes instanceof Uint8Array) || bytes.length < 13 || bytes.length > 12 + 64) {
    throw new DataloomError('hlc/syntax', 'malformed binary HLC stamp', { length: (bytes as Uint8Array)?.length });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ms = dv.getUint32(0) * 2 ** 32 + dv.getUint32(4);
  const counter = dv.getUint32(8);
  let replica: string;
  try {
    replica = dec.decode(bytes.subarray(12));
  } catch {
    throw new DataloomError('hlc/syntax', 'malformed binary HLC stamp (replica not UTF-8)', {});
  }
  if (ms > MAX_MS || counter > MAX_COUNTER || !REPLICA_RE.test(replica)) {
    throw new DataloomError('hlc/syntax', 'malformed binary HLC stamp', { ms, counter, replica });
  }
  return { ms, counter, replica };
}
