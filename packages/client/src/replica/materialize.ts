/**
 * Merge → dataflow: the visible changes the merge rules yield become datoms of the dataflow
 * connection that holds the materialised database and every registered view.
 *
 * **Flush scheduling and remote coalescing.** Batches are not applied one by one: their datoms
 * wait here and are applied as one dataflow transaction (views get one diff batch, tagged with
 * the id of the newest coalesced batch). When the replica's serial queue goes idle, a pending
 * local/tab/rollback batch is applied at once (so `await transact(...)` then reading a view sees
 * the write), while remote-only changes wait for the next macrotask, so envelopes the sync client
 * delivers message by message within one I/O turn become one dataflow transaction. A local
 * transaction flushes itself before it resolves when no other job is queued behind it. Any read
 * of {@link Materializer.conn} flushes first.
 */
import { type Datom, type DatomChange, type HlcString } from '@dataloom/core';
import { initDb, TX0, type Interner } from '@dataloom/core/internals';
import { createConn, type Conn } from '@dataloom/dataflow';
import { nextMacrotask } from './macrotask.js';
import type { ChangeOrigin } from './types.js';

/** What the materializer asks of the replica's serial queue. */
export interface QueueState {
  /** No job running or waiting. */
  idle(): boolean;
  /** The replica is closed (a deferred flush is dropped). */
  closed(): boolean;
}

export class Materializer {
  private dataflow: Conn;
  private txCounter = TX0;
  /** Database tx id → HLC of the newest op of that batch. */
  private readonly txHlc = new Map<number, HlcString>();
  private pending: Datom[] = [];
  private pendingTxId = 0;
  private pendingNewest = '';
  /** Whether the pending datoms include a local/tab/rollback batch (flushed when the queue idles). */
  private pendingUrgent = false;
  private flushTimer = false;

  constructor(
    schema: unknown,
    private readonly ids: Interner,
    private readonly queue: QueueState,
  ) {
    this.dataflow = createConn(schema as never);
  }

  /**
   * Replaces the database with one built in one go from `changes` (cold start: `initDb` instead
   * of applying datoms one by one). Views registered before are dropped with the old connection.
   */
  rebuild(changes: Iterable<DatomChange>, schema: unknown): void {
    const txId = ++this.txCounter;
    const datoms: Datom[] = [];
    for (const c of changes) datoms.push(this.ids.datom(c, txId));
    this.dataflow = createConn(initDb(datoms, schema as never));
  }

  /** The database takes another schema (schema as data learned live, `schema-live.ts`); views stay. */
  setSchema(schema: unknown): void {
    this.flush();
    this.dataflow.replaceSchema(schema as never);
  }

  /**
   * Takes one batch of visible changes: allocates its database tx id (returned), remembers the
   * batch's newest HLC, and queues the datoms for the next flush (see the module docs).
   */
  add(origin: ChangeOrigin, txs: readonly HlcString[], changes: readonly DatomChange[]): number {
    const txId = ++this.txCounter;
    let newest = '';
    for (const c of changes) if (c.tx > newest) newest = c.tx;
    for (const t of txs) if (t > newest) newest = t;
    if (newest) this.txHlc.set(txId, newest);
    if (changes.length) {
      for (const c of changes) this.pending.push(this.ids.datom(c, txId));
      this.pendingTxId = txId;
      if (newest > this.pendingNewest) this.pendingNewest = newest;
      if (origin !== 'remote') this.pendingUrgent = true;
      if (this.queue.idle()) this.settle();
    }
    return txId;
  }

  /** The dataflow connection, with every pending change applied. */
  get conn(): Conn {
    this.flush();
    return this.dataflow;
  }

  /** Applies the pending changes to the dataflow connection as one transaction. */
  flush(): void {
    if (this.pending.length === 0) return;
    const datoms = this.pending;
    const txId = this.pendingTxId;
    if (this.pendingNewest) this.txHlc.set(txId, this.pendingNewest);
    this.pending = [];
    this.pendingNewest = '';
    this.pendingUrgent = false;
    this.dataflow.applyDatoms(datoms, txId);
  }

  /** The queue went idle: flush now (local changes pending) or on the next macrotask (remote only). */
  settle(): void {
    if (this.pending.length === 0) return;
    if (this.pendingUrgent) {
      this.flush();
      return;
    }
    if (this.flushTimer) return;
    this.flushTimer = true;
    nextMacrotask(() => {
      this.flushTimer = false;
      if (!this.queue.closed()) this.flush();
    });
  }

  /** HLC of a database tx id (batches), or null. */
  hlcOfTx(txId: number): HlcString | null {
    return this.txHlc.get(txId) ?? null;
  }
}
