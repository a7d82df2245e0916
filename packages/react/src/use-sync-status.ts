import { useSyncExternalStore } from 'react';
import { useClient } from './provider.js';
import type { DataloomSource, SyncStatus } from './source.js';

/** How often a source that cannot push status changes is polled. */
const POLL_MS = 1_000;

/**
 * The client's sync state — `{ state, online, pending, lastError, lastSyncedAt }` — re-rendering
 * when it changes (the returned object keeps its identity while no field changes). The real client
 * always answers: a second tab reports the leader tab's status (it syncs through it), a client
 * without `url` reports `stopped` with its pending count. `null` for a source without
 * `syncStatus()` (e.g. a dataflow `conn`, or one that answers null), and until an asynchronous
 * `syncStatus()` first answers.
 */
export function useSyncStatus(): SyncStatus | null {
  const store = statusStore(useClient());
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}

interface StatusStore {
  get(): SyncStatus | null;
  subscribe(onChange: () => void): () => void;
}

const stores = new WeakMap<DataloomSource, StatusStore>();

/** One status cache per client, fed by `onSyncStatus`, `on('sync')` events or polling. */
function statusStore(client: DataloomSource): StatusStore {
  let store = stores.get(client);
  if (store) return store;
  let current: SyncStatus | null = null;
  const listeners = new Set<() => void>();
  let stop: (() => void) | null = null;
  const set = (next: SyncStatus | null | undefined) => {
    const n = next ?? null;
    if (n === current || (n !== null && current !== null && sameStatus(n, current))) return;
    current = n === null ? null : { ...n };
    for (const l of [...listeners]) l();
  };
  const read = () => {
    if (!client.syncStatus) return;
    let r: ReturnType<NonNullable<DataloomSource['syncStatus']>>;
    try {
      r = client.syncStatus();
    } catch {
      return;
    }
    if (r instanceof Promise) r.then(set, () => {});
    else set(r);
  };
  const start = () => {
    read();
    if (client.onSyncStatus) return client.onSyncStatus((s) => set(s));
    if (client.on) {
      return client.on((e) => {
        if (e.type === 'sync') set(e.status);
      });
    }
    if (!client.syncStatus) return () => {};
    const timer = setInterval(read, POLL_MS);
    return () => clearInterval(timer);
  };
  read(); // a synchronous source answers before the first render
  store = {
    get: () => current,
    subscribe(onChange) {
      listeners.add(onChange);
      if (listeners.size === 1) stop = start();
      return () => {
        listeners.delete(onChange);
        if (listeners.size === 0 && stop) {
          stop();
          stop = null;
        }
      };
    },
  };
  stores.set(client, store);
  return store;
}

/** Field-by-field equality (`lastError` by code and message), whatever extra fields a client adds. */
function sameStatus(a: SyncStatus, b: SyncStatus): boolean {
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const k of keys) {
    if (k === 'lastError') {
      if ((a.lastError?.code ?? null) !== (b.lastError?.code ?? null)) return false;
      if ((a.lastError?.message ?? null) !== (b.lastError?.message ?? null)) return false;
    } else if (!Object.is(ra[k] ?? null, rb[k] ?? null)) return false;
  }
  return true;
}
