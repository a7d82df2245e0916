/**
 * Structural validation of operations and envelopes arriving from storage or the network.
 * Throws `ops/malformed` with the offending field; never partially accepts an envelope.
 */
import { DataloomError } from '../errors.js';
import { isHlcString, parseHlc } from '../hlc/hlc.js';
import { isGlobalId } from '../hlc/ids.js';
import type { Op, TxEnvelope } from './types.js';
import { isWireValue } from './value.js';
import { decodableUpdate } from './text.js';

const KINDS = new Set(['add', 'retract', 'retractEntity', 'text']);
const ATTR_RE = /^[^\s:][^\s]{0,199}$/;
const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

function bad(msg: string, data: Record<string, unknown>): never {
  throw new DataloomError('ops/malformed', msg, data);
}

/** Checks one op's shape: id `${tx}/${n}`, stamp, global id, kind, attribute, value. */
export function checkOp(op: unknown): Op {
  if (op === null || typeof op !== 'object') bad('op must be an object', { op: String(op) });
  const o = op as Record<string, unknown>;
  if (!isHlcString(o.tx)) bad('op.tx is not an HLC stamp', { field: 'tx', value: String(o.tx) });
  const id = o.id;
  if (typeof id !== 'string' || !id.startsWith((o.tx as string) + '/') || !/^\d{1,6}$/.test(id.slice((o.tx as string).length + 1))) {
    bad('op.id must be `${tx}/${index}`', { field: 'id', value: String(id) });
  }
  if (!isGlobalId(o.e)) bad('op.e is not a global id', { field: 'e', value: String(o.e) });
  if (typeof o.op !== 'string' || !KINDS.has(o.op)) bad(`unknown op kind ${String(o.op)}`, { field: 'op', value: String(o.op) });
  if (o.op === 'retractEntity') {
    if (o.a !== undefined || o.v !== undefined) bad('retractEntity takes no a/v', { field: 'a' });
  } else {
    if (typeof o.a !== 'string' || !ATTR_RE.test(o.a)) bad('op.a is not an attribute name', { field: 'a', value: String(o.a) });
    if (o.op === 'add' && !isWireValue(o.v)) bad('op.v is not a wire value', { field: 'v', value: JSON.stringify(o.v) });
    if (o.op === 'retract' && o.v !== undefined && !isWireValue(o.v)) bad('op.v is not a wire value', { field: 'v' });
    if (o.op === 'text' && (typeof o.v !== 'string' || !B64_RE.test(o.v) || decodableUpdate(o.v) === null)) {
      bad('text op needs a base64 Yjs update', { field: 'v' });
    }
    if (typeof o.v === 'object' && o.v !== null && 'ref' in o.v && !isGlobalId((o.v as { ref: unknown }).ref)) {
      bad('ref value is not a global id', { field: 'v', value: String((o.v as { ref: unknown }).ref) });
    }
  }
  return o as unknown as Op;
}

/** Checks an envelope: stamp, replica matching the stamp, every op sharing `tx`. */
export function checkEnvelope(env: unknown): TxEnvelope {
  if (env === null || typeof env !== 'object') bad('envelope must be an object', {});
  const e = env as Record<string, unknown>;
  if (!isHlcString(e.tx)) bad('envelope.tx is not an HLC stamp', { field: 'tx', value: String(e.tx) });
  if (parseHlc(e.tx).replica !== e.replica) bad('envelope.replica does not match its stamp', { field: 'replica', value: String(e.replica) });
  if (!Array.isArray(e.ops)) bad('envelope.ops must be an array', { field: 'ops' });
  const ids = new Set<string>();
  for (const op of e.ops as unknown[]) {
    const o = checkOp(op);
    if (o.tx !== e.tx) bad('op.tx differs from envelope.tx', { field: 'tx', value: o.id });
    if (ids.has(o.id)) bad('duplicate op id in envelope', { field: 'id', value: o.id });
    ids.add(o.id);
  }
  if (e.draft !== undefined && typeof e.draft !== 'string') bad('envelope.draft must be a string', { field: 'draft' });
  return e as unknown as TxEnvelope;
}
