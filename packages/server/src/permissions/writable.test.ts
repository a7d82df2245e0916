/**
 * `WriteChecker` keeps its database only while something reads it: write rules, or read rules
 * under a schema with an identity attribute of the app (upserts). The refusals themselves are
 * tested at the socket (test/sync/write-permissions.test.ts, leaks.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { type Op, type TxEnvelope } from '@dataloom/core';
import { MergeState } from '@dataloom/core/internals';
import { WriteChecker } from './writable.js';
import { parsePermissions } from './rules.js';

const READ = '[[(can-read ?u ?e) [?e :doc/owner ?u]]]';
const WRITE = '[[(can-read ?u ?e) [?e :doc/owner ?u]] [(can-write ?u ?e) [?e :doc/owner ?u]]]';
let n = 0;
const env = (ops: Array<Omit<Op, 'id' | 'tx'>>): TxEnvelope => {
  const tx = `${(1_900_000_000_000 + n++).toString(36).padStart(12, '0')}-0000-wt`;
  return { tx, replica: 'wt', ops: ops.map((o, i) => ({ ...o, id: `${tx}/${i}`, tx }) as Op) };
};

describe('WriteChecker: the database it keeps', () => {
  it('read rules without an identity attribute: none, until the schema gains one; write rules: always', () => {
    let m = new MergeState({ ':doc/owner': {} });
    const first = env([{ e: 'wt.d0', op: 'add', a: 'doc/owner', v: 'ann' }]).ops;
    m.apply(first);
    const read = new WriteChecker(parsePermissions(READ), () => m, () => 'ann');
    const write = new WriteChecker(parsePermissions(WRITE), () => m, () => 'ann');
    expect([read.holdsDatabase, write.holdsDatabase]).toEqual([false, true]);
    const second = env([{ e: 'wt.d1', op: 'add', a: 'doc/owner', v: 'bob' }]).ops;
    const changes = m.apply(second);
    read.applied(changes);
    write.applied(changes);
    expect(read.holdsDatabase).toBe(false);
    // the schema gains an identity attribute (the server re-merges under the new schema): the next change builds it
    m = new MergeState({ ':doc/owner': {}, ':doc/key': { ':db/unique': ':db.unique/identity' } });
    m.apply([...first, ...second]);
    read.applied([]);
    expect(read.holdsDatabase).toBe(true);
    // and it judges upserts with it: bob's doc (wt.d1) holds K1 and ann may not read it
    read.applied(m.apply(env([{ e: 'wt.d1', op: 'add', a: 'doc/key', v: 'K1' }]).ops));
    const push = env([{ e: 'wt.new', op: 'add', a: 'doc/key', v: 'K1' }]);
    expect(read.upserts(push, [{ a: 'doc/key', e: 'wt.d1' }])).toMatchObject({ ok: false, code: 'sync/unique' });
    expect(read.upserts(push, [{ a: 'doc/key', e: 'wt.d0' }])).toBe(null);
  });

  it('an upsert by :db/ident under read rules alone builds the database then, and judges as before', () => {
    const m = new MergeState({ ':doc/owner': {} });
    m.apply(env([{ e: 'wt.d0', op: 'add', a: 'doc/owner', v: 'ann' }, { e: 'wt.attr', op: 'add', a: 'db/ident', v: { kw: 'doc/title' } }]).ops);
    const read = new WriteChecker(parsePermissions(READ), () => m, () => 'ann');
    expect(read.holdsDatabase).toBe(false);
    const push = env([{ e: 'wt.again', op: 'add', a: 'db/ident', v: { kw: 'doc/title' } }]);
    expect(read.upserts(push, [{ a: 'db/ident', e: 'wt.attr' }])).toMatchObject({ ok: false, code: 'sync/unique' });
    expect(read.holdsDatabase).toBe(true);
  });
});
