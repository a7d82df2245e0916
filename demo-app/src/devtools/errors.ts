/**
 * The client's recent errors, collected from its events from the moment the app opens it (so the
 * devtools, opened later, show what happened before): refused transactions, storage faults,
 * clock drift, and sync errors as the status reports them. Newest first, at most 20; `clear()`.
 */
import { useSyncExternalStore } from 'react';

export interface LoggedError {
  at: number;
  kind: string;
  code: string;
  message: string;
}

interface EventSource {
  on?(fn: (e: { type: string; error?: { code: string; message: string }; status?: { lastError?: { code: string; message: string } | null } | null }) => void): () => void;
}

export interface ErrorLog {
  get(): readonly LoggedError[];
  subscribe(fn: () => void): () => void;
  clear(): void;
  stop(): void;
}

export function trackErrors(client: EventSource): ErrorLog {
  let list: readonly LoggedError[] = [];
  const fns = new Set<() => void>();
  let lastSync = '';
  const push = (kind: string, err: { code: string; message: string }) => {
    const top = list[0];
    // a refusal arrives as its event and again as the status's lastError: once is enough
    if (top && top.code === err.code && top.message === err.message && Date.now() - top.at < 5_000) return;
    list = [{ at: Date.now(), kind, code: err.code, message: err.message }, ...list].slice(0, 20);
    for (const f of fns) f();
  };
  const stop =
    client.on?.((e) => {
      if (e.type === 'sync') {
        const le = e.status?.lastError;
        const key = le ? `${le.code}\n${le.message}` : '';
        if (le && key !== lastSync) push('sync', le);
        lastSync = key;
      } else if (e.error) push(e.type, e.error);
    }) ?? (() => {});
  return {
    get: () => list,
    subscribe(fn) {
      fns.add(fn);
      return () => fns.delete(fn);
    },
    clear() {
      list = [];
      for (const f of fns) f();
    },
    stop,
  };
}

export function useErrorLog(log: ErrorLog): readonly LoggedError[] {
  return useSyncExternalStore(log.subscribe, log.get, log.get);
}
