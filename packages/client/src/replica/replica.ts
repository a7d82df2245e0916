/**
 * The client replica: an op set under the merge rules ({@link MergeState}), its HLC, its store,
 * the outbox, and the materialised database kept in a dataflow connection so registered queries
 * update incrementally. Implements {@link SyncTarget} for the sync module.
 *
 * Every mutating call runs on one serial queue, so store writes, state changes and emitted
 * batches happen in one order. Entity ids are global strings on disk and on the wire and are
 * interned to small integers (in order of first appearance) inside the database.
 */
import {
  Datom,
  DataloomError,
  HlcClock,
  MergeState,
  TX0,
  checkEnvelope,
  fromWireValue,
  initDb,
  kw,
  newReplicaId,
  parseHlc,
  translateTx,
  type DatomChange,
  type Db,
  type GlobalId,
  type HlcString,
  type Op,
  type TxEnvelope,
  type VisibleDatom,
  type WireValue,
  wireValueKey,
} from '@dataloom/core';
import { createConn, type Conn } from '@dataloom/dataflow';
import type { DerivedSnapshot, ReplicaStore, StoreMeta } from '../store/types.js';
import { MemoryStore } from '../store/memory.js';
import type {
  ChangeOrigin,
  LocalTxResult,
  ReplicaEventMap,
  ReplicaEventName,
  ServerCursor,
  SyncTarget,
  Unsubscribe,
  WireError,
} from './types.js';

export interface ReplicaOptions {
  /** Schema input (DataScript style), shared by the merge rules and the database. */
  schema?: unknown;
  /** Where to persist; default an in-memory store. */
  store?: ReplicaStore;
  /** Wall clock for the HLC (tests). */
  now?: () => number;
  /** HLC drift bound for remote stamps, ms. */
  maxDriftMs?: number;
  /** Replica id for a fresh store (default random). Ignored when the store already has one. */
  replicaId?: string;
  /**
   * Fold the log into one snapshot record after this many appended batches (default 1000, but 0
   * for a memory store, where there is no cold start to speed up; `0` disables). Keeps cold
   * start to a few large reads.
   */
  compactEvery?: number;
  /**
   * Several tabs share the store: each session gets its own replica id
   * (`<stored id>_<random>`), so two tabs never issue the same HLC stamp or op id.
   */
  sessionIds?: boolean;
}

/** A `localTransact` call waiting in a group-commit batch. */
interface LocalItem {
  txData: unknown;
  draft: string | undefined;
  resolve: (r: LocalTxResult & { persisted: boolean }) => void;
  reject: (e: unknown) => void;
}

/** A batch of visible changes, as the runtime forwards it to views and other tabs. */
export interface ChangeBatch {
  origin: ChangeOrigin;
  txs: HlcString[];
  /** Database tx id of the batch. */
  txId: number;
  changes: DatomChange[];
}

function toWireError(e: WireError | DataloomError): WireError {
  return e instanceof DataloomError ? e.toWire() : e;
}

/** What a replica wrote to its store (multi-tab announcements hang off this). */
export type PersistedEvent =
  | { kind: 'local'; envelope: TxEnvelope }
  | { kind: 'remote'; envelopes: TxEnvelope[]; cursor: ServerCursor | null }
  | { kind: 'reject'; tx: HlcString; error: WireError };

export class Replica implements SyncTarget {
  private readonly persistedListeners = new Set<(e: PersistedEvent) => void>();
  private state: MergeState;
  private clock!: HlcClock;
  private store: ReplicaStore;
  private outboxList: TxEnvelope[] = [];
  private cursorValue: ServerCursor | null = null;
  private id = '';
  private chain: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Map<ReplicaEventName, Set<(p: never) => void>>();
  private readonly batchListeners = new Set<(b: ChangeBatch) => void>();
  /** Global id ↔ database integer id. */
  private readonly eids = new Map<GlobalId, number>();
  private readonly gids: GlobalId[] = [''];
  private txCounter = TX0;
  /** Database tx id → HLC of the newest op of that batch. */
  private readonly txHlc = new Map<number, HlcString>();
  /** Draft envelopes (not part of the committed view), by draft id. */
  private readonly drafts = new Map<string, TxEnvelope[]>();
  private offFault: () => void = () => {};
  private closed = false;
  /** True once the replica fell back to memory after a storage fault. */
  private degraded = false;
  /** The dataflow connection holding the materialised database (see {@link conn}). */
  private dataflow: Conn;
  /**
   * Visible changes merged into the op set but not yet applied to the dataflow connection: batches
   * are coalesced into one dataflow transaction (see {@link flushDataflow}).
   */
  private pendingDatoms: Datom[] = [];
  private pendingTxId = 0;
  private pendingNewest = '';
  /** Whether the pending datoms include a local/tab/rollback batch (flushed when the queue idles). */
  private pendingUrgent = false;
  private flushTimer = false;
  /** Jobs in the serial queue (running or waiting). */
  private queued = 0;
  /** Acknowledged txs not yet written to the store (see {@link ack}). */
  private pendingAcks: HlcString[] = [];
  /** The local-transaction batch still waiting in the queue, which new calls join. */
  private localBatch: LocalItem[] | null = null;
  readonly ready: Promise<void>;
  /**
   * Resolves when {@link db} can answer queries: at once after a cold start from a valid derived
   * snapshot (the op set is still being merged; writes wait for {@link ready}), else with `ready`.
   */
  readonly readable: Promise<void>;
  private resolveReadable!: () => void;
  private lastRead = 0;

  /** Readers call this so a cold start defers its merge while the app is still reading. */
  noteRead(): void {
    this.lastRead = Date.now();
  }
  /**
   * The effective schema: the app's schema plus schema-as-data found in the stored ops (the
   * server writes attributes as entities with `db/ident`, `db/valueType`, …; those win).
   * Schema ops arriving while running are merged as data and take effect on the next load.
   */
  schema: unknown;

  constructor(private readonly options: ReplicaOptions = {}) {
    this.schema = options.schema ?? {};
    this.state = new MergeState(this.schema);
    this.store = options.store ?? new MemoryStore();
    this.dataflow = createConn(this.schema as never);
    this.readable = new Promise((r) => (this.resolveReadable = r));
    this.ready = this.enqueue(() => this.load());
  }

  // ------------------------------------------------------------------ SyncTarget

  get replicaId(): string {
    return this.id;
  }

  cursor(): ServerCursor | null {
    return this.cursorValue;
  }

  outbox(): TxEnvelope[] {
    return this.outboxList.slice();
  }

  on<K extends ReplicaEventName>(event: K, fn: (payload: ReplicaEventMap[K]) => void): Unsubscribe {
    let s = this.listeners.get(event);
    if (!s) this.listeners.set(event, (s = new Set()));
    s.add(fn as (p: never) => void);
    return () => s!.delete(fn as (p: never) => void);
  }

  /** Subscribes to the replica's own durable writes (after they completed). */
  onPersisted(fn: (e: PersistedEvent) => void): Unsubscribe {
    this.persistedListeners.add(fn);
    return () => this.persistedListeners.delete(fn);
  }

  private tap(e: PersistedEvent): void {
    for (const fn of this.persistedListeners) fn(e);
  }

  /** Subscribes to every applied batch of visible changes (the runtime feeds views and tabs). */
  onBatch(fn: (b: ChangeBatch) => void): Unsubscribe {
    this.batchListeners.add(fn);
    return () => this.batchListeners.delete(fn);
  }

  /**
   * Local transactions are group-committed: calls made while a batch is still waiting in the
   * queue (no other job queued after it) join that batch; the job translates and merges them one
   * after the other (each sees the previous ones), writes all envelopes in one storage
   * transaction, and only then resolves each call — so every call still resolves only once its
   * envelope is durable in the outbox. A call whose input is bad is rejected alone; a failed write
   * undoes the whole batch's merge and rejects every call in it.
   */
  localTransact(txData: unknown, options: { draft?: string } = {}): Promise<LocalTxResult & { persisted: boolean }> {
    return new Promise((resolve, reject) => {
      const item: LocalItem = { txData, draft: options.draft, resolve, reject };
      if (this.localBatch) {
        this.localBatch.push(item);
        return;
      }
      const batch = [item];
      this.enqueue(() => this.commitLocal(batch)).catch((e) => {
        for (const it of batch) it.reject(e);
      });
      this.localBatch = batch;
    });
  }

  private async commitLocal(batch: LocalItem[]): Promise<void> {
    if (this.localBatch === batch) this.localBatch = null;
    const done: Array<{ item: LocalItem; envelope: TxEnvelope; tempids: Record<string, GlobalId>; changes: DatomChange[] | null }> = [];
    for (const item of batch) {
      try {
        const stamp = this.clock.now();
        const { envelope, tempids } = translateTx(this.state, item.txData, {
          stamp,
          resolveInt: (n) => this.gids[n] ?? null,
        });
        if (item.draft !== undefined) envelope.draft = item.draft;
        const changes = envelope.draft !== undefined ? null : this.state.apply(envelope.ops, { validate: false });
        done.push({ item, envelope, tempids, changes });
      } catch (e) {
        item.reject(e);
      }
    }
    if (done.length === 0) return;
    this.opsVersion++;
    const envelopes = done.map((d) => d.envelope);
    let persisted: boolean;
    try {
      persisted = await this.persist('putLocal', async (s) => {
        if (s.putLocals) await s.putLocals(envelopes, this.meta());
        else for (const e of envelopes) await s.putLocal(e, this.meta());
      });
    } catch (e) {
      for (let i = done.length - 1; i >= 0; i--) if (done[i]!.changes) this.state.remove(done[i]!.envelope.ops.map((o) => o.id));
      this.opsVersion++;
      throw e;
    }
    for (const { envelope, changes } of done) {
      this.outboxList.push(envelope);
      this.tap({ kind: 'local', envelope });
      if (changes === null) this.addDraft(envelope);
      else this.emitBatch('local', [envelope.tx], changes);
    }
    // the calls resolve before this job ends: views must already show the batch (see flushDataflow)
    if (this.queued === 1) this.flushDataflow();
    for (const { item, envelope, tempids } of done) item.resolve({ tx: envelope.tx, envelope, tempids, persisted });
  }

  /**
   * Acknowledgements are persisted lazily, in batches (one storage transaction for every ack of a
   * macrotask, before any later compaction or close): losing one in a crash only means the
   * envelope is still in the stored outbox after a reload and is sent again, which the server
   * deduplicates (see {@link SyncTarget} invariant 2).
   */
  ack(tx: HlcString, cursor: ServerCursor | null = null): Promise<void> {
    return this.enqueue(async () => this.ackNow([{ tx, cursor }]));
  }

  /**
   * `ack` for several transactions in one queue job: the same effect as calling {@link ack} for
   * each, in order (same lazy, batched persistence; one `acked` event per transaction), without
   * the per-call overhead. Unknown txs are skipped.
   */
  ackMany(acks: ReadonlyArray<{ tx: HlcString; cursor?: ServerCursor | null }>): Promise<void> {
    return this.enqueue(async () => this.ackNow(acks));
  }

  /** Drops acknowledged txs from the outbox and queues their persistence (inside a queue job). */
  private ackNow(acks: ReadonlyArray<{ tx: HlcString; cursor?: ServerCursor | null }>): void {
    const acked: Array<{ tx: HlcString; cursor: ServerCursor | null }> = [];
    if (acks.length === 1) {
      const tx = acks[0]!.tx;
      const i = this.outboxList.findIndex((e) => e.tx === tx);
      if (i < 0) return;
      this.noteLogAppend(this.outboxList[i]!.ops.length);
      this.outboxList.splice(i, 1);
      acked.push({ tx, cursor: acks[0]!.cursor ?? null });
    } else {
      const want = new Set(acks.map((a) => a.tx));
      const keep: TxEnvelope[] = [];
      const found = new Set<HlcString>();
      for (const e of this.outboxList) {
        if (want.has(e.tx) && !found.has(e.tx)) {
          found.add(e.tx);
          this.noteLogAppend(e.ops.length);
        } else keep.push(e);
      }
      if (found.size === 0) return;
      this.outboxList = keep;
      for (const a of acks) if (found.delete(a.tx)) acked.push({ tx: a.tx, cursor: a.cursor ?? null });
    }
    const wasEmpty = this.pendingAcks.length === 0;
    for (const a of acked) this.pendingAcks.push(a.tx);
    if (wasEmpty) nextMacrotask(() => void this.enqueue(() => this.flushAcks()).catch(() => {}));
    for (const a of acked) this.emit('acked', a);
  }

  /** Writes the pending acknowledgements (inside a queue job). */
  private async flushAcks(): Promise<void> {
    if (this.pendingAcks.length === 0) return;
    const txs = this.pendingAcks;
    this.pendingAcks = [];
    try {
      await this.persist('ack', async (s) => {
        if (s.acks) await s.acks(txs);
        else for (const t of txs) await s.ack(t);
      });
    } catch {
      /* the envelopes stay in the stored outbox: re-sent after a reload, deduplicated */
    }
  }

  reject(tx: HlcString, error: WireError | DataloomError): Promise<void> {
    return this.enqueue(async () => {
      const i = this.outboxList.findIndex((e) => e.tx === tx);
      if (i < 0) return;
      const envelope = this.outboxList[i]!;
      await this.persist('reject', (s) => s.reject(tx));
      this.outboxList.splice(i, 1);
      if (envelope.draft !== undefined) {
        const list = this.drafts.get(envelope.draft);
        if (list) this.drafts.set(envelope.draft, list.filter((e) => e.tx !== tx));
      } else {
        this.emitBatch('rollback', [tx], this.state.remove(envelope.ops.map((o) => o.id)));
      }
      this.tap({ kind: 'reject', tx, error: toWireError(error) });
      this.emit('rejected', { tx, envelope, error: toWireError(error) });
    });
  }

  applyRemote(envelopes: readonly TxEnvelope[], cursor: ServerCursor | null): Promise<void> {
    return this.enqueue(async () => {
      for (const env of envelopes) checkEnvelope(env);
      const fresh: Op[] = [];
      const txs: HlcString[] = [];
      const draftEnvs: TxEnvelope[] = [];
      for (const env of envelopes) {
        try {
          this.clock.receive(env.tx);
        } catch (e) {
          if (e instanceof DataloomError && e.code === 'hlc/drift') this.emit('clock-drift', { tx: env.tx, error: e.toWire() });
          else throw e;
        }
        if (env.draft !== undefined) {
          draftEnvs.push(env);
          continue;
        }
        let any = false;
        for (const op of env.ops) {
          if (!this.state.has(op.id)) {
            fresh.push(op);
            any = true;
          }
        }
        if (any) txs.push(env.tx);
      }
      const draftOps = draftEnvs.flatMap((e) => e.ops.map((o) => ({ ...o, draft: e.draft })));
      await this.persist('putRemote', (s) => s.putRemote([...fresh, ...(draftOps as Op[])], { ...this.meta(), cursor }));
      if (fresh.length || draftOps.length) this.noteLogAppend(fresh.length + draftOps.length);
      this.cursorValue = cursor;
      this.tap({ kind: 'remote', envelopes: [...envelopes], cursor });
      for (const d of draftEnvs) this.addDraft(d);
      if (fresh.length) this.emitBatch('remote', txs, this.state.apply(fresh, { validate: false }));
    });
  }

  // ------------------------------------------------------------------ other tabs

  /**
   * Another tab of this app (same store) made a local transaction and persisted it in the shared
   * outbox: merge its ops and track it as pending. Nothing is written.
   */
  applyPeerLocal(envelope: TxEnvelope): Promise<void> {
    return this.enqueue(async () => {
      checkEnvelope(envelope);
      try {
        this.clock.receive(envelope.tx);
      } catch {
        /* drift: merged, not adopted */
      }
      if (!this.outboxList.some((e) => e.tx === envelope.tx)) {
        this.outboxList.push(envelope);
        this.outboxList.sort((x, y) => (x.tx < y.tx ? -1 : x.tx > y.tx ? 1 : 0));
      }
      if (envelope.draft !== undefined) this.addDraft(envelope);
      else this.emitBatch('tab', [envelope.tx], this.state.apply(envelope.ops.filter((o) => !this.state.has(o.id)), { validate: false }));
    });
  }

  /** The syncing tab persisted remote envelopes: merge them (nothing written). */
  applyPeerRemote(envelopes: readonly TxEnvelope[], cursor: ServerCursor | null): Promise<void> {
    return this.enqueue(async () => {
      const fresh: Op[] = [];
      const txs: HlcString[] = [];
      for (const env of envelopes) {
        checkEnvelope(env);
        try {
          this.clock.receive(env.tx);
        } catch {
          /* drift */
        }
        if (env.draft !== undefined) {
          this.addDraft(env);
          continue;
        }
        const ops = env.ops.filter((o) => !this.state.has(o.id));
        if (ops.length) {
          fresh.push(...ops);
          txs.push(env.tx);
        }
      }
      this.cursorValue = cursor;
      if (fresh.length) this.emitBatch('tab', txs, this.state.apply(fresh, { validate: false }));
    });
  }

  /** The syncing tab recorded an acknowledgement: drop `tx` from the pending list. */
  applyPeerAck(tx: HlcString): Promise<void> {
    return this.enqueue(async () => {
      const i = this.outboxList.findIndex((e) => e.tx === tx);
      if (i >= 0) this.outboxList.splice(i, 1);
    });
  }

  /** The syncing tab recorded a rejection: roll `tx` back here too. */
  applyPeerReject(tx: HlcString, error: WireError): Promise<void> {
    return this.enqueue(async () => {
      const i = this.outboxList.findIndex((e) => e.tx === tx);
      if (i < 0) return;
      const envelope = this.outboxList[i]!;
      this.outboxList.splice(i, 1);
      if (envelope.draft === undefined) this.emitBatch('rollback', [tx], this.state.remove(envelope.ops.map((o) => o.id)));
      this.emit('rejected', { tx, envelope, error });
    });
  }

  // ------------------------------------------------------------------ reading

  /**
   * The dataflow connection (views: `conn.register(…)`). Reading it applies pending changes first,
   * so the database and every view reflect all merged batches.
   */
  get conn(): Conn {
    this.flushDataflow();
    return this.dataflow;
  }

  /** The current database value (entity ids are interned integers). */
  db(): Db {
    return this.conn.db();
  }

  /**
   * Applies the pending visible changes to the dataflow connection as one transaction (views get
   * one diff batch, tagged with the id of the newest coalesced batch). Batches are coalesced like
   * this: a job of the serial queue that leaves no other job queued behind it flushes before it
   * resolves when it made local/tab/rollback changes (so `await transact(...)` then reading a
   * view sees the write), while a burst of queued jobs is applied once at its end; remote-only
   * changes are flushed on the next macrotask, so envelopes the sync client delivers message by
   * message within one I/O turn become one dataflow transaction. Any read of {@link conn} or
   * {@link db} flushes first.
   */
  flushDataflow(): void {
    if (this.pendingDatoms.length === 0) return;
    const datoms = this.pendingDatoms;
    const txId = this.pendingTxId;
    if (this.pendingNewest) this.txHlc.set(txId, this.pendingNewest);
    this.pendingDatoms = [];
    this.pendingNewest = '';
    this.pendingUrgent = false;
    this.dataflow.applyDatoms(datoms, txId);
  }

  private settleDataflow(): void {
    if (this.pendingDatoms.length === 0) return;
    if (this.pendingUrgent) {
      this.flushDataflow();
      return;
    }
    if (this.flushTimer) return;
    this.flushTimer = true;
    nextMacrotask(() => {
      this.flushTimer = false;
      if (!this.closed) this.flushDataflow();
    });
  }

  /** The merge state (global ids, visible datoms, op set). */
  merged(): MergeState {
    return this.state;
  }

  /** Integer id of a global id (allocating one if new). */
  eid(gid: GlobalId): number {
    let n = this.eids.get(gid);
    if (n === undefined) {
      n = this.gids.length;
      this.gids.push(gid);
      this.eids.set(gid, n);
    }
    return n;
  }

  /** Global id of an integer entity id, or null. */
  gid(eid: number): GlobalId | null {
    return this.gids[eid] ?? null;
  }

  /** HLC of a database tx id (batches), or null. */
  hlcOfTx(txId: number): HlcString | null {
    return this.txHlc.get(txId) ?? null;
  }

  /** Draft envelopes held for `draft`. */
  draftEnvelopes(draft: string): TxEnvelope[] {
    return (this.drafts.get(draft) ?? []).slice();
  }

  /**
   * The database as of HLC `t` (inclusive): the merge of every op with `tx ≤ t`. Accepts an HLC
   * string or a wall-clock `Date`/ms (then: every op stamped at or before that millisecond).
   */
  asOf(t: HlcString | Date | number): Db {
    const bound = this.bound(t);
    return this.dbOf([...this.state.allOps()].filter((o) => o.tx <= bound));
  }

  /** The database of datoms whose deciding op is newer than `t` (Datomic's `since`). */
  since(t: HlcString | Date | number): Db {
    const bound = this.bound(t);
    return this.datomsToDb([...this.state.datoms()].filter((d) => d.tx > bound));
  }

  /**
   * The history database: every visible-state transition, oldest first, as `[e, a, v, tx, added]`
   * tuples — `e` the interned integer id, `a` a keyword, `v` the value (refs as integer ids),
   * `tx` the **HLC string** of the op that caused the transition (not an integer tx id), `added`
   * true for an assertion, false for a retraction (including those caused by a later
   * cardinality-one write, a `retractEntity` tombstone, or a merge of an older remote op that
   * displaced a value).
   *
   * The array is a data source for `@dataloom/query`'s `q` as it stands (a collection of tuples,
   * as DataScript allows), so patterns of up to five elements match it like Datomic's history db:
   * `q('[:find ?v ?added :where [?e :todo/title ?v ?tx ?added]]', replica.history())`.
   * Being a plain collection, it does not resolve lookup refs or idents in patterns, and
   * entity-level functions (`pull`, `get-else`, `missing?`) need a database source.
   */
  history(): Array<[number, unknown, unknown, HlcString, boolean]> {
    if (this.historyCache && this.historyCache.version === this.opsVersion) return this.historyCache.rows.slice();
    const ops = [...this.state.allOps()].sort((x, y) => (x.tx < y.tx ? -1 : x.tx > y.tx ? 1 : x.id < y.id ? -1 : 1));
    const replay = new MergeState(this.state.schema);
    const rows: Array<[number, unknown, unknown, HlcString, boolean]> = [];
    let i = 0;
    while (i < ops.length) {
      const tx = ops[i]!.tx;
      let j = i;
      while (j < ops.length && ops[j]!.tx === tx) j++;
      for (const c of replay.apply(ops.slice(i, j), { validate: false })) {
        rows.push([this.eid(c.e), kw(c.a), this.value(c), tx, c.added]);
      }
      i = j;
    }
    this.historyCache = { version: this.opsVersion, rows };
    return rows.slice();
  }

  /** Bumped whenever the op set may have changed (history rows are cached per version). */
  private opsVersion = 0;
  private historyCache: { version: number; rows: Array<[number, unknown, unknown, HlcString, boolean]> } | null = null;

  /** Encoded snapshot of the merge state (identical bytes for identical op sets). */
  encodeSnapshot(): Uint8Array {
    return this.state.encodeSnapshot();
  }

  /** Which store backs the replica now (`memory` after a fallback). */
  storageKind(): string {
    return this.store.kind;
  }

  /**
   * Compaction: writes one snapshot of all acknowledged ops and empties the log. With a stable
   * `frontier` (an HLC below which no op will ever arrive again — the server can tell), ops
   * superseded below it are dropped first (`MergeState.supersededBelow`); the frontier is clamped
   * below the oldest pending local transaction. Visible state is unchanged; `asOf` before the
   * frontier no longer sees dropped ops. Returns how many ops were dropped.
   */
  compact(options: { frontier?: HlcString } = {}): Promise<number> {
    return this.enqueue(async () => {
      await this.flushAcks();
      this.opsVersion++;
      let dropped = 0;
      if (options.frontier !== undefined) {
        let frontier = options.frontier;
        for (const e of this.outboxList) if (e.tx < frontier) frontier = e.tx;
        const ids = this.state.supersededBelow(frontier);
        const removed = ids.map((id) => this.state.getOp(id)!);
        const changes = this.state.remove(ids);
        if (changes.length) {
          // would be a bug in supersededBelow: undo and refuse rather than corrupt
          this.state.apply(removed, { validate: false });
          throw new DataloomError('replica/compaction', 'compaction would change visible state; skipped', { frontier });
        }
        dropped = ids.length;
      }
      const pending = new Set(this.outboxList.flatMap((e) => e.ops.map((o) => o.id)));
      const ops = [...this.state.allOps()].filter((o) => !pending.has(o.id));
      const derived: DerivedSnapshot = {
        outbox: this.outboxList.map((e) => e.tx),
        datoms: [...this.state.datoms()].map((d) => [d.e, d.a, d.v, d.tx]),
      };
      await this.persist('compact', (s) => s.compact(ops, derived));
      return dropped;
    });
  }

  async close(): Promise<void> {
    await this.enqueue(async () => {
      await this.flushAcks();
      this.closed = true;
      this.offFault();
      await this.store.close();
    });
  }

  // ------------------------------------------------------------------ internals

  private logAppends = 0;

  private logOps = 0;

  /**
   * Counts log batches and ops; past `compactEvery` batches or 10 × that many ops since the last
   * compaction, schedules one in the background (it also writes the derived snapshot that makes
   * the next cold start read-ready early).
   */
  private noteLogAppend(ops = 1): void {
    const every = this.options.compactEvery ?? (this.store.kind === 'memory' ? 0 : 1000);
    this.logOps += ops;
    if (every <= 0 || (++this.logAppends < every && this.logOps < every * 10)) return;
    this.logAppends = 0;
    this.logOps = 0;
    void this.compact().catch(() => {});
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    this.queued++;
    // a job queued behind an open local batch closes it (later transactions follow this job)
    this.localBatch = null;
    const run = this.chain.then(async () => {
      try {
        if (this.closed) throw new DataloomError('replica/closed', 'the replica is closed', {});
        return await fn();
      } finally {
        if (--this.queued === 0) this.settleDataflow();
      }
    });
    this.chain = run.catch(() => {});
    return run;
  }

  private meta(): StoreMeta {
    const replicaId = this.options.sessionIds ? this.id.slice(0, this.id.lastIndexOf('_')) : this.id;
    return { replicaId, hlc: this.clock.state(), cursor: this.cursorValue };
  }

  private async load(): Promise<void> {
    try {
      await this.loadInner();
    } finally {
      this.resolveReadable();
    }
  }

  /**
   * Fast path of a cold start: when the store holds a still-valid derived snapshot, build the
   * database from it and open {@link readable} before the op set is merged. Returns the derived
   * rows (to check against the merged state later) or null.
   */
  private async loadDerivedFirst(): Promise<DerivedSnapshot | null> {
    let derived: DerivedSnapshot | null = null;
    try {
      derived = await this.store.loadDerived();
    } catch {
      return null;
    }
    if (!derived) return null;
    const pseudo = derived.datoms.map(([e, a, v, tx]) => ({ id: tx, tx, e, op: 'add' as const, a, v }));
    const effective = schemaWithData(this.schema, pseudo);
    if (effective !== this.schema) {
      this.schema = effective;
      this.state = new MergeState(effective);
    }
    const txId = ++this.txCounter;
    const eid = (g: GlobalId) => this.eid(g);
    this.dataflow = createConn(
      initDb(
        derived.datoms.map(([e, a, v]) => new Datom(eid(e), kw(a), fromWireValue(v, eid) as never, txId, true)),
        this.schema as never,
      ),
    );
    this.resolveReadable();
    // Let the app's first reads (initial queries, watches) run before the long merge: wait until
    // reads have been quiet for 30 ms, at most 1 s.
    const start = Date.now();
    this.lastRead = start;
    while (Date.now() - this.lastRead < 30 && Date.now() - start < 1000) await new Promise((r) => setTimeout(r, 10));
    return derived;
  }

  private async loadInner(): Promise<void> {
    const derived = await this.loadDerivedFirst();
    let st;
    try {
      st = await this.store.load();
    } catch (e) {
      const err = e instanceof DataloomError ? e : new DataloomError('storage/failed', String(e), {});
      await this.fallback(err, []);
      st = await this.store.load();
    }
    const baseId = st.meta?.replicaId ?? this.options.replicaId ?? newReplicaId();
    this.id = this.options.sessionIds ? baseId.slice(0, 40) + '_' + newReplicaId().slice(0, 8) : baseId;
    this.clock = new HlcClock(this.id, {
      ...(this.options.now ? { now: this.options.now } : {}),
      ...(this.options.maxDriftMs !== undefined ? { maxDriftMs: this.options.maxDriftMs } : {}),
      initial: st.meta?.hlc ?? null,
    });
    this.cursorValue = st.meta?.cursor ?? null;
    const committed: Op[] = [];
    const pushOp = (o: Op & { draft?: string }) => {
      if (o.draft !== undefined) {
        const { draft, ...op } = o;
        this.addDraft({ tx: op.tx, replica: parseHlc(op.tx).replica, ops: [op], draft });
      } else committed.push(o);
    };
    for (const o of st.snapshot) pushOp(o);
    for (const batch of st.log) for (const o of batch) pushOp(o);
    this.outboxList = st.outbox;
    this.logAppends = st.log.length;
    this.logOps = st.log.reduce((n, b) => n + b.length, 0);
    for (const env of st.outbox) {
      if (env.draft !== undefined) this.addDraft(env);
      else committed.push(...env.ops);
    }
    if (derived === null) {
      const effective = schemaWithData(this.schema, committed);
      if (effective !== this.schema) {
        this.schema = effective;
        this.state = new MergeState(effective);
      }
      // bulk path: build the database in one go (initDb) instead of applying datoms one by one
      const initial = this.state.apply(committed, { validate: false });
      const txId = ++this.txCounter;
      this.dataflow = createConn(initDb(initial.map((c) => this.toDatom(c, txId)), this.schema as never));
    } else {
      // the database already answers from the derived snapshot: merge, then correct any drift
      const initial = this.state.apply(committed, { validate: false });
      const key = (e: string, a: string, v: WireValue) => e + '\u0000' + a + '\u0000' + wireValueKey(v);
      const have = new Map<string, [GlobalId, string, WireValue, HlcString]>();
      for (const row of derived.datoms) have.set(key(row[0], row[1], row[2]), row);
      const corrections: DatomChange[] = [];
      for (const c of initial) {
        const k = key(c.e, c.a, c.v);
        if (have.has(k)) have.delete(k);
        else corrections.push(c);
      }
      for (const [e, a, v, tx] of have.values()) corrections.unshift({ e, a, v, tx, added: false });
      if (corrections.length) this.emitBatch('local', [], corrections);
    }
    // stamps stay above every op held (matters for session ids and restored wall clocks)
    let newest = '';
    for (const o of committed) if (o.tx > newest) newest = o.tx;
    if (newest) {
      try {
        this.clock.receive(newest);
      } catch {
        /* a far-future op: merged, not adopted */
      }
    }
    if (!st.meta) await this.persist('putMeta', (s) => s.putMeta(this.meta()));
    this.offFault = this.store.onFault((e) => void this.onStoreFault(e));
  }

  /**
   * Runs a store write; on a storage failure switches to an in-memory store holding the full
   * current state, emits `storage-error`, and retries the write there. Returns whether the write
   * reached the original (persistent) store.
   */
  private async persist(action: string, fn: (s: ReplicaStore) => Promise<void>): Promise<boolean> {
    try {
      await fn(this.store);
      return !this.degraded;
    } catch (e) {
      if (!(e instanceof DataloomError) || !e.code.startsWith('storage/') || this.degraded) throw e;
      await this.fallback(new DataloomError(e.code, e.message, { ...e.data, action }), []);
      await fn(this.store);
      return false;
    }
  }

  private async fallback(error: DataloomError, lost: TxEnvelope[]): Promise<void> {
    const old = this.store;
    this.offFault();
    this.offFault = () => {};
    const mem = new MemoryStore(undefined, { copy: false });
    if (this.id) {
      const pending = new Set(this.outboxList.flatMap((e) => e.ops.map((o) => o.id)));
      await mem.compact([...this.state.allOps()].filter((o) => !pending.has(o.id)));
      for (const env of this.outboxList) await mem.putLocal(env, this.meta());
      await mem.putMeta(this.meta());
    }
    this.store = mem;
    this.degraded = true;
    void old.close().catch(() => {});
    this.emit('storage-error', { error: error.toWire(), fallback: 'memory', lost });
  }

  /** The store noticed it was deleted/evicted: re-persist everything we hold, else fall back. */
  private onStoreFault(e: DataloomError): Promise<void> {
    return this.enqueue(async () => {
      if (e.data.evicted === true && this.store.kind !== 'memory') {
        try {
          const pending = new Set(this.outboxList.flatMap((x) => x.ops.map((o) => o.id)));
          await this.store.compact([...this.state.allOps()].filter((o) => !pending.has(o.id)));
          for (const env of this.outboxList) await this.store.putLocal(env, this.meta());
          await this.store.putMeta(this.meta());
          this.emit('storage-error', { error: e.toWire(), fallback: 'memory', lost: [] });
          return;
        } catch (err) {
          await this.fallback(err instanceof DataloomError ? err : e, []);
          return;
        }
      }
      await this.fallback(e, []);
    }).catch(() => {});
  }

  private addDraft(env: TxEnvelope): void {
    const list = this.drafts.get(env.draft!) ?? [];
    if (!list.some((e) => e.tx === env.tx)) list.push(env);
    this.drafts.set(env.draft!, list);
  }

  private value(c: VisibleDatom): unknown {
    return fromWireValue(c.v, (id) => this.eid(id));
  }

  private toDatom(c: DatomChange, txId: number): Datom {
    return new Datom(this.eid(c.e), kw(c.a), this.value(c) as never, txId, c.added);
  }

  private emitBatch(origin: ChangeOrigin, txs: HlcString[], changes: DatomChange[]): void {
    this.opsVersion++;
    if (changes.length === 0 && txs.length === 0) return;
    const txId = ++this.txCounter;
    let newest = '';
    for (const c of changes) if (c.tx > newest) newest = c.tx;
    for (const t of txs) if (t > newest) newest = t;
    if (newest) this.txHlc.set(txId, newest);
    if (changes.length) {
      // coalesced into one dataflow transaction: see flushDataflow
      for (const c of changes) this.pendingDatoms.push(this.toDatom(c, txId));
      this.pendingTxId = txId;
      if (newest > this.pendingNewest) this.pendingNewest = newest;
      if (origin !== 'remote') this.pendingUrgent = true;
      if (this.queued === 0) this.settleDataflow();
    }
    const batch: ChangeBatch = { origin, txs, txId, changes };
    for (const fn of this.batchListeners) fn(batch);
    this.emit('change', { origin, txs });
  }

  private emit<K extends ReplicaEventName>(event: K, payload: ReplicaEventMap[K]): void {
    const s = this.listeners.get(event);
    if (s) for (const fn of [...s]) (fn as (p: ReplicaEventMap[K]) => void)(payload);
  }

  private bound(t: HlcString | Date | number): string {
    if (typeof t === 'string') return t;
    const ms = typeof t === 'number' ? t : t.getTime();
    // the greatest stamp within that millisecond
    return ms.toString(36).padStart(12, '0') + '-zzzz-~';
  }

  private dbOf(ops: Op[]): Db {
    const s = new MergeState(this.state.schema);
    s.apply(ops, { validate: false });
    return this.datomsToDb([...s.datoms()]);
  }

  private datomsToDb(ds: VisibleDatom[]): Db {
    return initDb(
      ds.map((d) => new Datom(this.eid(d.e), kw(d.a), this.value(d) as never, TX0 + 1, true)),
      this.schema as never,
    );
  }
}

const SCHEMA_PROPS = new Set(['db/valueType', 'db/cardinality', 'db/unique', 'db/isComponent', 'db/index', 'db/doc']);

/**
 * The app schema extended with attributes defined as data in `ops` (entities holding `db/ident`
 * plus schema properties, latest op per property wins). Returns `schema` itself when the ops
 * define nothing.
 */
export function schemaWithData(schema: unknown, ops: readonly Op[]): unknown {
  const byEntity = new Map<string, Map<string, Op>>();
  for (const o of ops) {
    if (o.a === undefined || (o.a !== 'db/ident' && !SCHEMA_PROPS.has(o.a))) continue;
    let m = byEntity.get(o.e);
    if (!m) byEntity.set(o.e, (m = new Map()));
    const prev = m.get(o.a);
    if (!prev || o.id > prev.id) m.set(o.a, o);
  }
  const defs: Record<string, Record<string, unknown>> = {};
  for (const m of byEntity.values()) {
    const ident = m.get('db/ident');
    if (!ident || ident.op !== 'add' || typeof ident.v !== 'object' || !('kw' in ident.v)) continue;
    const props: Record<string, unknown> = {};
    for (const [a, o] of m) {
      if (a === 'db/ident' || o.op !== 'add' || o.v === undefined) continue;
      props[':' + a] = typeof o.v === 'object' && 'kw' in o.v ? ':' + o.v.kw : o.v;
    }
    if (Object.keys(props).length) defs[':' + ident.v.kw] = props;
  }
  if (Object.keys(defs).length === 0) return schema;
  const base: Record<string, unknown> = {};
  const entries = schema instanceof Map ? [...schema] : Object.entries((schema ?? {}) as Record<string, unknown>);
  for (const [k, v] of entries) {
    const name = typeof k === 'string' ? k : String(k);
    base[name.startsWith(':') ? name : ':' + name] = v;
  }
  return { ...base, ...defs };
}

/**
 * Runs `fn` on the next macrotask: `setImmediate` in Node, a `MessageChannel` message in browsers
 * and workers (no 4 ms timer clamping), else a zero timeout.
 */
function nextMacrotask(fn: () => void): void {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown; MessageChannel?: typeof MessageChannel };
  if (g.setImmediate) {
    g.setImmediate(fn);
    return;
  }
  if (g.MessageChannel) {
    const ch = new g.MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      fn();
    };
    ch.port2.postMessage(null);
    return;
  }
  setTimeout(fn, 0);
}
