/**
 * Decoding of client frames with hard limits, in this order — each step runs only if the previous
 * one passed, so hostile input never reaches code that trusts it:
 * 1. size (the server's `ws` layer enforces `maxPayload` and closes with 1009 before we see it);
 * 2. nesting depth, by a linear scan of the raw text (no recursion, no allocation);
 * 3. `JSON.parse`;
 * 4. the message schema: exact key sets, types, counts; every envelope through the envelope rules
 *    (`envelope.ts`) with the limits.
 * Any violation throws a {@link ProtocolError} (code `protocol/...`) carrying the close code.
 */
import { DataloomError, isGlobalId, isHlcString, type TxEnvelope } from '@dataloom/core';
import { checkReplicaId } from '@dataloom/core/internals';
import { CURSOR_RE } from './cursor.js';
import { checkEnvelope, checkWireValue, exactKeys } from './envelope.js';
import { ProtocolError } from './errors.js';
import type { Limits } from './limits.js';
import { CloseCode, MAX_HELD, type HelloMsg, type PingMsg, type Scope, type ScopeMsg } from './messages.js';

/**
 * A pushed envelope that breaks the envelope rules or a limit, refused on its own: the server
 * answers it with `reject` (the client rolls it back and its outbox moves on) and keeps the
 * connection. Only an envelope that names a well-formed transaction stamp can be refused this
 * way; anything else in a push is connection-level abuse.
 */
export interface RefusedTx {
  refused: true;
  tx: string;
  code: string;
  message: string;
  data: Record<string, unknown>;
  /**
   * The envelope as the structure rules read it, when they do (a limit was broken): the server
   * still acknowledges it if the log already holds it (a re-push after a lost ack, limits lowered
   * since), instead of making the client roll back a stored transaction.
   */
  env?: TxEnvelope;
}

/** A client message as decoded: a push's entries are checked envelopes or {@link RefusedTx}. */
export type DecodedClientMsg = HelloMsg | PingMsg | ScopeMsg | { t: 'push'; txs: Array<TxEnvelope | RefusedTx> };

function fail(path: string, message: string, extra: Record<string, unknown> = {}): never {
  throw new ProtocolError('protocol/invalid-message', `${path}: ${message}`, { path, ...extra });
}

function typeName(x: unknown): string {
  return x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A typed error of the envelope rules as a protocol error (anything else unchanged). */
function toProtocol(e: unknown): unknown {
  if (e instanceof DataloomError && !(e instanceof ProtocolError)) return new ProtocolError('protocol/invalid-message', e.message, { ...e.data, rule: e.code });
  return e;
}

/** Runs a check of the envelope rules, turning its typed error into a protocol error. */
function asProtocol<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw toProtocol(e);
  }
}

/** One entry of a push: the checked envelope, or its refusal when it names a well-formed stamp. */
function pushed(x: unknown, limits: Limits, path: string): TxEnvelope | RefusedTx {
  try {
    return checkEnvelope(x, limits, path);
  } catch (e) {
    const tx = isPlainObject(x) ? x['tx'] : undefined;
    if (!(e instanceof DataloomError) || typeof tx !== 'string' || !isHlcString(tx)) throw toProtocol(e);
    let env: TxEnvelope | undefined;
    try {
      env = checkEnvelope(x, null, path);
    } catch {
      env = undefined;
    }
    return { refused: true, tx, code: e.code, message: e.message, data: e.data, ...(env ? { env } : {}) };
  }
}

/** A list of scopes (`scope` message, `hello`). */
function scopeList(scopes: unknown, path: string, limits: Limits): Scope[] {
  if (!Array.isArray(scopes)) fail(path, `expected an array, got ${typeName(scopes)}`);
  if (scopes.length > MAX_SCOPES) fail(path, `too many scopes: got ${scopes.length} > ${MAX_SCOPES}`, { max: MAX_SCOPES });
  return scopes.map((x, i) => {
    const p = `${path}[${i}]`;
    if (!isPlainObject(x)) fail(p, `expected a scope object, got ${typeName(x)}`);
    asProtocol(() => exactKeys(x, ['query', 'inputs'], ['pull'], p));
    const query = x['query'];
    if (typeof query !== 'string' || query.length === 0 || query.length > MAX_SCOPE_QUERY) fail(`${p}.query`, `expected a query string of at most ${MAX_SCOPE_QUERY} characters`);
    const inputs = x['inputs'];
    if (!Array.isArray(inputs) || inputs.length > MAX_SCOPE_INPUTS) fail(`${p}.inputs`, `expected an array of at most ${MAX_SCOPE_INPUTS} values`);
    const scope: Scope = { query, inputs: inputs.map((v, j) => asProtocol(() => checkWireValue(v, `${p}.inputs[${j}]`, limits))) };
    const pull = x['pull'];
    if (pull !== undefined) {
      if (typeof pull !== 'string' || pull.length === 0 || pull.length > MAX_SCOPE_QUERY) fail(`${p}.pull`, `expected a pull pattern string of at most ${MAX_SCOPE_QUERY} characters`);
      scope.pull = pull;
    }
    return scope;
  });
}

/** A hello's `held` list: global entity ids, at most {@link MAX_HELD}. */
function heldList(held: unknown, path: string): string[] {
  if (!Array.isArray(held)) fail(path, `expected an array, got ${typeName(held)}`);
  if (held.length > MAX_HELD) fail(path, `too many entities: got ${held.length} > ${MAX_HELD}`, { max: MAX_HELD });
  for (let i = 0; i < held.length; i++) if (!isGlobalId(held[i])) fail(`${path}[${i}]`, `not a global entity id: ${JSON.stringify(String(held[i]).slice(0, 80))}`);
  return held as string[];
}

const MAX_SCOPES = 32;
const MAX_SCOPE_QUERY = 8192;
const MAX_SCOPE_INPUTS = 16;

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

function replicaId(x: unknown, path: string): string {
  if (typeof x !== 'string') fail(path, `expected a string, got ${typeName(x)}`);
  try {
    return checkReplicaId(x);
  } catch {
    return fail(path, `malformed value ${JSON.stringify(x.slice(0, 80))}`);
  }
}

/**
 * Decode and validate one client text frame. Throws {@link ProtocolError}; never anything else.
 * `byteLength` is the frame's size as received.
 */
export function decodeClientMessage(text: string, byteLength: number, limits: Limits): DecodedClientMsg {
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
  const msg = raw;
  const t = msg['t'];
  switch (t) {
    case 'hello': {
      asProtocol(() => exactKeys(msg, ['t', 'v', 'replica', 'cursor'], ['scopes', 'held'], '$'));
      if (typeof msg['v'] !== 'number' || !Number.isInteger(msg['v'])) fail('$.v', 'protocol version must be an integer');
      const cursor = msg['cursor'];
      if (cursor !== null && (typeof cursor !== 'string' || cursor.length > 33 || !CURSOR_RE.test(cursor))) {
        fail('$.cursor', `malformed cursor ${JSON.stringify(String(cursor).slice(0, 40))}`);
      }
      const out: HelloMsg = { t, v: msg['v'], replica: replicaId(msg['replica'], '$.replica'), cursor };
      if (msg['scopes'] !== undefined) out.scopes = scopeList(msg['scopes'], '$.scopes', limits);
      if (msg['held'] !== undefined) out.held = heldList(msg['held'], '$.held');
      return out;
    }
    case 'push': {
      asProtocol(() => exactKeys(msg, ['t', 'txs'], [], '$'));
      const txs = msg['txs'];
      if (!Array.isArray(txs)) fail('$.txs', `expected an array, got ${typeName(txs)}`);
      if (txs.length === 0) fail('$.txs', 'empty push');
      if (txs.length > limits.maxTxsPerPush) fail('$.txs', `too many transactions: got ${txs.length} > ${limits.maxTxsPerPush}`, { max: limits.maxTxsPerPush });
      return { t, txs: txs.map((x, i) => pushed(x, limits, `$.txs[${i}]`)) };
    }
    case 'ping': {
      asProtocol(() => exactKeys(msg, ['t', 'n'], [], '$'));
      if (typeof msg['n'] !== 'number' || !Number.isSafeInteger(msg['n'])) fail('$.n', 'expected an integer');
      return { t, n: msg['n'] };
    }
    case 'scope': {
      asProtocol(() => exactKeys(msg, ['t', 'v', 'scopes'], [], '$'));
      if (typeof msg['v'] !== 'number' || !Number.isSafeInteger(msg['v']) || msg['v'] < 0) fail('$.v', 'expected a non-negative integer');
      return { t, v: msg['v'], scopes: scopeList(msg['scopes'], '$.scopes', limits) };
    }
    default:
      return fail('$.t', `unknown message type ${JSON.stringify(String(t).slice(0, 32))}`);
  }
}
