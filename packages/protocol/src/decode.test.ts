import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from './limits.js';
import { ProtocolError } from './errors.js';
import { checkDepth, decodeClientMessage } from './decode.js';
import { MAX_HELD } from './messages.js';

const L = { ...DEFAULT_LIMITS };
const tx = '0000mwr2s6s6-0000-r1';
const env = (over: Record<string, unknown> = {}, op: Record<string, unknown> = {}) => ({ tx, replica: 'r1', ops: [{ id: `${tx}/0`, tx, e: 'r1.a', op: 'add', a: 'p/name', v: 'x', ...op }], ...over });
const decode = (m: unknown) => {
  const text = typeof m === 'string' ? m : JSON.stringify(m);
  return decodeClientMessage(text, Buffer.byteLength(text), L);
};
/** The fatal error's code, `refused:<code>` for an envelope refused on its own, or 'ok'. */
const codeOf = (m: unknown) => {
  try {
    const out = decode(m);
    const refused = out.t === 'push' ? out.txs.find((x) => 'refused' in x) : undefined;
    return refused && 'refused' in refused ? `refused:${refused.code}` : 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return (e as ProtocolError).code;
  }
};

describe('decodeClientMessage', () => {
  it('accepts well-formed hello, push and ping', () => {
    expect(decode({ t: 'hello', v: 1, replica: 'r1', cursor: null })).toEqual({ t: 'hello', v: 1, replica: 'r1', cursor: null });
    expect(decode({ t: 'push', txs: [env()] })).toEqual({ t: 'push', txs: [env()] });
    expect(decode({ t: 'push', txs: [env({ checks: [{ kind: 'cas', e: 'r1.a', a: 'p/n', expected: null, v: { kw: 'a/b' } }], draft: 'd1' })] }).t).toBe('push');
    expect(decode({ t: 'ping', n: 3 })).toEqual({ t: 'ping', n: 3 });
    expect(decode({ t: 'hello', v: 1, replica: 'r1', cursor: '0123456789abcdef:42' }).t).toBe('hello');
    expect(codeOf({ t: 'hello', v: 1, replica: 'r1', cursor: 'XYZ:42' })).toBe('protocol/invalid-message');
  });

  it('accepts scope messages within their limits; anything else about them is fatal', () => {
    const q = '[:find ?e :in $ ?n :where [?e :list/name ?n]]';
    expect(decode({ t: 'scope', v: 2, scopes: [{ query: q, inputs: ['A', { ref: 'r1.a' }] }] })).toEqual({ t: 'scope', v: 2, scopes: [{ query: q, inputs: ['A', { ref: 'r1.a' }] }] });
    expect(decode({ t: 'scope', v: 0, scopes: [] })).toEqual({ t: 'scope', v: 0, scopes: [] });
    for (const bad of [
      { t: 'scope', v: -1, scopes: [] },
      { t: 'scope', v: 1 },
      { t: 'scope', v: 1, scopes: [{ query: '', inputs: [] }] },
      { t: 'scope', v: 1, scopes: [{ query: q, inputs: [], extra: 1 }] },
      { t: 'scope', v: 1, scopes: [{ query: q, inputs: [{ fn: 'x' }] }] },
      { t: 'scope', v: 1, scopes: Array.from({ length: 33 }, () => ({ query: q, inputs: [] })) },
      { t: 'scope', v: 1, scopes: [{ query: 'x'.repeat(8193), inputs: [] }] },
      { t: 'scope', v: 1, scopes: [{ query: q, inputs: [], pull: 3 }] },
      { t: 'scope', v: 1, scopes: [{ query: q, inputs: [], pull: '' }] },
    ]) {
      expect(codeOf(bad)).toBe('protocol/invalid-message');
    }
    const pulled = { query: q, inputs: [], pull: '[:item/title {:item/list [*]}]' };
    expect(decode({ t: 'scope', v: 1, scopes: [pulled] })).toEqual({ t: 'scope', v: 1, scopes: [pulled] });
  });

  it('a hello may name its scopes and the entities it holds, within limits', () => {
    const scopes = [{ query: '[:find ?e :where [?e :a/b]]', inputs: [], pull: '[*]' }];
    const hello = { t: 'hello', v: 1, replica: 'r1', cursor: '0123456789abcdef:42', scopes, held: ['r1.a', 'r2.b_c'] };
    expect(decode(hello)).toEqual(hello);
    for (const bad of [
      { ...hello, held: ['not an id'] },
      { ...hello, held: 'r1.a' },
      { ...hello, held: Array.from({ length: MAX_HELD + 1 }, (_, i) => `r1.${i.toString(36)}`) },
      { ...hello, scopes: [{ query: '', inputs: [] }] },
      { ...hello, extra: true },
    ]) {
      expect(codeOf(bad)).toBe('protocol/invalid-message');
    }
  });

  it('scans depth on raw text, ignoring brackets inside strings', () => {
    expect(() => checkDepth(JSON.stringify({ a: '[[[[[[[[[[[[[[[[[[[[' }), 2)).not.toThrow();
    expect(() => checkDepth('{"a":"\\"[[[[[["}', 2)).not.toThrow();
    expect(() => checkDepth('[[[', 2)).toThrow(/deeper than 2/);
    expect(codeOf('['.repeat(100))).toBe('protocol/too-deep');
  });

  it('closes with 1009 for oversized frames and 1008 for the rest', () => {
    const big = 'x'.repeat(L.maxMessageBytes + 1);
    try {
      decodeClientMessage(big, big.length, L);
    } catch (e) {
      expect((e as ProtocolError).close).toBe(1009);
    }
    try {
      decode('nope');
    } catch (e) {
      expect((e as ProtocolError).close).toBe(1008);
      expect((e as ProtocolError).code).toBe('protocol/invalid-json');
    }
  });

  it('refuses a stamped envelope breaking the rules on its own (answered with reject), anything else is fatal', () => {
    const refused = 'refused:ops/malformed';
    expect(codeOf({ t: 'push', txs: [env({}, { id: `${tx}/1` })] })).toBe(refused);
    expect(codeOf({ t: 'push', txs: [env({}, { op: 'drop' })] })).toBe(refused);
    expect(codeOf({ t: 'push', txs: [env({ extra: 1 })] })).toBe(refused);
    expect(codeOf({ t: 'push', txs: [env({ replica: 'r2' })] })).toBe(refused);
    expect(codeOf({ t: 'push', txs: [env({}, { v: { kw: 'x', ref: 'y' } })] })).toBe(refused);
    expect(codeOf({ t: 'push', txs: [env({}, { v: null })] })).toBe(refused);
    expect(codeOf(`{"t":"push","txs":[${JSON.stringify(env()).replace('"x"', '1e999')}]}`)).toBe(refused);
    expect(codeOf({ t: 'push', txs: [env({}, { op: 'text', v: 'not base64!' })] })).toBe(refused);
    expect(codeOf({ t: 'push', txs: [env({}, { op: 'add', v: undefined })] })).toBe(refused);
    // no well-formed stamp to answer: the connection is closed
    expect(codeOf({ t: 'push', txs: [env({ tx: 'nope' })] })).toBe('protocol/invalid-message');
    expect(codeOf({ t: 'push', txs: ['x'] })).toBe('protocol/invalid-message');
    expect(codeOf({ t: 'push', txs: [] })).toBe('protocol/invalid-message');
    expect(codeOf({ t: 'hello', v: 1, replica: 'r-1', cursor: null })).toBe('protocol/invalid-message');
    expect(codeOf({ t: 'hello', v: 1, replica: 'r1', cursor: '01' })).toBe('protocol/invalid-message');
    expect(codeOf({ t: 'what' })).toBe('protocol/invalid-message');
  });

  it('enforces count and length limits with the limit in the message', () => {
    const many = { t: 'push', txs: [env({ ops: Array.from({ length: L.maxOpsPerTx + 1 }, (_, i) => ({ id: `${tx}/${i}`, tx, e: 'r1.a', op: 'add', a: 'p/n', v: i })) })] };
    const refusal = (m: unknown) => {
      const out = decode(m);
      return out.t === 'push' ? out.txs[0] : null;
    };
    expect(refusal(many)).toMatchObject({ refused: true, tx, code: 'ops/limit', message: expect.stringContaining(`got ${L.maxOpsPerTx + 1} > ${L.maxOpsPerTx}`), data: { limit: 'maxOpsPerTx' } });
    expect(refusal({ t: 'push', txs: [env({}, { e: 'x'.repeat(200) })] })).toMatchObject({ code: 'ops/limit', message: expect.stringMatching(/string too long/) });
    const tooMany = { t: 'push', txs: Array.from({ length: L.maxTxsPerPush + 1 }, () => env()) };
    expect(() => decode(tooMany)).toThrow(`got ${L.maxTxsPerPush + 1} > ${L.maxTxsPerPush}`);
  });
});
