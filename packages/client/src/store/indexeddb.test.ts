import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { IDBFactory } from 'fake-indexeddb';
import { openDB } from 'idb';
import { DataloomError } from '@dataloom/core';
import { IdbStore } from './indexeddb.js';
import { runStoreTests } from './store.suite.js';

let n = 0;
runStoreTests('fake-indexeddb', async () => {
  const name = `store-suite-${n++}`;
  return { open: () => new IdbStore(name), cleanup: () => new IdbStore(name).destroy() };
});

describe('IdbStore faults', () => {
  it('reports storage/unavailable without IndexedDB', async () => {
    const s = new IdbStore('x', { indexedDB: undefined });
    (s as unknown as { factory: unknown }).factory = undefined;
    await expect(s.load()).rejects.toMatchObject({ code: 'storage/unavailable' });
  });

  it('uses a given IDBFactory (isolated databases)', async () => {
    const factory = new IDBFactory();
    const a = new IdbStore('iso', { indexedDB: factory });
    await a.putMeta({ replicaId: 'ra', hlc: { ms: 1, counter: 0 }, cursor: null });
    expect((await new IdbStore('iso').load()).meta).toBeNull(); // the global factory does not see it
    expect((await new IdbStore('iso', { indexedDB: factory }).load()).meta?.replicaId).toBe('ra');
  });

  it('closes on versionchange from another connection and reopens cleanly', async () => {
    const s = new IdbStore('vc');
    await s.putMeta({ replicaId: 'ra', hlc: { ms: 1, counter: 0 }, cursor: 'c0' });
    // another "tab" upgrades the database: it must not be blocked by us
    const other = await openDB('vc', 2, {
      upgrade(db) {
        db.createObjectStore('extra');
      },
    });
    other.close();
    // we were closed; our next call reopens at our version, which is now outdated
    await expect(s.load()).rejects.toMatchObject({ code: 'storage/version' });
  });

  it('reports eviction when the database is deleted under an open store', async () => {
    const s = new IdbStore('ev');
    const faults: DataloomError[] = [];
    s.onFault((e) => faults.push(e));
    await s.putMeta({ replicaId: 'ra', hlc: { ms: 1, counter: 0 }, cursor: 'c0' });
    await new Promise<void>((res, rej) => {
      const r = indexedDB.deleteDatabase('ev');
      r.onsuccess = () => res();
      r.onerror = () => rej(r.error);
    });
    const st = await s.load(); // reopens an empty database
    expect(st.meta).toBeNull();
    expect(faults.map((f) => [f.code, f.data.evicted])).toEqual([['storage/closed', true]]);
  });
});
