/**
 * The server's draft directory against core's merge state: which entries a user may receive,
 * what they may push, and what a user who gains sight of a draft catches up on.
 */
import { describe, expect, it } from 'vitest';
import { draftSchema, type Op, type TxEnvelope } from '@dataloom/core';
import { MergeState } from '@dataloom/core/internals';
import { DraftDirectory } from './directory.js';

let n = 0;
const stamp = (r: string) => `${(1000 + n++).toString(36).padStart(12, '0')}-0000-${r}`;
function env(r: string, ops: Array<Omit<Op, 'id' | 'tx'>>, draft?: string): TxEnvelope {
  const tx = stamp(r);
  return { tx, replica: r, ops: ops.map((o, i) => ({ ...o, id: `${tx}/${i}`, tx })), ...(draft ? { draft } : {}) };
}

function setup() {
  const db = new MergeState({ ...draftSchema, 'item/title': {} });
  const dir = new DraftDirectory((e, a) => db.values(e, a));
  let pos = 0;
  const commit = (e: TxEnvelope) => {
    const changes = e.draft ? [] : db.apply(e.ops);
    dir.note(++pos, e, JSON.stringify(e), changes);
    return { pos, json: JSON.stringify(e) };
  };
  return { db, dir, commit };
}

describe('DraftDirectory', () => {
  it('open drafts go to everyone; private ones to their author and collaborators only', () => {
    const { dir, commit } = setup();
    const open = commit(env('ra', [{ e: 'ra.x', op: 'add', a: 'item/title', v: 'wip' }], 'draft.open'));
    const meta = commit(env('ra', [{ e: 'ra.d', op: 'add', a: 'draft/author', v: 'alice' }, { e: 'ra.d', op: 'add', a: 'draft/collaborators', v: 'bob' }]));
    const priv = commit(env('ra', [{ e: 'ra.x', op: 'add', a: 'item/title', v: 'secret' }], 'ra.d'));
    const plain = commit(env('rb', [{ e: 'rb.y', op: 'add', a: 'item/title', v: 'public' }]));
    for (const u of ['alice', 'bob', 'carol', null, { id: 'dave' }]) expect(dir.mayStream(u, open.json)).toBe(true);
    for (const u of ['alice', 'bob', 'carol', null]) expect(dir.mayStream(u, plain.json)).toBe(true);
    expect(['alice', { id: 'bob' }, 'carol', null].map((u) => dir.mayStream(u, priv.json))).toEqual([true, true, false, false]);
    expect(['alice', 'bob', 'carol'].map((u) => dir.mayStream(u, meta.json))).toEqual([true, true, false]);
  });

  it('refuses pushes to a private draft and metadata changes by others; anonymous users are not checked', () => {
    const { dir, commit } = setup();
    commit(env('ra', [{ e: 'ra.d', op: 'add', a: 'draft/author', v: 'alice' }]));
    const wip = env('rb', [{ e: 'ra.x', op: 'add', a: 'item/title', v: 'x' }], 'ra.d');
    expect(dir.checkPush('alice', wip)).toBeNull();
    expect(dir.checkPush('carol', wip)?.code).toBe('sync/forbidden');
    expect(dir.checkPush('carol', env('rc', [{ e: 'ra.d', op: 'add', a: 'draft/collaborators', v: 'carol' }]))?.code).toBe('sync/forbidden');
    expect(dir.checkPush('carol', env('rc', [{ e: 'ra.d', op: 'add', a: 'draft/closed', v: stamp('rc') }]))?.code).toBe('sync/forbidden');
    expect(dir.checkPush('alice', env('ra', [{ e: 'ra.d', op: 'add', a: 'draft/collaborators', v: 'carol' }]))).toBeNull();
    expect(dir.checkPush('carol', env('rc', [{ e: 'rc.e', op: 'add', a: 'draft/author', v: 'alice' }]))?.code).toBe('sync/forbidden');
    expect(dir.checkPush('carol', env('rc', [{ e: 'rc.e', op: 'add', a: 'draft/author', v: 'carol' }]))).toBeNull();
    expect(dir.checkPush(null, wip)).toBeNull();
  });

  it('a user invited later catches up on the live entries and the draft entity’s own transactions; closed ones are gone', () => {
    const { dir, commit } = setup();
    const gained: string[][] = [];
    dir.onVisibility((ds) => gained.push([...ds]));
    const meta = commit(env('ra', [{ e: 'ra.d', op: 'add', a: 'draft/author', v: 'alice' }]));
    const w1 = env('ra', [{ e: 'ra.x', op: 'add', a: 'item/title', v: '1' }], 'ra.d');
    const p1 = commit(w1);
    // a discard covering w1
    const discard = commit(env('ra', [{ e: 'ra.d', op: 'add', a: 'draft/closed', v: w1.tx }]));
    const p2 = commit(env('ra', [{ e: 'ra.x', op: 'add', a: 'item/title', v: '2' }], 'ra.d'));
    expect(dir.catchUp('bob', 100)).toEqual([]);
    // an open draft is never left out of a stream: nothing to catch up on at hello
    commit(env('ra', [{ e: 'ra.x', op: 'add', a: 'item/title', v: 'open wip' }], 'draft.open'));
    expect(dir.catchUp('bob', 100)).toEqual([]);
    const invite = commit(env('ra', [{ e: 'ra.d', op: 'add', a: 'draft/collaborators', v: 'bob' }]));
    expect(gained).toEqual([['ra.d'], ['ra.d']]); // the author was set, then a collaborator invited
    // the discarded envelope is gone; the draft entity's own transactions (closing included) come along
    expect(dir.catchUp('bob', 100).map((x) => x.pos)).toEqual([meta.pos, discard.pos, p2.pos, invite.pos]);
    expect(dir.catchUp('bob', p2.pos).map((x) => x.pos)).toEqual([meta.pos, discard.pos, p2.pos]);
    expect(p1.pos).toBeLessThan(p2.pos);
  });
});
