/**
 * End to end with the real client (`createClient`: Replica + dataflow, in-process) against a real
 * server: A's transaction reaches B's watched query as a diff; a `cas` race is judged by the server,
 * the loser's optimistic write is rolled back (reversing diff) and `confirmed` rejects with the
 * server's typed error; both end in the same state.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createClient, type Client } from '../../packages/client/src/index.js';
import { createServer } from '../../packages/server/src/index.js';
import { TEST_SCHEMA, tempDir, within } from './support/harness.js';
import { until } from './support/wait.js';
import { testRig } from './support/rig.js';

const CLIENT_SCHEMA = {
  ':item/title': { ':db/valueType': ':db.type/string' },
  ':item/count': { ':db/valueType': ':db.type/long' },
  ':item/tags': { ':db/valueType': ':db.type/string', ':db/cardinality': ':db.cardinality/many' },
  ':item/owner': { ':db/valueType': ':db.type/ref' },
};

const rig = testRig('e2e', { schema: CLIENT_SCHEMA });
const client = (url: string) => rig.client(url);

describe('createClient over the sync server', () => {
  it('A transacts → B’s watched query emits the diff; a lost cas race is rolled back with a typed error', async () => {
    const t = tempDir();
    const server = await createServer({ store: `sqlite:${join(t.dir, 'e2e.sqlite')}`, port: 0, schema: TEST_SCHEMA });
    rig.defer(t.cleanup, () => server.close());
    const a = client(server.url);
    const b = client(server.url);
    await within(Promise.all([a.whenSynced(), b.whenSynced()]), 10_000, 'synced');

    const view = b.watch('[:find ?t ?c :where [?e :item/title ?t] [?e :item/count ?c]]');
    await view.ready;
    const diffs: unknown[] = [];
    view.subscribe((d) => diffs.push(...d));
    const res = await a.transact([{ ':db/id': 'x', ':item/title': 'shared', ':item/count': 1 }]);
    await within(a.confirmed(res.tx), 10_000, 'ack');
    await until(() => diffs.length > 0, 'diff at B');
    expect(diffs.map((d) => [(d as unknown[])[0], (d as unknown[])[2]])).toEqual([[['shared', 1], 1]]);

    // cas race: both believe count is 1
    const gid = res.globalIds.x!;
    const idAt = async (c: Client) => ((await c.q('[:find ?e . :where [?e :item/title "shared"]]')) as number);
    const [ea, eb] = await Promise.all([idAt(a), idAt(b)]);
    expect(await a.globalId(ea)).toBe(gid);
    const ra = await a.transact([[':db/cas', ea, ':item/count', 1, 2]]);
    const rb = await b.transact([[':db/cas', eb, ':item/count', 1, 3]]);
    const outcomes = await Promise.allSettled([a.confirmed(ra.tx), b.confirmed(rb.tx)]);
    const rejected = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toMatchObject({ code: 'sync/cas-failed' });
    const winner = outcomes[0]!.status === 'fulfilled' ? 2 : 3;
    await within(Promise.all([a.whenSynced(), b.whenSynced()]), 10_000, 'resynced');
    const count = (c: Client) => c.q('[:find ?c . :where [?e :item/title "shared"] [?e :item/count ?c]]');
    await until(() => true, '');
    for (let i = 0; i < 100 && ((await count(a)) !== winner || (await count(b)) !== winner); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await count(a)).toBe(winner);
    expect(await count(b)).toBe(winner);
    expect(view.result()).toEqual(new Set([['shared', winner]]));
    const status = await (winner === 2 ? b : a).syncStatus();
    expect(status?.lastError?.code).toBe('sync/cas-failed');
    expect(status?.pending).toBe(0);
  });
});
