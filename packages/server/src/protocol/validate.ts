/**
 * Decoding of client frames with hard limits, in this order — each step runs only if the previous
 * one passed, so hostile input never reaches code that trusts it:
 * 1. size (the `ws` server enforces `maxPayload` and closes with 1009 before we see the frame);
 * 2. nesting depth, by a linear scan of the raw text (no recursion, no allocation);
 * 3. `JSON.parse`;
 * 4. the message schema: exact key sets, types, lengths, id shapes, counts, op/tx id consistency.
 * Any violation throws a {@link ProtocolError} (code `protocol/...`) carrying the close code.
 */
import { DataloomError, type Op, type TxEnvelope, type WireValue } from '@dataloom/core';
import { CloseCode, type ClientMsg } from './messages.js';
import type { Limits } from './limits.js';

/** A peer broke the protocol. `close` is the WebSocket close code the server answers with. */
export class ProtocolError extends DataloomError {
  readonly close: number;
  constructor(code: string, message: string, data: Record<string, unknown> = {}, close: number = CloseCode.policy) {
    super(code, message, data);
    this.close = close;
  }
}

/** `<ms:12 base36>-<counter:4 base36>-<replica>` — see `HlcString`. */
const HLC_RE = /^[0-9a-z]{12}-[0-9a-z]{4}-([0-9A-Za-z_]{1,64})$/;
/** Replica ids (as `checkReplicaId` in core): 1-64 of `[0-9A-Za-z_]`. */
const REPLICA_RE = /^[0-9A-Za-z_]{1,64}$/;
/** Global entity ids (`<replica>.<counter>`, `attr:<ident>` for schema attributes, …). */
const GID_RE = /^[A-Za-z0-9_.~:/+*!?<>=-]+$/;
/** Attribute names: a keyword without the colon. */
const ATTR_RE = /^[A-Za-z_*+!?<>=.-][A-Za-z0-9_*+!?<>=.\-/#$%&']*$/;
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
/** `<log id>:<position>`, or a bare position (same log assumed). */
const CURSOR_RE = /^(?:[0-9a-f]{16}:)?(0|[1-9][0-9]{0,15})$/;

/** The replica id inside an HLC string, or null if the string is not an HLC. */
export function hlcReplica(hlc: string): string | null {
  const m = HLC_RE.exec(hlc);
  return m ? m[1]! : null;
}

/** Wall-clock milliseconds of an HLC string (assumes it passed validation). */
export function hlcMillis(hlc: string): number {
  return parseInt(hlc.slice(0, 12), 36);
}

function fail(path: string, message: string, extra: Record<string, unknown> = {}): never {
  throw new ProtocolError('protocol/invalid-message', `${path}: ${message}`, { path, ...extra });
}

/** Step 2: reject frames nested deeper than `maxDepth` without parsing them. */
export function checkDepth(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > maxDepth) {
        throw new ProtocolError('protocol/too-deep', `message nested deeper than ${maxDepth} levels`, { maxDepth });
      }
    } else if (c === 93 || c === 125) depth--;
  }
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function exactKeys(o: Record<string, unknown>, required: readonly string[], optional: readonly string[], path: string): void {
  for (const k of required) if (!Object.prototype.hasOwnProperty.call(o, k)) fail(path, `missing field "${k}"`);
  for (const k of Object.keys(o)) {
    if (!required.includes(k) && !optional.includes(k)) fail(path, `unknown field "${k.slice(0, 64)}"`);
  }
}

function str(x: unknown, path: string, max: number, re?: RegExp): string {
  if (typeof x !== 'string') fail(path, `expected a string, got ${typeName(x)}`);
  if (x.length > max) fail(path, `string too long: got ${x.length} > ${max}`, { max });
  if (re && !re.test(x)) fail(path, `malformed value ${JSON.stringify(x.slice(0, 80))}`);
  return x;
}

function typeName(x: unknown): string {
  return x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x;
}

function validateWireValue(x: unknown, path: string, limits: Limits): WireValue {
  switch (typeof x) {
    case 'string':
      return str(x, path, limits.maxStringLength);
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
          return { kw: str(v, `${path}.kw`, limits.maxAttrLength, ATTR_RE) };
        case 'inst':
          if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 8.64e15) fail(`${path}.inst`, 'expected ms since epoch');
          return { inst: v };
        case 'uuid':
          return { uuid: str(v, `${path}.uuid`, 36, UUID_RE) };
        case 'ref':
          return { ref: str(v, `${path}.ref`, limits.maxIdLength, GID_RE) };
        default:
          return fail(path, `unknown value tag "${k.slice(0, 32)}"`);
      }
    }
    default:
      return fail(path, `expected a value, got ${typeName(x)}`);
  }
}

const OP_KINDS = new Set(['add', 'retract', 'retractEntity', 'text']);

function validateOp(x: unknown, path: string, tx: string, index: number, limits: Limits): Op {
  if (!isPlainObject(x)) fail(path, `expected an op object, got ${typeName(x)}`);
  exactKeys(x, ['id', 'tx', 'e', 'op'], ['a', 'v'], path);
  const kind = x['op'];
  if (typeof kind !== 'string' || !OP_KINDS.has(kind)) fail(`${path}.op`, `unknown op ${JSON.stringify(String(kind).slice(0, 32))}`);
  if (x['tx'] !== tx) fail(`${path}.tx`, 'op tx differs from its transaction');
  const id = str(x['id'], `${path}.id`, tx.length + 8);
  if (id !== `${tx}/${index}`) fail(`${path}.id`, `forged op id: expected "${tx}/${index}"`, { id: id.slice(0, 160) });
  const e = str(x['e'], `${path}.e`, limits.maxIdLength, GID_RE);
  const op: Op = { id, tx, e, op: kind as Op['op'] };
  if (kind === 'retractEntity') {
    if ('a' in x || 'v' in x) fail(path, 'retractEntity takes no attribute or value');
    return op;
  }
  op.a = str(x['a'], `${path}.a`, limits.maxAttrLength, ATTR_RE);
  if (kind === 'text') {
    op.v = str(x['v'], `${path}.v`, limits.maxStringLength, BASE64_RE);
  } else if ('v' in x) {
    op.v = validateWireValue(x['v'], `${path}.v`, limits);
  } else if (kind === 'add') fail(path, 'add needs a value "v"');
  return op;
}

/** Validates one transaction envelope (also used by stores' tests and the bench). */
export function validateEnvelope(x: unknown, path: string, limits: Limits): TxEnvelope {
  if (!isPlainObject(x)) fail(path, `expected a transaction object, got ${typeName(x)}`);
  exactKeys(x, ['tx', 'replica', 'ops'], ['checks', 'draft'], path);
  const tx = str(x['tx'], `${path}.tx`, 96, HLC_RE);
  const replica = str(x['replica'], `${path}.replica`, 64, REPLICA_RE);
  if (hlcReplica(tx) !== replica) fail(`${path}.tx`, 'tx stamp belongs to another replica');
  const ops = x['ops'];
  if (!Array.isArray(ops)) fail(`${path}.ops`, `expected an array, got ${typeName(ops)}`);
  if (ops.length > limits.maxOpsPerTx) {
    fail(`${path}.ops`, `too many operations: got ${ops.length} > ${limits.maxOpsPerTx}`, { max: limits.maxOpsPerTx });
  }
  const env: TxEnvelope = { tx, replica, ops: ops.map((o, i) => validateOp(o, `${path}.ops[${i}]`, tx, i, limits)) };
  if ('checks' in x) {
    const checks = x['checks'];
    if (!Array.isArray(checks)) fail(`${path}.checks`, `expected an array, got ${typeName(checks)}`);
    if (checks.length > limits.maxChecksPerTx) fail(`${path}.checks`, `too many checks: got ${checks.length} > ${limits.maxChecksPerTx}`);
    env.checks = checks.map((c, i) => {
      const p = `${path}.checks[${i}]`;
      if (!isPlainObject(c)) fail(p, `expected a check object, got ${typeName(c)}`);
      exactKeys(c, ['kind', 'e', 'a', 'expected', 'v'], [], p);
      if (c['kind'] !== 'cas') fail(`${p}.kind`, 'unknown check kind');
      return {
        kind: 'cas' as const,
        e: str(c['e'], `${p}.e`, limits.maxIdLength, GID_RE),
        a: str(c['a'], `${p}.a`, limits.maxAttrLength, ATTR_RE),
        expected: c['expected'] === null ? null : validateWireValue(c['expected'], `${p}.expected`, limits),
        v: validateWireValue(c['v'], `${p}.v`, limits),
      };
    });
  }
  if ('draft' in x) env.draft = str(x['draft'], `${path}.draft`, limits.maxIdLength, GID_RE);
  return env;
}

/**
 * Decode and validate one client text frame. Throws {@link ProtocolError}; never anything else.
 * `byteLength` is the frame's size as received (the `ws` layer already enforced the maximum).
 */
export function decodeClientMessage(text: string, byteLength: number, limits: Limits): ClientMsg {
  if (byteLength > limits.maxMessageBytes) {
    throw new ProtocolError('protocol/too-big', `message of ${byteLength} bytes > ${limits.maxMessageBytes}`, { max: limits.maxMessageBytes }, CloseCode.tooBig);
  }
  checkDepth(text, limits.maxDepth);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ProtocolError('protocol/invalid-json', `message is not valid JSON: ${(e as Error).message.slice(0, 120)}`);
  }
  if (!isPlainObject(raw)) fail('$', `expected a message object, got ${typeName(raw)}`);
  const t = raw['t'];
  switch (t) {
    case 'hello': {
      exactKeys(raw, ['t', 'v', 'replica', 'cursor'], [], '$');
      if (typeof raw['v'] !== 'number' || !Number.isInteger(raw['v'])) fail('$.v', 'protocol version must be an integer');
      const cursor = raw['cursor'];
      return {
        t,
        v: raw['v'],
        replica: str(raw['replica'], '$.replica', 64, REPLICA_RE),
        cursor: cursor === null ? null : str(cursor, '$.cursor', 33, CURSOR_RE),
      };
    }
    case 'push': {
      exactKeys(raw, ['t', 'txs'], [], '$');
      const txs = raw['txs'];
      if (!Array.isArray(txs)) fail('$.txs', `expected an array, got ${typeName(txs)}`);
      if (txs.length === 0) fail('$.txs', 'empty push');
      if (txs.length > limits.maxTxsPerPush) fail('$.txs', `too many transactions: got ${txs.length} > ${limits.maxTxsPerPush}`, { max: limits.maxTxsPerPush });
      return { t, txs: txs.map((x, i) => validateEnvelope(x, `$.txs[${i}]`, limits)) };
    }
    case 'ping': {
      exactKeys(raw, ['t', 'n'], [], '$');
      if (typeof raw['n'] !== 'number' || !Number.isSafeInteger(raw['n'])) fail('$.n', 'expected an integer');
      return { t, n: raw['n'] };
    }
    default:
      return fail('$.t', `unknown message type ${JSON.stringify(String(t).slice(0, 32))}`);
  }
}
