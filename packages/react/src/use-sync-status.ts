import { useCallback, useRef, useSyncExternalStore } from 'react';
import { useClient } from './provider.js';
import type { DataloomSource, SyncStatus } from './source.js';

/** How often a source without `onSyncStatus` is polled. */
const POLL_MS = 1_000;

/**
 * The client's sync state — `{ online, pending, lastError, lastSyncedAt }` — re-rendering when it
 * changes (the returned object keeps its identity while no field changes). `null` for a source
 * that does not sync (no `syncStatus()`, e.g. a local dataflow `conn`).
 */
export function useSyncStatus(): SyncStatus | null {
  const client = useClient();
  const cache = useRef<SyncStatus | null>(null);
  const subscribe = useCallback((onChange: () => void) => subscribeStatus(client, onChange), [client]);
  const getSnapshot = useCallback((): SyncStatus | null => {
    const next = client.syncStatus ? client.syncStatus() : null;
    const prev = cache.current;
    if (next === null || prev === null || !sameStatus(prev, next)) cache.current = next;
    return cache.current;
  }, [client]);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}

function subscribeStatus(client: DataloomSource, onChange: () => void): () => void {
  if (!client.syncStatus) return () => {};
  if (client.onSyncStatus) return client.onSyncStatus(() => onChange());
  const timer = setInterval(onChange, POLL_MS);
  return () => clearInterval(timer);
}

function sameStatus(a: SyncStatus, b: SyncStatus): boolean {
  return (
    a.online === b.online &&
    a.pending === b.pending &&
    (a.lastSyncedAt ?? null) === (b.lastSyncedAt ?? null) &&
    (a.lastError?.code ?? null) === (b.lastError?.code ?? null) &&
    (a.lastError?.message ?? null) === (b.lastError?.message ?? null)
  );
}
