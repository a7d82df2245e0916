/**
 * The replica's persistence contract. One interface, several backends (memory, IndexedDB), one
 * shared test suite (`runStoreTests` in `./store.suite.ts`).
 *
 * Layout: `meta` (replica id, HLC state, server cursor), a `snapshot` (acknowledged and remote ops
 * folded into one record), the `log` (batches of ops appended after the snapshot), and the
 * `outbox` (unacknowledged local envelopes). Local ops live only in the outbox until acknowledged;
 * `ack` moves them to the log atomically, `reject` drops them.
 *
 * Invariants every backend keeps:
 * - Each method is atomic: after a crash either all of its writes are visible to `load` or none.
 * - When a write method resolves, the write is durable (IndexedDB: `durability: 'strict'`).
 * - `load` returns the outbox in ascending `tx` order and the log in append order.
 * - A failed write throws a `DataloomError` with a `storage/*` code and changes nothing.
 */
import type { DataloomError, GlobalId, HlcString, Op, TxEnvelope, WireValue } from '@dataloom/core';

/** Replica bookkeeping persisted next to the ops. */
export interface StoreMeta {
  replicaId: string;
  /** Last HLC state (`HlcClock.state()`), so stamps stay monotonic across restarts. */
  hlc: { ms: number; counter: number };
  /** Server cursor covering the remote ops held. */
  cursor: string | null;
  /** The undo and redo stacks (`undo/stacks.ts`), when any is non-empty. */
  undo?: unknown;
}

/** Everything a store holds, as `load` returns it. */
export interface StoredState {
  meta: StoreMeta | null;
  /** Ops of the last snapshot. */
  snapshot: Op[];
  /** Batches appended after the snapshot, oldest first. */
  log: Op[][];
  /** Unacknowledged local envelopes, ascending `tx`. */
  outbox: TxEnvelope[];
}

/**
 * The visible datoms as of a compaction, so a reload can answer queries before the op set is
 * merged again (`Replica.readable`). Valid only while the store still holds exactly the state it
 * was made from: an empty log and the same outbox (stores check this in `loadDerived`).
 */
export interface DerivedSnapshot {
  /** Outbox txs at the time (pending local transactions are part of the visible state). */
  outbox: HlcString[];
  /** `[entity, attribute, value, deciding tx]` rows. */
  datoms: Array<[GlobalId, string, WireValue, HlcString]>;
}

/** Error codes thrown by stores. */
export type StorageErrorCode =
  | 'storage/unavailable' // no IndexedDB (private mode, Node without a shim)
  | 'storage/quota' // QuotaExceededError
  | 'storage/closed' // database deleted, evicted or closed under us
  | 'storage/version' // a newer version of the database exists (this tab is outdated)
  | 'storage/failed'; // anything else

export interface ReplicaStore {
  /** `memory` or `indexeddb`. */
  readonly kind: string;
  /** Reads the whole stored state (opening the store if needed). */
  load(): Promise<StoredState>;
  /** Writes `meta` (when no other write carries it, e.g. a fresh replica). */
  putMeta(meta: StoreMeta): Promise<void>;
  /** Adds a local envelope to the outbox and writes `meta`, atomically and durably. */
  putLocal(envelope: TxEnvelope, meta: StoreMeta): Promise<void>;
  /**
   * Adds several local envelopes to the outbox and writes `meta`, atomically and durably, in one
   * storage transaction (group commit of a burst of transactions). Optional: without it the
   * replica calls {@link putLocal} once per envelope.
   */
  putLocals?(envelopes: readonly TxEnvelope[], meta: StoreMeta): Promise<void>;
  /** Appends a batch of remote ops to the log and writes `meta` (cursor, HLC), atomically. */
  putRemote(ops: Op[], meta: StoreMeta): Promise<void>;
  /** Moves outbox entry `tx` to the log (no-op when absent), atomically. */
  ack(tx: HlcString): Promise<void>;
  /**
   * Moves several outbox entries to the log (absent ones are skipped), atomically, as one log
   * batch. Optional: without it the replica calls {@link ack} once per tx.
   */
  acks?(txs: readonly HlcString[]): Promise<void>;
  /** Deletes outbox entry `tx` (no-op when absent). */
  reject(tx: HlcString): Promise<void>;
  /**
   * Replaces the snapshot with `ops` (and the derived datoms with `derived`, or drops them) and
   * empties the log, atomically (compaction).
   */
  compact(ops: Op[], derived?: DerivedSnapshot | null): Promise<void>;
  /** The derived snapshot if it is still valid (empty log, same outbox txs), else null. */
  loadDerived(): Promise<DerivedSnapshot | null>;
  /**
   * Subscribes to faults noticed outside a call (database deleted or evicted, closed by the
   * browser, version change from another tab). Returns the unsubscribe function.
   */
  onFault(fn: (error: DataloomError) => void): () => void;
  /**
   * A setting of the replica shared by every tab that opens it (e.g. `offline`: the app chose to
   * work offline, see `client.setOffline`), or undefined. Optional: without it settings last as
   * long as the tabs that know them.
   */
  getSetting?(key: string): Promise<unknown>;
  /** Writes the setting `key` (durably; the replicated data is untouched). */
  putSetting?(key: string, value: unknown): Promise<void>;
  /** Releases the store; further calls throw `storage/closed`. */
  close(): Promise<void>;
  /** Deletes all stored data (and closes). */
  destroy(): Promise<void>;
}
