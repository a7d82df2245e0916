/**
 * What the devtools panel (`devtools.tsx`) shows, as hooks and stores an app can also use alone:
 * the client's recent errors (collected from the moment the app opens the client, so a panel
 * opened later shows what happened before), the pending transactions, and the worker's time per
 * dataflow operator.
 */
import { useEffect, useState, useSyncExternalStore } from 'react';
import { useClient } from './provider.js';
import { useSyncStatus } from './use-sync-status.js';

/** One error the log kept. */
export interface LoggedError {
  /** When (ms since epoch). */
  readonly at: number;
  /** The client event it came from (`rejected`, `storage-error`, …; `sync` for the sync status's last error). */
  readonly kind: string;
  readonly code: string;
  readonly message: string;
}

/** The client events the error log listens to (a `@dataloom/client` client has them). */
interface EventSource {
  on?(fn: (e: { type: string; error?: { code: string; message: string }; status?: { lastError?: { code: string; message: string } | null } | null }) => void): () => void;
}

/** A client's recent errors, newest first (at most 20), with `clear()`. */
export interface ErrorLog {
  get(): readonly LoggedError[];
  subscribe(fn: () => void): () => void;
  clear(): void;
  /** Stops listening to the client. */
  stop(): void;
}

/**
 * Starts collecting `client`'s errors: refused transactions, storage faults, clock drift, and sync
 * errors as the status reports them (a refusal reported both ways is kept once). Call it where the
 * client is created, and `stop()` with the client.
 */
export function trackErrors(client: EventSource): ErrorLog {
  let list: readonly LoggedError[] = [];
  const fns = new Set<() => void>();
  let lastSync = '';
  const push = (kind: string, err: { code: string; message: string }) => {
    const top = list[0];
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

/** The log's errors, re-rendering when it changes. */
export function useErrorLog(log: ErrorLog): readonly LoggedError[] {
  return useSyncExternalStore(log.subscribe, log.get, log.get);
}

/** A transaction waiting for the server (`client.pending()`). */
export interface PendingTransaction {
  readonly tx: string;
  /** When it was made (ms since epoch). */
  readonly at: number;
  /** The attributes it touches. */
  readonly attrs: readonly string[];
  readonly draft: string | null;
}

/** The transactions waiting for the server, oldest first, re-read whenever the sync status changes; null before the first answer or without `pending()`. */
export function usePendingTransactions(): readonly PendingTransaction[] | null {
  const client = useClient() as { pending?(): Promise<PendingTransaction[]> };
  const status = useSyncStatus();
  const [rows, setRows] = useState<readonly PendingTransaction[] | null>(null);
  useEffect(() => {
    if (!client.pending) return;
    let live = true;
    client.pending().then(
      (r) => live && setRows(r),
      () => {}, // a closed client has nothing pending to show
    );
    return () => {
      live = false;
    };
  }, [client, status]);
  return rows;
}

/** One dataflow operator's time in the client's worker (`client.operatorTimes()`). */
export interface OperatorTimeInfo {
  readonly label: string;
  /** The query of the watch the operator serves, when the client knows it. */
  readonly query?: string | null;
  readonly kind: string;
  readonly steps: number;
  readonly totalMs: number;
  readonly lastMs: number;
  readonly maxMs: number;
}

/**
 * Times the client's dataflow operators while the component is mounted (timing is off otherwise:
 * it costs two clock reads per operator step) and reads the times every `everyMs`; costliest
 * first. `null` when the client cannot time them (not a `@dataloom/client` client).
 */
export function useOperatorTimes(everyMs = 1_000): readonly OperatorTimeInfo[] | null {
  const client = useClient() as { operatorTimes?(on?: boolean): Promise<OperatorTimeInfo[]> };
  const [rows, setRows] = useState<readonly OperatorTimeInfo[] | null>(client.operatorTimes ? [] : null);
  useEffect(() => {
    const times = client.operatorTimes?.bind(client);
    if (!times) return setRows(null);
    let live = true;
    const read = (on?: boolean) =>
      times(on).then(
        (r) => live && setRows(r),
        () => {}, // closed meanwhile
      );
    void read(true);
    const t = setInterval(() => void read(), everyMs);
    return () => {
      live = false;
      clearInterval(t);
      void times(false).catch(() => {});
    };
  }, [client, everyMs]);
  return rows;
}
