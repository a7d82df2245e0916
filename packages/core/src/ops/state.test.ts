import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MergeState, bytesToBase64 } from './state.js';
import type { Op } from './types.js';
import { formatHlc } from '../hlc/hlc.js';

const schema = {
  'u/name': {},
  'u/email': { ':db/unique': ':db.unique/identity' },
  'u/tags': { ':db/cardinality': ':db.cardinality/many' },
  'u/friend': { ':db/valueType': ':db.type/ref', ':db/cardinality': ':db.cardinality/many' },
  'u/address': { ':db/valueType': ':db.type/ref', ':db/isComponent': true },
  'u/bio': { ':db/valueType': ':db.type/text' },
};

const t = (ms: number, replica = 'ra', counter = 0) => formatHlc({ ms, counter, replica });
let n = 0;
function op(tx: string, e: string, kind: Op['op'], a?: string, v?: Op['v']): Op {
  const o: Op = { id: `${tx}/${n++}`, tx, e, op: kind };
  if (a !== undefined) o.a = a;
  if (v !== undefined) o.v = v;
  return o;
}
const view = (s: MergeState) =>
  [...s.datoms()].map((d) => `${d.e} ${d.a} ${JSON.stringify(d.v)}`).sort();
const both = (ops: Op[]) => {
  const a = new MergeState(schema);
  a.apply(ops);
  const b = new MergeState(schema);
  for (const o of [...ops].reverse()) b.apply([o]);
  expect(view(b)).toEqual(view(a));
  return a;
};

describe('merge rules', () => {
  it('cardinality one is a last-writer-wins register', () => {
    const s = both([op(t(1, 'rb'), 'x.1', 'add', 'u/name', 'B'), op(t(2, 'ra'), 'x.1', 'add', 'u/name', 'A'), op(t(1, 'rc'), 'x.1', 'add', 'u/name', 'C')]);
    expect(s.values('x.1', 'u/name')).toEqual(['A']);
    const s2 = both([op(t(1), 'x.1', 'add', 'u/name', 'A'), op(t(2, 'rb'), 'x.1', 'retract', 'u/name')]);
    expect(s2.values('x.1', 'u/name')).toEqual([]);
  });

  it('cardinality many decides presence per value', () => {
    const s = both([
      op(t(1), 'x.1', 'add', 'u/tags', 'a'),
      op(t(2, 'rb'), 'x.1', 'retract', 'u/tags', 'a'),
      op(t(1, 'rb'), 'x.1', 'add', 'u/tags', 'b'),
      op(t(3), 'x.1', 'add', 'u/tags', 'c'),
    ]);
    expect(s.values('x.1', 'u/tags')).toEqual(['b', 'c']);
  });

  it('retractEntity hides older ops and older refs; later ops win', () => {
    const s = both([
      op(t(1), 'x.1', 'add', 'u/name', 'Ivan'),
      op(t(1), 'x.2', 'add', 'u/friend', { ref: 'x.1' }),
      op(t(2, 'rb'), 'x.1', 'retractEntity'),
      op(t(3), 'x.1', 'add', 'u/tags', 'back'),
    ]);
    expect(s.entityDatoms('x.1').map((d) => d.a)).toEqual(['u/tags']);
    expect(s.values('x.2', 'u/friend')).toEqual([]);
  });

  it('components go with their parent', () => {
    const s = both([
      op(t(1), 'x.1', 'add', 'u/address', { ref: 'x.9' }),
      op(t(1), 'x.9', 'add', 'u/name', 'street'),
      op(t(5), 'x.1', 'retractEntity'),
      op(t(6), 'x.8', 'add', 'u/name', 'other'),
    ]);
    expect(s.exists('x.9')).toBe(false);
    expect(s.exists('x.1')).toBe(false);
    // a component attached after the retraction is not cascaded
    const s2 = both([op(t(5), 'x.1', 'retractEntity'), op(t(6), 'x.1', 'add', 'u/address', { ref: 'x.9' }), op(t(6), 'x.9', 'add', 'u/name', 'street')]);
    expect(s2.values('x.9', 'u/name')).toEqual(['street']);
  });

  it('two entities claiming one identity value merge into the earliest-created one', () => {
    const ops = [
      op(t(10, 'rb'), 'rb.1', 'add', 'u/email', 'x@y'),
      op(t(10, 'rb'), 'rb.1', 'add', 'u/name', 'Bob'),
      op(t(10, 'rb'), 'rb.1', 'add', 'u/tags', 'b'),
      op(t(12, 'ra'), 'ra.1', 'add', 'u/email', 'x@y'),
      op(t(12, 'ra'), 'ra.1', 'add', 'u/name', 'Robert'),
      op(t(12, 'ra'), 'ra.1', 'add', 'u/tags', 'a'),
      op(t(13, 'ra'), 'ra.2', 'add', 'u/friend', { ref: 'ra.1' }),
    ];
    const s = both(ops);
    expect(s.rep('ra.1')).toBe('rb.1');
    expect(s.exists('ra.1')).toBe(true); // through its representative
    expect(s.values('rb.1', 'u/name')).toEqual(['Robert']); // LWW over both entities' ops
    expect(s.values('rb.1', 'u/tags')).toEqual(['a', 'b']);
    expect(s.values('ra.2', 'u/friend')).toEqual([{ ref: 'rb.1' }]);
    expect(s.lookup('u/email', 'x@y')).toBe('rb.1');
    expect(view(s).filter((l) => l.startsWith('ra.1 '))).toEqual([]);
    // un-merging when one of them changes its email
    const changes = s.apply([op(t(20, 'ra'), 'ra.1', 'add', 'u/email', 'other@y')]);
    expect(changes.length).toBeGreaterThan(0);
    expect(s.rep('ra.1')).toBe('ra.1');
    expect(s.values('ra.1', 'u/name')).toEqual(['Robert']);
    expect(s.values('rb.1', 'u/name')).toEqual(['Bob']);
    expect(s.values('ra.2', 'u/friend')).toEqual([{ ref: 'ra.1' }]);
  });

  it('applying an op twice is a no-op; removal reverses', () => {
    const s = new MergeState(schema);
    const o = op(t(1), 'x.1', 'add', 'u/name', 'A');
    expect(s.apply([o])).toHaveLength(1);
    expect(s.apply([o, o])).toEqual([]);
    const ch = s.remove([o.id]);
    expect(ch).toEqual([{ e: 'x.1', a: 'u/name', v: 'A', tx: o.tx, added: false }]);
    expect(s.size).toBe(0);
  });

  it('text attributes merge concurrent Yjs edits', () => {
    const base = new Y.Doc();
    base.getText('text').insert(0, 'hello');
    const u0 = Y.encodeStateAsUpdate(base);
    const d1 = new Y.Doc();
    Y.applyUpdate(d1, u0);
    const d2 = new Y.Doc();
    Y.applyUpdate(d2, u0);
    const sv = Y.encodeStateVector(d1);
    d1.getText('text').insert(0, 'A ');
    d2.getText('text').insert(5, ' world');
    const ops = [
      op(t(1), 'x.1', 'text', 'u/bio', bytesToBase64(u0)),
      op(t(2, 'ra'), 'x.1', 'text', 'u/bio', bytesToBase64(Y.encodeStateAsUpdate(d1, sv))),
      op(t(2, 'rb'), 'x.1', 'text', 'u/bio', bytesToBase64(Y.encodeStateAsUpdate(d2, sv))),
    ];
    const s = both(ops);
    expect(s.values('x.1', 'u/bio')).toEqual(['A hello world']);
    expect(s.textDoc('x.1', 'u/bio').getText('text').toString()).toBe('A hello world');
  });

  // Validation (refusing it) is the envelope rules' job: packages/protocol/src/envelope.test.ts.
  it('an undecodable Yjs update that got past validation is skipped deterministically', () => {
    const junk = op(t(1), 'x.1', 'text', 'u/bio', btoa('not a yjs update'));
    const good = new Y.Doc();
    good.getText('text').insert(0, 'ok');
    const fine = op(t(2), 'x.1', 'text', 'u/bio', bytesToBase64(Y.encodeStateAsUpdate(good)));
    const a = new MergeState(schema);
    a.apply([junk, fine]);
    expect(a.values('x.1', 'u/bio')).toEqual(['ok']);
  });
});
