import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DataloomError, formatHlc } from '@dataloom/core';
import { bytesToBase64 } from '@dataloom/core/internals';
import { checkEnvelope, isName } from './envelope.js';
import { DEFAULT_LIMITS } from './limits.js';

const tx = formatHlc({ ms: 1, counter: 0, replica: 'ra' });
const op = (over: Record<string, unknown> = {}, i = 0) => ({ id: `${tx}/${i}`, tx, e: 'x.1', op: 'add', a: 'u/name', v: 'A', ...over });
const env = (ops: unknown[], over: Record<string, unknown> = {}) => ({ tx, replica: 'ra', ops, ...over });
const codeOf = (x: unknown, limits = DEFAULT_LIMITS) => {
  try {
    checkEnvelope(x, limits);
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(DataloomError);
    return (e as DataloomError).code;
  }
};

describe('envelope rules', () => {
  it('rejects malformed ops with ops/malformed (moved from the merge-state tests: MergeState trusts checked input)', () => {
    expect(codeOf(env([op()]))).toBe('ok');
    for (const bad of [{ id: 'nope' }, { e: 'no-dot' }, { op: 'drop' }, { v: { weird: 1 } }, { tx: 'x' }]) {
      expect(codeOf(env([op(), op(bad, 1)])), JSON.stringify(bad)).toBe('ops/malformed');
    }
  });

  it('refuses text ops that are not base64 Yjs updates, accepts real ones', () => {
    expect(() => checkEnvelope(env([op({ op: 'text', a: 'u/bio', v: btoa('not a yjs update') })]))).toThrowError(/Yjs update/);
    const d = new Y.Doc();
    d.getText('text').insert(0, 'ok');
    expect(codeOf(env([op({ op: 'text', a: 'u/bio', v: bytesToBase64(Y.encodeStateAsUpdate(d)) })]))).toBe('ok');
  });

  it('names the offending field and returns a normalized copy', () => {
    try {
      checkEnvelope(env([op(), op({ e: 'not a gid' }, 1)]));
      expect.unreachable();
    } catch (e) {
      expect((e as DataloomError).data.path).toBe('envelope.ops[1].e');
    }
    const extra = { ...env([op()]) };
    const out = checkEnvelope(extra);
    expect(out).toEqual(extra);
    expect(out).not.toBe(extra);
    expect(Object.keys(out.ops[0]!)).toEqual(['id', 'tx', 'e', 'op', 'a', 'v']);
  });

  it('checks structure always and limits only when given, with ops/limit naming the limit', () => {
    const long = env([op({ v: 'x'.repeat(DEFAULT_LIMITS.maxStringLength + 1) })]);
    expect(codeOf(long)).toBe('ops/limit');
    expect(() => checkEnvelope(long)).not.toThrow();
    try {
      checkEnvelope(long, DEFAULT_LIMITS);
    } catch (e) {
      expect((e as DataloomError).data).toMatchObject({ limit: 'maxStringLength', max: DEFAULT_LIMITS.maxStringLength, actual: DEFAULT_LIMITS.maxStringLength + 1 });
    }
    const many = env(Array.from({ length: DEFAULT_LIMITS.maxOpsPerTx + 1 }, (_, i) => op({}, i)));
    expect(codeOf(many)).toBe('ops/limit');
    expect(codeOf(env([op({ a: 'a/' + 'b'.repeat(DEFAULT_LIMITS.maxAttrLength) })]))).toBe('ops/limit');
  });

  it('one name rule for attributes, keyword values and drafts (Unicode yes, invisible characters no)', () => {
    for (const good of ['person/name', 'personne/prénom', 'a', 'ns.sub/x-y?', '名前/値', 'emoji/😀']) expect(isName(good), good).toBe(true);
    for (const bad of ['', ':a', 'a b', 'a\tb', 'a\u0000', 'a\u202eb', 'a\u200bb', 'a\ud800', '\ufeffa', 'a\u00a0b']) expect(isName(bad), JSON.stringify(bad)).toBe(false);
    expect(codeOf(env([op({ a: 'bad attr' })]))).toBe('ops/malformed');
    expect(codeOf(env([op({ v: { kw: 'bad kw' } })]))).toBe('ops/malformed');
    expect(codeOf(env([op()], { draft: 'my form' }))).toBe('ops/malformed');
    expect(codeOf(env([op()], { draft: 'form-1' }))).toBe('ok');
  });

  it('refs, uuids and instants have their formats', () => {
    expect(codeOf(env([op({ v: { ref: 'rb.1' } })]))).toBe('ok');
    expect(codeOf(env([op({ v: { ref: '../../etc' } })]))).toBe('ops/malformed');
    expect(codeOf(env([op({ v: { uuid: '6ba7b810-9dad-11d1-80b4-00c04fd430c8' } })]))).toBe('ok');
    expect(codeOf(env([op({ v: { uuid: 'nope' } })]))).toBe('ops/malformed');
    expect(codeOf(env([op({ v: { inst: 1e16 } })]))).toBe('ops/malformed');
    expect(codeOf(env([op({ v: null })]))).toBe('ops/malformed');
  });

  it('envelope consistency: replica matches the stamp, op ids are `${tx}/${index}`, checks are cas', () => {
    expect(codeOf(env([op()], { replica: 'rb' }))).toBe('ops/malformed');
    expect(codeOf(env([op({}, 1)]))).toBe('ops/malformed');
    expect(codeOf(env([op()], { checks: [{ kind: 'cas', e: 'x.1', a: 'u/n', expected: null, v: 1 }] }))).toBe('ok');
    expect(codeOf(env([op()], { checks: [{ kind: 'eval', e: 'x.1', a: 'u/n', expected: null, v: 1 }] }))).toBe('ops/malformed');
    expect(codeOf(env([op()], { extra: 1 }))).toBe('ops/malformed');
  });
});
