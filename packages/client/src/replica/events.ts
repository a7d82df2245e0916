/**
 * What a replica tells its listeners: the {@link ReplicaEventMap} events (the sync module's
 * contract), each applied batch of visible changes (views, datom streams), and each durable
 * write it made (the tab bus announces those to the other tabs).
 */
import type { DatomChange, HlcString, TxEnvelope } from '@dataloom/core';
import type { ChangeOrigin, ReplicaEventMap, ReplicaEventName, ServerCursor, Unsubscribe, WireError } from './types.js';

/** A batch of visible changes, as the runtime forwards it to views and other tabs. */
export interface ChangeBatch {
  origin: ChangeOrigin;
  txs: HlcString[];
  /** Database tx id of the batch. */
  txId: number;
  changes: DatomChange[];
}

/** What a replica wrote to its store (multi-tab announcements hang off this). */
export type PersistedEvent =
  | { kind: 'local'; envelope: TxEnvelope }
  | { kind: 'remote'; envelopes: TxEnvelope[]; cursor: ServerCursor | null }
  | { kind: 'reject'; tx: HlcString; error: WireError }
  /**
   * Ops dropped from the op set and the store (a `drop` or `readable` purge, a reset to another
   * log: `remote.ts`), and draft transactions (`[draft, tx]`); `reset`: the cursor was cleared.
   */
  | { kind: 'dropped'; ops: string[]; drafts: Array<[string, HlcString]>; reset: boolean };

export class ReplicaEvents {
  private readonly listeners = new Map<ReplicaEventName, Set<(p: never) => void>>();
  private readonly batchListeners = new Set<(b: ChangeBatch) => void>();
  private readonly persistedListeners = new Set<(e: PersistedEvent) => void>();

  on<K extends ReplicaEventName>(event: K, fn: (payload: ReplicaEventMap[K]) => void): Unsubscribe {
    let s = this.listeners.get(event);
    if (!s) this.listeners.set(event, (s = new Set()));
    s.add(fn as (p: never) => void);
    return () => s!.delete(fn as (p: never) => void);
  }

  emit<K extends ReplicaEventName>(event: K, payload: ReplicaEventMap[K]): void {
    const s = this.listeners.get(event);
    if (s) for (const fn of [...s]) (fn as (p: ReplicaEventMap[K]) => void)(payload);
  }

  onBatch(fn: (b: ChangeBatch) => void): Unsubscribe {
    this.batchListeners.add(fn);
    return () => this.batchListeners.delete(fn);
  }

  batch(b: ChangeBatch): void {
    for (const fn of this.batchListeners) fn(b);
  }

  onPersisted(fn: (e: PersistedEvent) => void): Unsubscribe {
    this.persistedListeners.add(fn);
    return () => this.persistedListeners.delete(fn);
  }

  persisted(e: PersistedEvent): void {
    for (const fn of this.persistedListeners) fn(e);
  }
}
