/**
 * Permissions across two server processes' worth of nodes on one PostgreSQL log: each node keeps
 * the readable sets and write checks of its own connections from the shared log. A membership
 * changed through node A reaches a user connected to node B (grant, then purge); a forged write
 * through node B is judged against what node A committed; a replica id bound on A stays bound on B.
 */
import { describe, expect, it } from 'vitest';
import { DataloomError } from '@dataloom/core';
import { replicaOfTx } from '@dataloom/core/internals';
import { createServer, type DataloomServer } from '../../packages/server/src/index.js';
import { createPostgresStore } from '../../packages/server/src/storage/postgres.js';
import { PG_URL, pgNamespace } from './support/harness.js';
import { rawSession } from './support/tap.js';
import { until } from './support/wait.js';
import { testRig } from './support/rig.js';

const schema = { ':team/members': { ':db/cardinality': ':db.cardinality/many' }, ':doc/title': {}, ':doc/body': {}, ':doc/owner': {}, ':doc/team': { ':db/valueType': ':db.type/ref' } };
const RULES = `
[[(can-read ?u ?e) [?e :doc/owner ?u]]
 [(can-read ?u ?e) [?e :doc/team ?t] [?t :team/members ?u]]
 [(can-read ?u ?t) [?t :team/members ?u]]
 [(can-write ?u ?e) [?e :doc/owner ?u]]
 [(can-write ?u ?e) [?e :team/members ?u]]]`;

const rig = testRig('perm-pg', { schema });
const client = (url: string, user: string) => rig.userClient(url, user);

describe('permissions on PostgreSQL, two nodes', () => {
  it('each node filters and judges its own connections from the shared log', async () => {
    const namespace = pgNamespace();
    const nodes: DataloomServer[] = [];
    for (const id of ['a', 'b']) {
      const s = await createServer({ store: `${PG_URL}?namespace=${namespace}`, port: 0, schema, permissions: RULES, authenticate: (t) => t, nodeId: `perm-pg-${id}`, pollMs: 100 });
      nodes.push(s);
    }
    rig.defer(() => createPostgresStore({ url: PG_URL, namespace }).destroy(), () => nodes[0]!.close(), () => nodes[1]!.close());
    const [A, B] = nodes as [DataloomServer, DataloomServer];
    const alice = client(A.url, 'alice');
    const carol = client(B.url, 'carol');
    const bob = client(B.url, 'bob');
    const r = await alice.c.transact([
      { ':db/id': 'team', ':team/members': ['alice'] },
      { ':db/id': 'd', ':doc/title': 'plan', ':doc/body': 'secret body', ':doc/team': 'team', ':doc/owner': 'alice' },
    ]);
    await alice.c.confirmed(r.tx);
    const [team, d] = [r.globalIds['team']!, r.globalIds['d']!];
    const mine = await bob.c.transact([{ ':doc/title': 'bob marker', ':doc/owner': 'bob' }]);
    await bob.c.confirmed(mine.tx);
    await until(async () => (await bob.c.q('[:find ?t . :where [_ :doc/title ?t]]')) === 'bob marker', 'bob (node B) is streamed');
    await until(() => B.head() >= A.head(), 'node B has node A’s commits');
    expect(await carol.c.q('[:find ?t . :where [_ :doc/title ?t]]')).toBe(null);
    // membership granted through node A: carol on node B receives the doc's state
    const add = await alice.c.transact([[':db/add', team, ':team/members', 'carol']]);
    await alice.c.confirmed(add.tx);
    await until(async () => (await carol.c.q('[:find ?b . :where [_ :doc/body ?b]]')) === 'secret body', 'carol gains the doc through node B');
    // and revoked: carol purges it
    const rm = await alice.c.transact([[':db/retract', team, ':team/members', 'carol']]);
    await alice.c.confirmed(rm.tx);
    await until(async () => (await carol.c.q('[:find ?b . :where [_ :doc/body ?b]]')) === null, 'carol purges the doc');
    // bob's forged edit of alice's doc, through node B, is judged against node A's commits
    const forged = await bob.c.transact([[':db/add', d, ':doc/body', 'FORGED']]);
    const err = (await bob.c.confirmed(forged.tx).then(() => null, (e: unknown) => e)) as DataloomError;
    expect([err?.code, err?.data?.['e']]).toEqual(['sync/forbidden', d]);
    // alice's replica id, bound on node A, is refused to bob on node B
    const replica = replicaOfTx(r.tx);
    const raw = await rawSession(B.url, 'bob', replica, null);
    rig.defer(() => raw.ws.close());
    const tx = `${(Date.now() + 1).toString(36).padStart(12, '0')}-0000-${replica}`;
    raw.ws.send(JSON.stringify({ t: 'push', txs: [{ tx, replica, ops: [{ id: `${tx}/0`, tx, e: `${replica}.zz`, op: 'add', a: 'doc/title', v: 'FORGED-REPLICA' }] }] }));
    await until(() => raw.msgs().some((m) => m['t'] === 'reject'), 'bob is answered');
    expect((raw.msgs().find((m) => m['t'] === 'reject') as { code: string }).code).toBe('sync/forbidden');
    await new Promise((res) => setTimeout(res, 100));
    for (const k of [alice, carol, bob]) expect(k.tap.frames.some((f) => f.includes('FORGED'))).toBe(false);
    expect(carol.tap.frames.filter((f) => f.includes('secret body')).length).toBeGreaterThan(0); // only while she was a member
  });
});
