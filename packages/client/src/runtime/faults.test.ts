import { describe, expect, it } from 'vitest';
import { createClient } from './client.js';
import type { ClientEvent } from './types.js';

describe('createClient without IndexedDB (private mode, Node)', () => {
  it('asked for indexeddb, it reports storage/unavailable and keeps working in memory', async () => {
    expect((globalThis as { indexedDB?: unknown }).indexedDB).toBeUndefined();
    const c = createClient({ name: 'no-idb', schema: {}, storage: 'indexeddb', tabs: false });
    const events: ClientEvent[] = [];
    c.on((e) => e.type !== 'sync' && events.push(e)); // sync: the pending count of a client without a server
    await c.ready;
    await c.transact([{ 'x/y': 1 }]);
    expect(await c.q('[:find ?v . :where [_ :x/y ?v]]')).toBe(1);
    expect(await c.storageKind()).toBe('memory');
    for (let i = 0; i < 50 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(events.map((e) => e.type === 'storage-error' && e.error.code)).toEqual(['storage/unavailable']);
    await c.close();
  });
});
