/**
 * Multi-tab: clients of one app (same IndexedDB database via fake-indexeddb, same
 * BroadcastChannel) share one replica coherently without a server.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { createClient } from '@dataloom/client';
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
