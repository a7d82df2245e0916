/**
 * The client replica: an op set under the merge rules (`MergeState`), its HLC, its store, the
 * outbox, and the materialised database kept in a dataflow connection so registered queries
 * update incrementally. Implements {@link SyncTarget} for the sync module.
 *
 * This file is the coordinator: it builds the parts and runs every mutating call as one job of
 * the serial queue (`serial-queue.ts`), so store writes, state changes and emitted batches happen
 * in one order. The paths a transaction takes, each in its own file:
 *
 * | path | file |
 * |---|---|
 * | local transaction (group commit) | `local-tx.ts` |
 * | the server's ack / reject (ack batching, rollback) | `verdicts.ts`, `outbox.ts` |
 * | remote envelopes; `drop` / `readable` purges; a reset to another log | `remote.ts` |
 * | other tabs' writes | `peers.ts` |
 * | visible changes → dataflow (flush scheduling, remote coalescing) | `materialize.ts` |
 * | cold start | `load.ts` (schema as data: core's `schemaWithData`) |
 * | schema as data arriving later (re-merge under the grown schema) | `schema-live.ts` |
 * | `asOf` / `since` / history | `history.ts` |
 * | drafts | `drafts.ts` |
 * | store writes, storage faults, compaction | `durable.ts`, `compaction.ts` |
 *
 * Entity ids are global strings on disk and on the wire, interned to small integers inside the
 * database (`interning.ts`).
 */
import {
  type DataloomError,
  type Datom,
  type DatomChange,
  type Db,
  type GlobalId,
  type HlcString,
  type TxEnvelope,
  type VisibleDatom,
} from '@dataloom/core';
import { Interner, MergeState } from '@dataloom/core/internals';
import type { Conn } from '@dataloom/dataflow';
import { resolveLimits, type Limits } from '@dataloom/protocol';
import { MemoryStore } from '../store/memory.js';
import type { ReplicaStore } from '../store/types.js';
import { compact } from './compaction.js';
import { storeMeta, type ReplicaContext } from './context.js';
import { draftId } from '../drafts/ids.js';
import { Drafts } from './drafts.js';
import { UndoStacks, type UndoMode } from '../undo/stacks.js';
import { Durable } from './durable.js';
import { ReplicaEvents, type ChangeBatch, type PersistedEvent } from './events.js';
import { History, type HistoryRow } from './history.js';
import { GroupCommit, type LocalResult } from './local-tx.js';
import { load } from './load.js';
import { Materializer } from './materialize.js';
import { Outbox } from './outbox.js';
import { peerAck, peerDropped, peerLocal, peerReject, peerRemote } from './peers.js';
import { applyRemote, purge, resetLog, retain } from './remote.js';
import { SerialQueue } from './serial-queue.js';
import type { ReplicaEventMap, ReplicaEventName, ServerCursor, SyncTarget, Unsubscribe, WireError } from './types.js';
import { acknowledge, reject, writeAcks } from './verdicts.js';

export type { ChangeBatch, PersistedEvent } from './events.js';

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
  /**
   * Limits a local transaction must respect (default: the protocol's defaults, which servers use
   * unless configured otherwise). `localTransact` refuses a transaction over a limit with an
   * `ops/limit` error naming it, so nothing over the server's limits ever reaches the outbox.
   */
  limits?: Partial<Limits>;
}

export class Replica implements SyncTarget {
  private readonly ctx: ReplicaContext;
  private readonly local: GroupCommit;
  readonly ready: Promise<void>;
  /**
   * Resolves when {@link db} can answer queries: at once after a cold start from a valid derived
   * snapshot (the op set is still being merged; writes wait for {@link ready}), else with `ready`.
   */
  readonly readable: Promise<void>;

  constructor(options: ReplicaOptions = {}) {
    const schema = options.schema ?? {};
    let openReads!: () => void;
    this.readable = new Promise((r) => (openReads = r));
    const queue = new SerialQueue(() => ctx.view.settle());
    const ids = new Interner();
    const events = new ReplicaEvents();
    const ctx: ReplicaContext = {
      options,
      limits: resolveLimits(options.limits),
      schema,
      merge: new MergeState(schema),
      clock: undefined as never, // set by load()
      id: '',
      cursor: null,
      queue,
      events,
      ids,
      view: new Materializer(schema, ids, { idle: () => queue.size === 0, closed: () => queue.closed }),
      outbox: new Outbox(),
      drafts: new Drafts({ merge: () => ctx.merge, ids, committedDb: () => ctx.view.conn.db() }),
      undo: new UndoStacks(),
      history: new History({ merge: () => ctx.merge, schema: () => ctx.schema }, ids),
      durable: new Durable(
        options.store ?? new MemoryStore(),
        {
          holdings: () => {
            if (!ctx.id) return null;
            const pending = ctx.outbox.pendingOpIds();
            const ops = [...ctx.merge.allOps()].filter((o) => !pending.has(o.id));
            ops.push(...ctx.drafts.storedOps(pending));
            return { ops, outbox: ctx.outbox.snapshot(), meta: storeMeta(ctx) };
          },
          fault: (error, lost) => events.emit('storage-error', { error: error.toWire(), fallback: 'memory', lost }),
          run: (job) => queue.run(job),
          compact: () => void this.compact().catch(() => {}),
        },
        options.compactEvery,
      ),
      lastRead: 0,
      openReads: () => openReads(),
    };
    this.ctx = ctx;
    this.local = new GroupCommit(ctx);
    this.ready = queue.run(() => load(ctx));
  }

  /**
   * The effective schema: the app's schema plus schema-as-data found in the stored ops (the
   * server writes attributes as entities with `db/ident`, `db/valueType`, …; those win).
   * Schema ops arriving while running are merged as data and take effect on the next load.
   */
  get schema(): unknown {
    return this.ctx.schema;
  }

  /** Readers call this so a cold start defers its merge while the app is still reading. */
  noteRead(): void {
    this.ctx.lastRead = Date.now();
  }

  // ------------------------------------------------------------------ SyncTarget

  get replicaId(): string {
    return this.ctx.id;
  }

  cursor(): ServerCursor | null {
    return this.ctx.cursor;
  }

  outbox(): TxEnvelope[] {
    return this.ctx.outbox.snapshot();
  }

  on<K extends ReplicaEventName>(event: K, fn: (payload: ReplicaEventMap[K]) => void): Unsubscribe {
    return this.ctx.events.on(event, fn);
  }

  /** Subscribes to the replica's own durable writes (after they completed). */
  onPersisted(fn: (e: PersistedEvent) => void): Unsubscribe {
    return this.ctx.events.onPersisted(fn);
  }

  /** Subscribes to every applied batch of visible changes (the runtime feeds views and tabs). */
  onBatch(fn: (b: ChangeBatch) => void): Unsubscribe {
    return this.ctx.events.onBatch(fn);
  }

  /** A local transaction, group-committed with the calls of the same moment (see `local-tx.ts`). */
  localTransact(txData: unknown, options: { draft?: string; undo?: UndoMode } = {}): Promise<LocalResult> {
    return this.local.transact(txData, options.draft === undefined ? undefined : draftId(options.draft), options.undo ?? 'record');
  }

  /** This client's undo/redo stacks (`undo/stacks.ts`). */
  get undoStacks(): UndoStacks {
    return this.ctx.undo;
  }

  /**
   * The server acknowledged `tx`. Its removal from the stored outbox is written lazily, in
   * batches (see `outbox.ts`); see {@link SyncTarget} invariant 2.
   */
  ack(tx: HlcString, cursor: ServerCursor | null = null): Promise<void> {
    return this.ctx.queue.run(async () => acknowledge(this.ctx, [{ tx, cursor }]));
  }

  /**
   * `ack` for several transactions in one queue job: the same effect as calling {@link ack} for
   * each, in order (same lazy, batched persistence; one `acked` event per transaction), without
   * the per-call overhead. Unknown txs are skipped.
   */
  ackMany(acks: ReadonlyArray<{ tx: HlcString; cursor?: ServerCursor | null }>): Promise<void> {
    return this.ctx.queue.run(async () => acknowledge(this.ctx, acks));
  }

  reject(tx: HlcString, error: WireError | DataloomError): Promise<void> {
    return this.ctx.queue.run(() => reject(this.ctx, tx, error));
  }

  serverLimits(limits: Partial<Limits>): void {
    const own = resolveLimits(this.ctx.options.limits);
    const out = { ...own };
    for (const k of Object.keys(own) as Array<keyof Limits>) {
      const v = limits[k];
      if (typeof v === 'number' && v > 0 && v < out[k]) out[k] = v;
    }
    this.ctx.limits = out;
  }

  applyRemote(envelopes: readonly TxEnvelope[], cursor: ServerCursor | null): Promise<void> {
    return this.ctx.queue.run(() => applyRemote(this.ctx, envelopes, cursor));
  }

  purge(es: readonly GlobalId[], attrs: ReadonlyArray<readonly [GlobalId, string]>): Promise<void> {
    return this.ctx.queue.run(() => purge(this.ctx, es, attrs));
  }

  /** The server's log is another one (see {@link SyncTarget.resetLog} and `remote.ts`); resolves with the txs put back in the outbox. */
  resetLog(): Promise<HlcString[]> {
    let out: HlcString[] = [];
    return this.ctx.queue.run(async () => void (out = await resetLog(this.ctx))).then(() => out);
  }

  /** The entities held (see {@link SyncTarget.held}), or null past `max`. */
  held(max: number): GlobalId[] | null {
    const out = new Set<GlobalId>();
    for (const op of this.ctx.merge.allOps()) {
      if (op.a !== undefined && (op.a.startsWith('db/') || op.a.startsWith('draft/'))) continue;
      out.add(this.ctx.merge.rep(op.e));
      if (out.size > max) return null;
    }
    return [...out];
  }

  /** Keeps only what the user may read (`attrs`: `e + '\u0000' + a` keys); see {@link SyncTarget.retain}. */
  retain(es: ReadonlySet<GlobalId>, attrs: ReadonlySet<string>): Promise<void> {
    return this.ctx.queue.run(() => retain(this.ctx, es, attrs));
  }

  // ------------------------------------------------------------------ other tabs (peers.ts)

  /** Another tab persisted a local transaction in the shared outbox: merge it, track it as pending. */
  applyPeerLocal(envelope: TxEnvelope): Promise<void> {
    return this.ctx.queue.run(async () => peerLocal(this.ctx, envelope));
  }

  /** The syncing tab persisted remote envelopes: merge them (nothing written). */
  applyPeerRemote(envelopes: readonly TxEnvelope[], cursor: ServerCursor | null): Promise<void> {
    return this.ctx.queue.run(async () => peerRemote(this.ctx, envelopes, cursor));
  }

  /** The syncing tab dropped ops from the store (a purge, a reset to another log): drop them here too. */
  applyPeerDropped(ops: readonly string[], drafts: ReadonlyArray<readonly [string, HlcString]>, reset: boolean): Promise<void> {
    return this.ctx.queue.run(async () => peerDropped(this.ctx, ops, drafts, reset));
  }

  /** The syncing tab recorded an acknowledgement: drop `tx` from the pending list. */
  applyPeerAck(tx: HlcString): Promise<void> {
    return this.ctx.queue.run(async () => peerAck(this.ctx, tx));
  }

  /** The syncing tab recorded a rejection: roll `tx` back here too. */
  applyPeerReject(tx: HlcString, error: WireError): Promise<void> {
    return this.ctx.queue.run(async () => peerReject(this.ctx, tx, error));
  }

  // ------------------------------------------------------------------ reading

  /**
   * The dataflow connection (views: `conn.register(…)`). Reading it applies pending changes first,
   * so the database and every view reflect all merged batches.
   */
  get conn(): Conn {
    return this.ctx.view.conn;
  }

  /** The current database value (entity ids are interned integers). */
  db(): Db {
    return this.ctx.view.conn.db();
  }

  /** Applies the pending visible changes to the dataflow connection now (see `materialize.ts`). */
  flushDataflow(): void {
    this.ctx.view.flush();
  }

  /** The merge state (global ids, visible datoms, op set). */
  merged(): MergeState {
    return this.ctx.merge;
  }

  /** A database holding exactly `datoms` (time views; entity ids and refs interned). */
  dbOf(datoms: Iterable<VisibleDatom>): Db {
    return this.ctx.ids.db(datoms, this.ctx.schema);
  }

  /** A visible change as a database datom of tx `txId` (entity ids and refs interned). */
  datomOf(c: DatomChange, txId: number): Datom {
    return this.ctx.ids.datom(c, txId);
  }

  /** Integer id of a global id (allocating one if new). */
  eid(gid: GlobalId): number {
    return this.ctx.ids.eid(gid);
  }

  /** Global id of an integer entity id, or null. */
  gid(eid: number): GlobalId | null {
    return this.ctx.ids.gid(eid);
  }

  /** HLC of a database tx id (batches), or null. */
  hlcOfTx(txId: number): HlcString | null {
    return this.ctx.view.hlcOfTx(txId);
  }

  /** Draft envelopes held for `draft` (a draft id or name, see `drafts/ids.ts`). */
  draftEnvelopes(draft: string): TxEnvelope[] {
    return this.ctx.drafts.envelopes(draftId(draft));
  }

  /** The drafts (`drafts/`): ops, closings and open overlays. */
  get drafts(): Drafts {
    return this.ctx.drafts;
  }

  /**
   * Runs `fn` as a job of the serial queue, where the committed state, the published batches and
   * the drafts agree (drafts open their overlays there).
   */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    let out!: T;
    return this.ctx.queue.run(async () => {
      out = await fn();
    }).then(() => out);
  }

  /**
   * The database as of HLC `t` (inclusive): the merge of every op with `tx ≤ t`. Accepts an HLC
   * string or a wall-clock `Date`/ms (then: every op stamped at or before that millisecond).
   */
  asOf(t: HlcString | Date | number): Db {
    return this.ctx.history.asOf(t);
  }

  /** The database of datoms whose deciding op is newer than `t` (Datomic's `since`). */
  since(t: HlcString | Date | number): Db {
    return this.ctx.history.since(t);
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
  history(): HistoryRow[] {
    return this.ctx.history.rows();
  }

  /** Encoded snapshot of the merge state (identical bytes for identical op sets). */
  encodeSnapshot(): Uint8Array {
    return this.ctx.merge.encodeSnapshot();
  }

  /** Which store backs the replica now (`memory` after a fallback). */
  storageKind(): string {
    return this.ctx.durable.kind;
  }

  // ------------------------------------------------------------------ maintenance

  /** Compaction (see `compaction.ts`): returns how many superseded ops were dropped. */
  compact(options: { frontier?: HlcString } = {}): Promise<number> {
    return this.ctx.queue.run(() => compact(this.ctx, options));
  }

  async close(): Promise<void> {
    await this.ctx.queue.run(async () => {
      await writeAcks(this.ctx);
      this.ctx.queue.closed = true;
      await this.ctx.durable.close();
    });
  }
}
