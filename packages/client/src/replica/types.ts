/**
 * The replica's contract with the sync module (`packages/client/src/sync`).
 *
 * A replica holds a *set* of operations ({@link Op}) and materialises the database they denote
 * under the merge rules of DESIGN.md ("Merge rules"). It knows nothing about the network: the sync
 * module drives it through {@link SyncTarget} — it reads the outbox, sends it, then reports
 * acknowledgements and rejections, and feeds in remote operations with the server cursor they
 * bring the replica up to.
 *
 * Invariants (every implementation must keep them; the sync module may rely on them):
 * 1. **Durable before visible to the caller.** `localTransact` resolves only after the envelope
 *    is written to the outbox with strict durability. A crash after it resolves never loses it.
 * 2. **Outbox order.** `outbox()` lists unacknowledged local envelopes in the order they were
 *    made (ascending `tx`, which is also creation order because the HLC is strictly increasing).
 *    Re-sending any prefix is safe: the server deduplicates by op id, and so does the replica.
 * 3. **Idempotence.** `applyRemote` ignores operations whose `id` it already holds; applying the
 *    same envelopes twice (or an echo of the replica's own envelopes) changes nothing.
 * 4. **Order independence.** After any interleaving of `localTransact`, `applyRemote`, `ack` and
 *    `reject`, the materialised state is a function of the set of operations held (local
 *    not-rejected ∪ remote), never of arrival order.
 * 5. **Atomic cursor.** The cursor passed to `applyRemote` is persisted in the same storage
 *    transaction as the operations it covers: after a reload, `cursor()` never claims operations
 *    the log does not hold.
 * 6. **Rollback is a diff.** `reject` removes the envelope's operations from the op set; watched
 *    queries receive the reversing diffs in one batch, like any other transaction.
 */
import type { Limits } from '@dataloom/protocol';
import type { DataloomError, GlobalId, HlcString, TxEnvelope } from '@dataloom/core';

/** Opaque position in the server's log, chosen by the server. The replica only stores it. */
export type ServerCursor = string;

/** A typed error in its wire form (see `DataloomError.toWire`). */
export interface WireError {
  code: string;
  message: string;
  data?: Record<string, unknown>;
}

/** What a local transaction produced. */
export interface LocalTxResult {
  /** The HLC stamp of the transaction; also its identity in `ack`/`reject`. */
  tx: HlcString;
  /** The envelope as persisted in the outbox and as the sync module should send it. */
  envelope: TxEnvelope;
  /** Tempid (string form, e.g. `"-1"` or `"ivan"`) → allocated or upserted global id. */
  tempids: Record<string, GlobalId>;
}

/** Who caused a state change. */
export type ChangeOrigin = 'local' | 'remote' | 'rollback' | 'tab';

/** Events a replica emits. */
export interface ReplicaEventMap {
  /**
   * The materialised state changed (one event per applied batch). A draft transaction (local, or
   * from another tab) also fires it, with its tx: it changes no committed view, but the outbox
   * grew, so the sync client pushes it and counts it as pending.
   */
  change: { origin: ChangeOrigin; txs: HlcString[] };
  /** The server acknowledged a local transaction; it has left the outbox. */
  acked: { tx: HlcString; cursor: ServerCursor | null };
  /** The server rejected a local transaction; its operations were rolled back. */
  rejected: { tx: HlcString; envelope: TxEnvelope; error: WireError };
  /** A remote HLC was too far ahead of the local clock: ops were merged, the clock not adopted. */
  'clock-drift': { tx: HlcString; error: WireError };
  /**
   * Persistent storage failed (quota, database deleted/evicted, no IndexedDB). The replica keeps
   * working in memory from now on. `lost` lists unsynced local envelopes that could not be
   * recovered from storage (e.g. after eviction) — surfaced, never hidden.
   */
  'storage-error': { error: WireError; fallback: 'memory'; lost: TxEnvelope[] };
}

export type ReplicaEventName = keyof ReplicaEventMap;

/** Unsubscribes a listener. */
export type Unsubscribe = () => void;

/**
 * The surface the sync module drives. Implemented by `Replica` (`./replica.ts`).
 *
 * Typical loop of a sync client:
 * ```ts
 * await replica.ready;
 * socket.send({ hello: { replica: replica.replicaId, cursor: replica.cursor() } });
 * for (const env of replica.outbox()) socket.send({ tx: env });
 * replica.on('change', e => { if (e.origin === 'local') sendNewOutboxEntries(); });
 * // on server messages:
 * await replica.ack(tx, cursor);            // acknowledged
 * await replica.reject(tx, wireError);      // rejected: rolled back, 'rejected' event
 * await replica.applyRemote(envs, cursor);  // streamed ops (echoes of our own are no-ops)
 * ```
 */
export interface SyncTarget {
  /** Stable id of this replica (persisted; the `replica` field of its envelopes and HLC stamps). */
  readonly replicaId: string;
  /** Resolves when the replica has loaded its state from storage. Other calls wait for it. */
  readonly ready: Promise<void>;

  /**
   * Resolve `txData` (the Datomic/DataScript transaction language) against the current state into
   * operations stamped with a fresh HLC, persist the envelope in the outbox (strict durability),
   * apply it optimistically, and resolve. Throws a `DataloomError` (state unchanged) on bad input.
   */
  localTransact(txData: unknown, options?: { draft?: string }): Promise<LocalTxResult>;

  /** Unacknowledged local envelopes, oldest first. A snapshot: later transactions do not mutate it. */
  outbox(): TxEnvelope[];

  /**
   * The server durably accepted `tx`: drop it from the outbox (its ops stay in the log).
   * `cursor` is the server's position of that transaction, informational only — it does NOT
   * advance {@link cursor} (ops before it may still be in flight). Unknown `tx` is a no-op.
   */
  ack(tx: HlcString, cursor?: ServerCursor | null): Promise<void>;

  /**
   * The server refused `tx`: remove its operations from the op set and the outbox, emit the
   * reversing diffs to watched queries and a `rejected` event. Unknown `tx` is a no-op.
   */
  reject(tx: HlcString, error: WireError | DataloomError): Promise<void>;

  /**
   * Merge remote envelopes (any order, duplicates allowed, own echoes allowed) and persist
   * `cursor` with them atomically. Advances the HLC past each remote stamp (bounded drift: see the
   * `clock-drift` event). Envelopes with `draft` are stored but not part of the committed view.
   */
  applyRemote(envelopes: readonly TxEnvelope[], cursor: ServerCursor | null): Promise<void>;

  /** The last server cursor persisted by {@link applyRemote}; `null` for a fresh replica. */
  cursor(): ServerCursor | null;

  /**
   * The user may no longer read entities `es` (or attributes `attrs` of entities): drop their
   * operations from memory and storage, emit the reversing diffs. Pending local operations stay
   * (the server judges them). Optional for other sync targets.
   */
  purge?(es: readonly GlobalId[], attrs: ReadonlyArray<readonly [GlobalId, string]>): Promise<void>;

  /**
   * The server's log is not the one {@link cursor} names (`welcome` with `reset`): drop the
   * operations of other replicas received from the old log (memory, views, storage), put this
   * replica's own acknowledged transactions back in the outbox (they are pushed again: nothing
   * its user wrote is lost without the new server's verdict), and clear the cursor. The sync
   * client calls it before anything of the new log is applied. Optional for other sync targets
   * (without it, what came from the old log stays merged).
   */
  resetLog?(): Promise<unknown>;

  /**
   * The entities this replica holds operations of (schema and draft-entity attributes aside), for
   * a `hello`'s `held` list; null when there are more than `max`. Optional.
   */
  held?(max: number): GlobalId[] | null;

  /**
   * The user may read only entities `es` (whole) and attributes `attrs`: drop every other
   * operation (schema `db/*`, draft-entity `draft/*` and pending local ones aside). Optional.
   */
  retain?(es: ReadonlySet<GlobalId>, attrs: ReadonlySet<string>): Promise<void>;

  /**
   * The server announced its limits (at `welcome`): from now on `localTransact` refuses what
   * this server would (the stricter of the replica's own limits and these). Optional.
   */
  serverLimits?(limits: Partial<Limits>): void;

  /** Subscribe to an event; returns the unsubscribe function. */
  on<K extends ReplicaEventName>(event: K, fn: (payload: ReplicaEventMap[K]) => void): Unsubscribe;
}
