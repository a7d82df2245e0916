/**
 * Write permissions as Datalog rules (`can-write`, with `$before`), against the real server and
 * real clients: forged writes — another user's entity, handing ownership away, creating an entity
 * in someone else's name, pushing as another user's replica — are rejected with `sync/forbidden`
 * naming the entity, roll back on the writer, and nothing of them reaches another client's socket.
 */
import { describe, expect, it } from 'vitest';
import { DataloomError } from '@dataloom/core';
import { replicaOfTx } from '@dataloom/core/internals';
import { rawSession } from './support/tap.js';
import { until } from './support/wait.js';
import { testRig } from './support/rig.js';

const schema = { ':doc/title': {}, ':doc/owner': {} };

const RULES = `
[[(can-write ?u ?e) [?e :doc/owner ?u] [$before ?e :doc/owner ?u]]
 [(can-write ?u ?e) [?e :doc/owner ?u] [(missing? $before ?e :doc/owner)]]
 [(can-read ?u ?e) [?e :doc/title]]]`;

const rig = testRig('write-perms', { schema });
const server = () => rig.server({ permissions: RULES, authenticate: (token) => token });
const client = (url: string, user: string) => rig.userClient(url, user);

const refusal = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as DataloomError);

describe('write permissions', () => {
  it('forged writes are rejected with the entity, roll back, and reach no one', async () => {
    const s = await server();
    const alice = client(s.url, 'alice');
    const bob = client(s.url, 'bob');
    const r = await alice.c.transact([{ ':db/id': 'd', ':doc/title': 'plan', ':doc/owner': 'alice' }]);
    await alice.c.confirmed(r.tx);
    const d = r.globalIds['d']!;
    await until(async () => (await bob.c.q('[:find ?t . :where [_ :doc/title ?t]]')) === 'plan', 'bob reads the doc');
    // another user's entity
    const edit = await bob.c.transact([[':db/add', d, ':doc/title', 'FORGED-EDIT']]);
    const e1 = await refusal(bob.c.confirmed(edit.tx));
    expect([e1?.code, e1?.data?.['e']]).toEqual(['sync/forbidden', d]);
    await until(async () => (await bob.c.q('[:find ?t . :where [_ :doc/title ?t]]')) === 'plan', 'bob rolled back');
    // creating an entity in someone else's name
    const impersonate = await bob.c.transact([{ ':doc/title': 'FORGED-NEW', ':doc/owner': 'alice' }]);
    expect((await refusal(bob.c.confirmed(impersonate.tx)))?.code).toBe('sync/forbidden');
    // handing ownership away ($before): the owner may edit, not give the doc to bob
    const give = await alice.c.transact([[':db/add', d, ':doc/owner', 'bob'], [':db/add', d, ':doc/title', 'FORGED-GIFT']]);
    expect((await refusal(alice.c.confirmed(give.tx)))?.code).toBe('sync/forbidden');
    // what is permitted still goes through: the owner edits, bob creates his own, the owner deletes
    const ok1 = await alice.c.transact([[':db/add', d, ':doc/title', 'plan v2']]);
    await alice.c.confirmed(ok1.tx);
    const ok2 = await bob.c.transact([{ ':doc/title': 'bob notes', ':doc/owner': 'bob' }]);
    await bob.c.confirmed(ok2.tx);
    const del = await alice.c.transact([[':db/retractEntity', d]]);
    await alice.c.confirmed(del.tx);
    await until(async () => (await bob.c.q('[:find [?t ...] :where [_ :doc/title ?t]]') as string[]).join() === 'bob notes', 'bob sees the permitted writes');
    for (const k of [alice, bob]) expect(k.tap.frames.some((f) => f.includes('FORGED'))).toBe(false);
    expect(await alice.c.q('[:find [?t ...] :where [_ :doc/title ?t]]')).toEqual(['bob notes']);
  });

  it('a replica id belongs to the user who first pushed from it', async () => {
    const s = await server();
    const alice = client(s.url, 'alice');
    const r = await alice.c.transact([{ ':doc/title': 'mine', ':doc/owner': 'alice' }]);
    await alice.c.confirmed(r.tx);
    const replica = replicaOfTx(r.tx);
    // bob connects with alice's replica id and pushes a transaction of that replica
    const bob = await rawSession(s.url, 'bob', replica, null);
    rig.defer(() => bob.ws.close());
    const tx = `${(Date.now() + 1).toString(36).padStart(12, '0')}-0000-${replica}`;
    bob.ws.send(JSON.stringify({ t: 'push', txs: [{ tx, replica, ops: [{ id: `${tx}/0`, tx, e: `${replica}.zz`, op: 'add', a: 'doc/title', v: 'FORGED-REPLICA' }] }] }));
    await until(() => bob.msgs().some((m) => m['t'] === 'reject'), 'bob is answered');
    const reject = bob.msgs().find((m) => m['t'] === 'reject') as { code: string; message: string };
    expect(reject.code).toBe('sync/forbidden');
    expect(reject.message).toContain('another user');
    const marker = await alice.c.transact([{ ':doc/title': 'marker', ':doc/owner': 'alice' }]);
    await alice.c.confirmed(marker.tx);
    await until(() => bob.frames.some((f) => f.includes('marker')), 'the stream went on');
    expect([...alice.tap.frames, ...bob.frames].some((f) => f.includes('FORGED'))).toBe(false);
  });
});
