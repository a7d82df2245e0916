/**
 * Browser side of the IndexedDB smoke test: stores an EDN value with `idb` (bundled from
 * node_modules) and prints/parses it with `@dataloom/core` (bundled from packages/core/src).
 */
import { parseEdn, printEdn } from '@dataloom/core';
import { openDB } from 'idb';

const open = () =>
  openDB('smoke', 1, {
    upgrade(db) {
      db.createObjectStore('kv');
    },
  });

const api = {
  async write(key: string, edn: string): Promise<void> {
    const db = await open();
    // Round-trip through our reader/printer, so the bundle really runs @dataloom/core code.
    await db.put('kv', printEdn(parseEdn(edn)), key);
    db.close();
  },
  async read(key: string): Promise<string | null> {
    const db = await open();
    const v = (await db.get('kv', key)) as string | undefined;
    db.close();
    return v ?? null;
  },
  async persisted(): Promise<boolean> {
    return (await navigator.storage?.persisted?.()) ?? false;
  },
};

(window as unknown as { smoke: typeof api }).smoke = api;
document.body.dataset.ready = 'true';
