/**
 * Multi-tab: clients of one app (same IndexedDB database via fake-indexeddb, same
 * BroadcastChannel) share one replica coherently without a server; `setOffline` in one of them
 * stops syncing for all of them (and for tabs opened later), against a real server.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createClient, type Client } from '@dataloom/client';
import { createServer } from '@dataloom/server';
import { until } from '../sync/support/wait.js';

const schema = { 'item/name': {}, 'item/tags': { ':db/cardinality': ':db.cardinality/many' } };
describe('multi-tab', () => {
  it('a write in one tab reaches the other tab’s watched query; a reload sees both', async () => {
    const name = `tabs-${Date.now()}`;
    const a = createClient({ name, schema, storage: 'indexeddb', tabs: true });
    const b = createClient({ name, schema, storage: 'indexeddb', tabs: true });
    await Promise.all([a.ready, b.ready]);
    const viewB = b.watch('[:find ?n :where [_ :item/name ?n]]');
    await viewB.ready;
    await a.transact([{ 'item/name': 'from A' }]);
    await until(() => (viewB.result() as Set<unknown>).size === 1);
    expect(viewB.result()).toEqual(new Set([['from A']]));
    const viewA = a.watch('[:find ?n :where [_ :item/name ?n]]');
    await viewA.ready;
    await b.transact([{ 'item/name': 'from B' }]);
    await until(() => (viewA.result() as Set<unknown>).size === 2);
    // distinct session replica ids: no stamp collisions between tabs
    expect(await a.q('[:find (count ?e) . :where [?e :item/name]]')).toBe(2);
    await a.close();
    await b.close();
    const c = createClient({ name, schema, storage: 'indexeddb', tabs: true });
    expect(new Set(await c.q('[:find [?n ...] :where [_ :item/name ?n]]') as string[])).toEqual(new Set(['from A', 'from B']));
    await c.close();
  });
});

describe('multi-tab offline', () => {
  it('setOffline in one tab stops every tab of the replica, and holds for a tab opened later', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataloom-tabs-offline-'));
    const server = await createServer({ store: `sqlite:${join(dir, 'log.sqlite')}`, port: 0, schema, onError: () => {} });
    const name = `tabs-offline-${Date.now()}`;
    const open = () => createClient({ name, schema, storage: 'indexeddb', tabs: true, url: server.url, token: 'u', WebSocket: WebSocket as never });
    const state = async (c: Client) => (await c.syncStatus())?.state;
    const tabs: Client[] = [];
    try {
      const a = open();
      const b = open();
      tabs.push(a, b);
      await until(async () => (await state(a)) === 'online' && (await state(b)) === 'online', 'both tabs online');
      expect(server.connections()).toBeGreaterThan(0);
      await a.setOffline(true);
      await until(async () => (await state(a)) === 'stopped' && (await state(b)) === 'stopped', 'both tabs stopped');
      await until(() => server.connections() === 0, 'no connection left');
      // a write in the other tab waits in the shared outbox
      await b.transact([{ 'item/name': 'offline write' }]);
      await until(async () => (await a.syncStatus())?.pending === 1 && (await b.syncStatus())?.pending === 1, 'pending 1 in both tabs');
      // stored with the replica: a tab opened later is offline too, and does not connect
      const c = open();
      tabs.push(c);
      await c.ready;
      expect(await state(c)).toBe('stopped');
      expect(server.connections()).toBe(0);
      expect((await c.pending()).length).toBe(1);
      // back online from that tab: every tab syncs, the write reaches the server
      await c.setOffline(false);
      await until(async () => (await Promise.all(tabs.map(state))).every((s) => s === 'online'), 'all tabs online');
      await until(async () => (await b.syncStatus())?.pending === 0, 'outbox drained');
      const reader = createClient({ name: `${name}-reader`, schema, storage: 'memory', url: server.url, token: 'v', WebSocket: WebSocket as never });
      tabs.push(reader);
      await until(async () => (await reader.q('[:find ?n . :where [_ :item/name ?n]]')) === 'offline write', 'the write reached another replica');
      await expect(a.setOffline('yes' as never)).rejects.toMatchObject({ code: 'client/options' });
    } finally {
      await Promise.all(tabs.map((t) => t.close()));
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
