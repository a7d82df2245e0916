/**
 * The sync status a newcomer sees in the demo's badge (issue 14), with the real client against a
 * real server: errors do not outlive the state they describe, and a client that does not sync
 * still tells how many transactions wait in its outbox.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createServer } from '../../packages/server/src/index.js';
import { TEST_SCHEMA, tempDir, within } from './support/harness.js';
import { until } from './support/wait.js';
import { testRig } from './support/rig.js';

const SCHEMA = { ':item/title': {}, ':item/count': {} };

const rig = testRig('status', { schema: SCHEMA });
const client = (url?: string) => rig.client(url);

describe('sync status (the demo badge)', () => {
  it('errors cleared after later success: a refused cas stops being lastError once a later transaction is acknowledged', async () => {
    const t = tempDir();
    const server = await createServer({ store: `sqlite:${join(t.dir, 's.sqlite')}`, port: 0, schema: TEST_SCHEMA });
    rig.defer(t.cleanup, () => server.close());
    const a = client(server.url);
    const b = client(server.url);
    await within(Promise.all([a.whenSynced(), b.whenSynced()]), 10_000, 'synced');
    const r = await b.transact([{ ':db/id': 'x', ':item/title': 'x', ':item/count': 1 }]);
    await b.confirmed(r.tx);
    await until(async () => (await a.q('[:find ?c . :where [_ :item/count ?c]]')) === 1, 'A sees the item');
    // both raise from the value they saw: the server takes one and refuses the other
    const [ra, rb] = await Promise.all([a.transact([[':db/cas', r.globalIds.x, ':item/count', 1, 2]]), b.transact([[':db/cas', r.globalIds.x, ':item/count', 1, 3]])]);
    const outcomes = await Promise.allSettled([a.confirmed(ra.tx), b.confirmed(rb.tx)]);
    const loser = outcomes[0]!.status === 'rejected' ? a : b;
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1);
    expect((await loser.syncStatus())?.lastError?.code).toBe('sync/cas-failed');
    const good = await loser.transact([{ ':item/title': 'y' }]);
    await loser.confirmed(good.tx);
    await until(async () => (await loser.syncStatus())?.lastError === null, 'lastError cleared');
    expect((await loser.syncStatus())?.pending).toBe(0);
  });

  it('errors cleared after reconnect: a server restart leaves the client online without "connection closed"', async () => {
    const t = tempDir();
    const store = `sqlite:${join(t.dir, 'r.sqlite')}`;
    let server = await createServer({ store, port: 0, schema: TEST_SCHEMA });
    const port = server.port;
    rig.defer(t.cleanup, () => server.close());
    const a = client(server.url);
    await within(a.whenSynced(), 10_000, 'synced');
    await server.close();
    await until(async () => (await a.syncStatus())?.lastError?.code === 'sync/disconnected', 'disconnect reported');
    expect((await a.syncStatus())?.online).toBe(false);
    server = await createServer({ store, port, schema: TEST_SCHEMA });
    await until(async () => (await a.syncStatus())?.online === true, 'back online', 20_000);
    expect((await a.syncStatus())?.lastError).toBe(null);
  }, 30_000);

  it('confirmed(tx) asked while the refusal is being rolled back still rejects (it is not taken for accepted)', async () => {
    const t = tempDir();
    const server = await createServer({
      store: `sqlite:${join(t.dir, 'c.sqlite')}`,
      port: 0,
      schema: TEST_SCHEMA,
      authorizeWrite: (_u, tx) => !tx.ops.some((o) => (o as { v?: unknown }).v === 'forbidden'),
    });
    rig.defer(t.cleanup, () => server.close());
    const a = client(server.url);
    const asked: Array<Promise<string>> = [];
    const confirm = (tx: string) => a.confirmed(tx).then(() => 'accepted', (e: { code?: string }) => `refused ${e.code}`);
    // ask again the moment the replica reports the refusal (before the sync client recorded it)
    a.on((e) => e.type === 'rejected' && asked.push(confirm(e.tx)));
    await a.ready;
    const ok = await a.transact([{ ':item/title': 'fine' }]);
    const bad = await a.transact([{ ':item/title': 'forbidden' }]);
    expect(await confirm(ok.tx)).toBe('accepted');
    expect(await confirm(bad.tx)).toBe('refused sync/forbidden');
    await until(async () => asked.length === 1, 'the rejected event');
    expect(await asked[0]).toBe('refused sync/forbidden');
  });

  it('work offline keeps showing pending count: a client without a server reports stopped with its outbox', async () => {
    const a = client();
    const seen: number[] = [];
    a.on((e) => e.type === 'sync' && seen.push(e.status.pending));
    await a.ready;
    expect(await a.syncStatus()).toMatchObject({ state: 'stopped', online: false, pending: 0, lastError: null });
    await a.transact([{ ':item/title': 'one' }]);
    await a.transact([{ ':item/title': 'two' }]);
    expect(await a.syncStatus()).toMatchObject({ state: 'stopped', pending: 2 });
    await until(async () => seen.at(-1) === 2, 'a sync event with the pending count');
  });
});
