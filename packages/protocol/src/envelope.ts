/**
 * The envelope rules: the one definition of a well-formed transaction envelope, applied by the
 * server before it acknowledges, by the client before it pushes and when it receives, and by a
 * replica reading another tab's or the network's envelopes. Whatever passes here, every replica
 * can apply (the merge rules never fail on it).
 *
 * The formats of the parts (HLC stamps, replica ids, global entity ids, Yjs updates) are defined
 * in `@dataloom/core` and imported; this file says how they combine into an envelope and adds the
 * size limits ({@link EnvelopeLimits}) when given. Without limits only the structure is checked —
 * what a replica needs to apply an envelope; the limits are the policy of what a log accepts.
 *
 * Violations throw a `DataloomError`: `ops/malformed` for structure, `ops/limit` for a limit
 * (`data.limit` names it, with `max` and `actual`); `data.path` locates the offending field. The
 * checked envelope is returned as a fresh object with exactly the known fields, in a fixed order
 * (servers store and compare its JSON).
 */
import { DataloomError, isGlobalId, isHlcString, parseHlc, type Op, type TxEnvelope, type WireValue } from '@dataloom/core';
import { checkReplicaId, decodableUpdate } from '@dataloom/core/internals';
import type { EnvelopeLimits } from './limits.js';

/**
 * Characters a name (attribute, keyword value, draft id) may not contain: whitespace and control
 * characters, zero-width and bidirectional formatting characters, lone surrogates, U+FFFE/U+FFFF.
 * Listed explicitly (no Unicode property classes) so every JavaScript engine agrees.
 */
const NAME_BAD = '\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u180e\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u206f\\u3000\\ufeff\\ud800-\\udfff\\ufffe\\uffff';
const NAME_RE = new RegExp(`^[^:${NAME_BAD}][^${NAME_BAD}]*$`, 'u');
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
/** Largest |ms| a JavaScript `Date` represents. */
const MAX_INST = 8.64e15;
const OP_KINDS = new Set(['add', 'retract', 'retractEntity', 'text']);

/**
 * Whether `s` is a valid name: an attribute (keyword without the colon), a keyword value, a draft
 * id. Non-empty, not starting with `:`, no whitespace, control or invisible formatting characters.
 */
export function isName(s: unknown): boolean {
  return typeof s === 'string' && NAME_RE.test(s);
}

function fail(path: string, message: string, data: Record<string, unknown> = {}): never {
  throw new DataloomError('ops/malformed', `${path}: ${message}`, { path, ...data });
}

function over(path: string, what: string, limit: keyof EnvelopeLimits | 'maxMessageBytes', max: number, actual: number): never {
  throw new DataloomError('ops/limit', `${path}: ${what}: got ${actual} > ${max} (limit ${limit})`, { path, limit, max, actual });
}

function typeName(x: unknown): string {
  return x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Exactly the `required` keys plus any of `optional`. */
export function exactKeys(o: Record<string, unknown>, required: readonly string[], optional: readonly string[], path: string): void {
  for (const k of required) if (!Object.prototype.hasOwnProperty.call(o, k)) fail(path, `missing field "${k}"`);
  for (const k of Object.keys(o)) {
    if (!required.includes(k) && !optional.includes(k)) fail(path, `unknown field "${k.slice(0, 64)}"`);
  }
}

function str(x: unknown, path: string): string {
  if (typeof x !== 'string') fail(path, `expected a string, got ${typeName(x)}`);
  return x;
}

function bounded(s: string, path: string, limits: EnvelopeLimits | null | undefined, limit: keyof EnvelopeLimits): string {
  if (limits && s.length > limits[limit]) over(path, 'string too long', limit, limits[limit], s.length);
  return s;
}

function name(x: unknown, path: string, limits: EnvelopeLimits | null | undefined): string {
  const s = bounded(str(x, path), path, limits, 'maxAttrLength');
  if (!isName(s)) fail(path, `malformed name ${JSON.stringify(s.slice(0, 80))}`);
  return s;
}

function gid(x: unknown, path: string, limits: EnvelopeLimits | null | undefined): string {
  const s = bounded(str(x, path), path, limits, 'maxIdLength');
  if (!isGlobalId(s)) fail(path, `not a global entity id: ${JSON.stringify(String(s).slice(0, 80))}`);
  return s;
}

/** One wire value (see `WireValue`): strings, finite numbers, booleans, or one tag. */
export function checkWireValue(x: unknown, path: string, limits?: EnvelopeLimits | null): WireValue {
  switch (typeof x) {
    case 'string':
      return bounded(x, path, limits, 'maxStringLength');
    case 'number':
      if (!Number.isFinite(x)) fail(path, 'number must be finite');
      return x;
    case 'boolean':
      return x;
    case 'object': {
      if (!isPlainObject(x)) fail(path, `expected a value, got ${typeName(x)}`);
      const keys = Object.keys(x);
      if (keys.length !== 1) fail(path, 'a tagged value has exactly one key (kw, inst, uuid or ref)');
      const k = keys[0]!;
      const v = x[k];
      switch (k) {
        case 'kw':
          return { kw: name(v, `${path}.kw`, limits) };
        case 'inst':
          if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > MAX_INST) fail(`${path}.inst`, 'expected ms since epoch');
          return { inst: v };
        case 'uuid': {
          const u = str(v, `${path}.uuid`);
          if (!UUID_RE.test(u)) fail(`${path}.uuid`, `malformed uuid ${JSON.stringify(u.slice(0, 80))}`);
          return { uuid: u };
        }
        case 'ref':
          return { ref: gid(v, `${path}.ref`, limits) };
        default:
          return fail(path, `unknown value tag "${k.slice(0, 32)}"`);
      }
    }
    default:
      return fail(path, `expected a value, got ${typeName(x)}`);
  }
}

/** One op, the `index`-th of transaction `tx`: its id must be exactly `${tx}/${index}`. */
function checkOp(x: unknown, path: string, tx: string, index: number, limits: EnvelopeLimits | null | undefined): Op {
  if (!isPlainObject(x)) fail(path, `expected an op object, got ${typeName(x)}`);
  exactKeys(x, ['id', 'tx', 'e', 'op'], ['a', 'v'], path);
  const kind = x['op'];
  if (typeof kind !== 'string' || !OP_KINDS.has(kind)) fail(`${path}.op`, `unknown op ${JSON.stringify(String(kind).slice(0, 32))}`);
  if (x['tx'] !== tx) fail(`${path}.tx`, 'op tx differs from its transaction');
  const id = str(x['id'], `${path}.id`);
  if (id !== `${tx}/${index}`) fail(`${path}.id`, `forged op id: expected "${tx}/${index}"`, { id: id.slice(0, 160) });
  const e = gid(x['e'], `${path}.e`, limits);
  const op: Op = { id, tx, e, op: kind as Op['op'] };
  if (kind === 'retractEntity') {
    if ('a' in x || 'v' in x) fail(path, 'retractEntity takes no attribute or value');
    return op;
  }
  op.a = name(x['a'], `${path}.a`, limits);
  if (kind === 'text') {
    const v = bounded(str(x['v'], `${path}.v`), `${path}.v`, limits, 'maxStringLength');
    if (!BASE64_RE.test(v) || decodableUpdate(v) === null) fail(`${path}.v`, 'text op needs a base64 Yjs update');
    op.v = v;
  } else if ('v' in x) {
    op.v = checkWireValue(x['v'], `${path}.v`, limits);
  } else if (kind === 'add') fail(path, 'add needs a value "v"');
  return op;
}

/**
 * Checks one transaction envelope against the rules (and `limits`, when given); returns it as a
 * fresh object with only the known fields. Throws `ops/malformed` or `ops/limit`. With `partial`
 * (envelopes a client receives, which the server may have cut to what its user may read), op ids
 * are `${tx}/${n}` with `n` ascending rather than exactly the op's index.
 */
export function checkEnvelope(x: unknown, limits?: EnvelopeLimits | null, path = 'envelope', opts: { partial?: boolean } = {}): TxEnvelope {
  if (!isPlainObject(x)) fail(path, `expected a transaction object, got ${typeName(x)}`);
  exactKeys(x, ['tx', 'replica', 'ops'], ['checks', 'draft'], path);
  const tx = str(x['tx'], `${path}.tx`);
  if (!isHlcString(tx)) fail(`${path}.tx`, `malformed HLC stamp ${JSON.stringify(String(tx).slice(0, 100))}`);
  const replica = str(x['replica'], `${path}.replica`);
  try {
    checkReplicaId(replica);
  } catch {
    fail(`${path}.replica`, `malformed replica id ${JSON.stringify(replica.slice(0, 80))}`);
  }
  if (parseHlc(tx).replica !== replica) fail(`${path}.tx`, 'tx stamp belongs to another replica');
  const ops = x['ops'];
  if (!Array.isArray(ops)) fail(`${path}.ops`, `expected an array, got ${typeName(ops)}`);
  if (limits && ops.length > limits.maxOpsPerTx) over(`${path}.ops`, 'too many operations', 'maxOpsPerTx', limits.maxOpsPerTx, ops.length);
  let last = -1;
  const index = (o: unknown, i: number): number => {
    if (!opts.partial) return i;
    // a received envelope may be cut to what its user may read: ids keep their indices, ascending
    const id = isPlainObject(o) && typeof o['id'] === 'string' ? o['id'] : '';
    const n = id.startsWith(`${tx}/`) && /^(0|[1-9][0-9]{0,5})$/.test(id.slice(tx.length + 1)) ? Number(id.slice(tx.length + 1)) : -1;
    last = n > last ? n : Math.max(last + 1, i);
    return last;
  };
  const env: TxEnvelope = { tx, replica, ops: ops.map((o, i) => checkOp(o, `${path}.ops[${i}]`, tx, index(o, i), limits)) };
  if ('checks' in x) {
    const checks = x['checks'];
    if (!Array.isArray(checks)) fail(`${path}.checks`, `expected an array, got ${typeName(checks)}`);
    if (limits && checks.length > limits.maxChecksPerTx) over(`${path}.checks`, 'too many checks', 'maxChecksPerTx', limits.maxChecksPerTx, checks.length);
    env.checks = checks.map((c, i) => {
      const p = `${path}.checks[${i}]`;
      if (!isPlainObject(c)) fail(p, `expected a check object, got ${typeName(c)}`);
      exactKeys(c, ['kind', 'e', 'a', 'expected', 'v'], [], p);
      if (c['kind'] !== 'cas') fail(`${p}.kind`, 'unknown check kind');
      return {
        kind: 'cas' as const,
        e: gid(c['e'], `${p}.e`, limits),
        a: name(c['a'], `${p}.a`, limits),
        expected: c['expected'] === null ? null : checkWireValue(c['expected'], `${p}.expected`, limits),
        v: checkWireValue(c['v'], `${p}.v`, limits),
      };
    });
  }
  if ('draft' in x) {
    const d = bounded(str(x['draft'], `${path}.draft`), `${path}.draft`, limits, 'maxIdLength');
    if (!isName(d)) fail(`${path}.draft`, `malformed draft id ${JSON.stringify(d.slice(0, 80))}`);
    env.draft = d;
  }
  return env;
}

/** Bytes of `s` as UTF-8 (without encoding it). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Room a `push` frame takes besides its envelopes (`{"t":"push","txs":[…]}` and separators). */
const PUSH_OVERHEAD = 32;

/** Bytes a `push` frame holding only `env` takes. */
export function pushBytes(env: TxEnvelope): number {
  return utf8Length(JSON.stringify(env)) + PUSH_OVERHEAD;
}

/**
 * What a client checks before it keeps a transaction for sending: the envelope rules with
 * `limits`, and that the envelope fits in one `push` frame (`maxMessageBytes`). Throws
 * `ops/malformed` or `ops/limit` (naming the limit in `data.limit`) — the same verdict the server
 * would give, so nothing a client sends can be refused for its form or size after it was accepted
 * locally, unless the server's limits are stricter than the client's (then the server rejects the
 * transaction and the client rolls it back).
 */
export function checkPushable(env: TxEnvelope, limits: EnvelopeLimits & { maxMessageBytes: number }): TxEnvelope {
  const out = checkEnvelope(env, limits);
  const bytes = pushBytes(out);
  if (bytes > limits.maxMessageBytes) over('envelope', 'transaction too big for one push frame', 'maxMessageBytes', limits.maxMessageBytes, bytes);
  return out;
}
