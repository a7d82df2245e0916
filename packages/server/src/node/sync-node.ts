/**
 * One server process' view of the shared log: the judging state, the in-memory tail, group commit
 * and fan-out wake-ups. Connections (`connection.ts`) talk to the node, never to the store.
 *
 * Everything that changes `state` or `tail` runs on one {@link Serial} queue, so the state always
 * reflects a prefix of the log, applied in order.
 */
import type { GlobalId, TxEnvelope, WireValue } from '@dataloom/core';
import type { MergeSchema, MergeState } from '@dataloom/core/internals';
import type { AppendOutcome, Judge, LogEntry, ServerStore, Verdict } from '../storage/types.js';
import { ServerState, type CommittedEntry } from '../state/server-state.js';
import { schemaBootstrapOps } from '../state/bootstrap.js';
import { CHECKPOINT_KEY, RefeedPositions, checkpointOf, decodeCheckpoint, encodeCheckpoint, refeeds, type Checkpoint } from '../state/checkpoint.js';
import { LogTail, type TailEntry } from './log-tail.js';
import { Serial } from './serial.js';
import type { WriteGate } from '../permissions/writable.js';
import { userIdOf } from '../drafts/visibility.js';

export interface SyncNodeOptions {
  nodeId: string;
  maxClockDriftMs: number;
  /** Schema the server is started with (`schemaAsData` form); written to the log where it differs. */
  schema: ReadonlyMap<string, ReadonlyMap<string, WireValue>>;
  /** Largest number of envelopes committed in one storage transaction. */
  maxBatch?: number;
  /** Poll the store head this often (ms) as a safety net for missed notifications; 0 = never. */
  pollMs?: number;
  tailCapacity?: number;
  /** Bytes of envelope JSON the tail keeps (default unbounded; the server passes `limits.maxTailBytes`). */
  tailBytes?: number;
  /** See `ServerStateOptions.compactEvery`. */
  compactEvery?: number;
  /** See `ServerStateOptions.compactBytes`. */
  compactBytes?: number;
  /**
   * Write a checkpoint of the committed state (`state/checkpoint.ts`) once this many log entries
   * were committed since the last one, and at stop; start then reads it and the log after it
   * instead of the whole log. Default 100,000; 0 never writes one (a stored one is still read).
   */
  checkpointEvery?: number;
}

interface Pending {
  env: TxEnvelope;
  resolve: (o: AppendOutcome) => void;
  reject: (e: unknown) => void;
}

/** Read-only view of the committed state, given to `authorizeWrite`. */
export interface ServerDbView {
  /** Current value of cardinality-one `(e, a)` under the merge rules, or null. */
  value(e: GlobalId, a: string): WireValue | null;
  /** Whether any committed op was written on `e`. */
  hasEntity(e: GlobalId): boolean;
  /** The merge-relevant schema (schema as data included). */
  readonly schema: MergeSchema;
  /** The merged database itself (core's `MergeState`): read it, never apply to it. */
  readonly db: MergeState;
  readonly head: number;
}

export class SyncNode {
  state: ServerState;
  readonly tail: LogTail;
  private readonly serial = new Serial();
  private queue: Pending[] = [];
  private draining = false;
  private readonly newListeners = new Set<() => void>();
  private unsub: (() => void) | null = null;
  private poll: ReturnType<typeof setInterval> | null = null;
  private stamp = { ms: 0, counter: 0 };
  readonly serverReplica: string;
  /** Identity of the log (see `ServerStore.logId`). */
  logId = '';
  /** Entries at or below this position are compacted (`ServerStore.horizon`): readers below it bootstrap from a snapshot. */
  horizon = 0;

  /** Positions of the entries the draft directory follows (`checkpoint.ts`), pruned of closed draft envelopes. */
  private readonly refeed = new RefeedPositions();
  /** Log position of the last checkpoint read or written (0: none). */
  checkpointHead = 0;
  /** Whether the state was last rebuilt from a checkpoint (and the log after it). */
  fromCheckpoint = false;

  private readonly committedListeners = new Set<(e: CommittedEntry) => void>();
  private readonly resetListeners = new Set<(state: ServerState, entries: readonly LogEntry[]) => void>();

  constructor(readonly store: ServerStore, private readonly opts: SyncNodeOptions) {
    this.state = new ServerState(this.stateOptions());
    this.tail = new LogTail(opts.tailCapacity ?? 20_000, opts.tailBytes);
    this.serverReplica = 'server_' + opts.nodeId.replace(/[^0-9A-Za-z_]/g, '_').slice(0, 50);
  }

  get head(): number {
    return this.state.head;
  }

  get view(): ServerDbView {
    const s = this.state;
    return { value: (e, a) => s.value(e, a), hasEntity: (e) => s.hasEntity(e), schema: s.schema, db: s.merged, head: s.head };
  }

  private stateOptions() {
    return {
      maxClockDriftMs: this.opts.maxClockDriftMs,
      compactEvery: this.opts.compactEvery,
      compactBytes: this.opts.compactBytes,
      onCommit: (e: CommittedEntry) => {
        for (const fn of this.committedListeners) fn(e);
      },
      writeGate: () => this.writeGate,
    };
  }

  /**
   * Every envelope committed to the log, in log order, with the datoms it changed in the merged
   * database — once durable (own commits) or once seen (other nodes' commits). After
   * {@link onReset} the feed continues from the new state's head.
   */
  onCommitted(fn: (entry: CommittedEntry) => void): () => void {
    this.committedListeners.add(fn);
    return () => this.committedListeners.delete(fn);
  }

  /** The state was rebuilt from the store (start, storage failure, schema history) out of `entries`, the whole log: read it afresh. */
  onReset(fn: (state: ServerState, entries: readonly LogEntry[]) => void): () => void {
    this.resetListeners.add(fn);
    return () => this.resetListeners.delete(fn);
  }

  async start(): Promise<void> {
    await this.store.open();
    this.logId = await this.store.logId();
    this.horizon = await this.store.horizon();
    await this.serial.run(() => this.rebuild());
    // A configured schema that changes the logged one may need the history a checkpoint has not kept.
    if (this.fromCheckpoint && schemaBootstrapOps(this.opts.schema, this.state, this.nextStamp()).length > 0) await this.serial.run(() => this.rebuild(true));
    // Other processes' commits (PostgreSQL). A SQLite file has exactly one writer — this node.
    if (this.store.kind !== 'sqlite') {
      this.unsub = this.store.onAppend((h) => {
        if (h > this.state.head) void this.refresh();
      });
    }
    if (this.opts.pollMs) {
      this.poll = setInterval(() => {
        this.store.head().then((h) => (h > this.state.head ? this.refresh() : undefined)).catch(() => {});
        this.refreshHorizon().catch(() => {});
      }, this.opts.pollMs);
      this.poll.unref();
    }
    await this.bootstrapSchema();
    this.started = true;
    // a long log: keep the database, not its history (the schema is in place now)
    await this.serial.run(async () => this.state.compactIfDue());
    // a first checkpoint of a long log, written while clients are served
    await this.serial.run(async () => void this.checkpointIfDue()?.catch(() => {}));
  }

  /**
   * Writes a checkpoint of the committed state (`state/checkpoint.ts`) when `checkpointEvery`
   * entries were committed since the last one (`force`: when any were). Runs on the serial queue.
   */
  private checkpointIfDue(force = false): Promise<void> | null {
    const every = this.opts.checkpointEvery ?? 100_000;
    const since = this.state.head - this.checkpointHead;
    if (this.state.dirty || this.state.stale || since <= 0 || (!force && (every <= 0 || since < every))) return null;
    // the content is taken here, on the serial queue (a committed state); encoding (in slices,
    // yielding between them) and the write run off the queue, after any write still under way
    this.pruneRefeed();
    const snap = checkpointOf(this.state, this.logId, this.refeed.list());
    const before = this.checkpointHead;
    this.checkpointHead = snap.head;
    const w = (this.writing ?? Promise.resolve())
      .then(async () => this.store.setMeta(CHECKPOINT_KEY, await encodeCheckpoint(snap)))
      .catch((e: unknown) => {
        // not written: the next one is due as if this had not been taken
        this.checkpointHead = Math.min(this.checkpointHead, before);
        throw e;
      })
      .finally(() => {
        if (this.writing === w) this.writing = null;
      });
    this.writing = w;
    return w;
  }

  /** The checkpoint write under way, if any. */
  private writing: Promise<void> | null = null;

  /** Writes a checkpoint now (even with `checkpointEvery` 0) if anything was committed since the last one; resolves once it is durable. */
  async checkpoint(): Promise<void> {
    const { w } = await this.serial.run(async () => ({ w: this.checkpointIfDue(true) }));
    await w;
  }

  private noteRefeeds(entries: readonly LogEntry[]): void {
    if (this.refeed.note(entries) && !this.state.dirty) this.pruneRefeed();
  }

  /** Drops the draft envelopes closings covered from the refeed positions (a committed state only: a closing still being judged may fail). */
  private pruneRefeed(): void {
    const m = this.state.merged;
    if (!this.state.dirty) this.refeed.prune((e, a) => m.values(e, a));
  }

  /** How many refeed positions the node holds (tests: bounded while drafts come and go). */
  get refeedSize(): number {
    return this.refeed.size;
  }

  /** Set once the configured schema is bootstrapped: rebuilt states may compact at once. */
  private started = false;

  async stop(): Promise<void> {
    this.unsub?.();
    if (this.poll) clearInterval(this.poll);
    await this.serial.idle();
    if ((this.opts.checkpointEvery ?? 100_000) > 0) await this.checkpoint().catch(() => {});
    await this.writing?.catch(() => {});
    await this.store.close();
  }

  /** Called whenever new entries are in the tail. */
  onNew(fn: () => void): () => void {
    this.newListeners.add(fn);
    return () => this.newListeners.delete(fn);
  }

  private emitNew(): void {
    for (const fn of this.newListeners) fn();
  }

  /** Write permissions judged with each envelope (set by the permissions layer). */
  writeGate: WriteGate | null = null;
  /** Who pushed an envelope still being judged (for {@link writeGate}). */
  private readonly writers = new WeakMap<TxEnvelope, unknown>();
  /**
   * Envelopes refused before judging (over a limit, schema, permissions): the append loop still
   * answers a stored duplicate with its position; anything else gets this verdict instead of the
   * judge's, recorded like the judge's (one verdict per envelope).
   */
  private readonly refusals = new WeakMap<TxEnvelope, Verdict>();
  private readonly judge: Judge = {
    catchUp: (entries) => this.state.catchUp(entries),
    check: (env) => this.refusals.get(env) ?? this.state.check(env),
    writer: (env) => {
      const u = this.writers.get(env);
      return u === undefined ? '' : JSON.stringify(userIdOf(u));
    },
  };

  /** The user `env` was submitted for, or undefined (the server's own and trusted writes). */
  writerOf(env: TxEnvelope): unknown {
    return this.writers.get(env);
  }

  /** Queue an envelope for the next group commit (pushed by `user`, when given). Rejects only on storage failure. */
  submit(env: TxEnvelope, user?: unknown, refusal?: Verdict): Promise<AppendOutcome> {
    if (user !== undefined) this.writers.set(env, user);
    if (refusal) this.refusals.set(env, refusal);
    return new Promise((resolve, reject) => {
      this.queue.push({ env, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = true;
    void this.serial.run(() => this.drain()).finally(() => {
      this.draining = false;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // Let pending socket reads run first so concurrent pushes share one commit (group commit):
      // a SQLite commit blocks the event loop for its fsync, so without this yield every commit
      // would carry only the one or two envelopes that arrived during the previous one.
      await new Promise<void>((r) => setImmediate(r));
      const batch = this.queue.splice(0, this.opts.maxBatch ?? 500);
      try {
        const r = await this.store.append(
          batch.map((b) => b.env),
          this.state.head,
          this.judge,
        );
        this.state.settle(r.entries);
        this.noteRefeeds(r.entries);
        this.tail.push(r.entries);
        batch.forEach((b, i) => b.resolve(r.outcomes[i]!));
        if (r.entries.length > 0) this.emitNew();
        if (this.state.stale) await this.rebuild(true);
        else void this.checkpointIfDue()?.catch(() => {});
      } catch (e) {
        for (const b of batch) b.reject(e);
        // The judge may have applied envelopes that were never committed: start over from the store.
        await this.rebuild().catch(() => {});
      } finally {
        this.wakeCommitted();
      }
    }
  }

  private committedWaiters: Array<() => void> = [];

  /**
   * Null when the state holds only committed transactions; else a promise settled once the batch
   * being appended is committed or dropped (check again: the next one may be judged by then). The
   * judge applies a batch to the state before the store commits it — across round trips on
   * PostgreSQL — so whatever reads the state for a client (a bootstrap, `bootstrap.ts`) waits for
   * null: a batch whose commit fails (storage error, process killed) must reach no client.
   */
  whenCommitted(): Promise<void> | null {
    if (!this.state.dirty) return null;
    return new Promise((r) => this.committedWaiters.push(r));
  }

  private wakeCommitted(): void {
    const ws = this.committedWaiters;
    this.committedWaiters = [];
    for (const w of ws) w();
  }

  /** Catch up with entries committed elsewhere (other processes). */
  refresh(): Promise<void> {
    return this.serial.run(async () => {
      for (;;) {
        const entries = await this.store.readSince(this.state.head, 1000);
        if (entries.length === 0) return;
        this.state.catchUp(entries);
        this.noteRefeeds(entries);
        this.tail.push(entries);
        this.emitNew();
        if (this.state.stale) await this.rebuild(true);
        if (entries.length < 1000) return;
      }
    });
  }

  /**
   * Builds the state afresh from the store: from its checkpoint and the log after it, or (`full`,
   * or no usable checkpoint) from the whole log.
   */
  private async rebuild(full = false): Promise<void> {
    const cp: Checkpoint | null = full ? null : decodeCheckpoint(await this.store.getMeta(CHECKPOINT_KEY), this.logId, await this.store.head());
    const all: LogEntry[] = [];
    if (cp && cp.refeed.length <= 256) {
      // the entries the draft directory follows, at or below the checkpoint: few, read one by one
      for (const p of cp.refeed) {
        const [e] = await this.store.readSince(p - 1, 1);
        if (e && e.pos === p) all.push(e);
      }
    } else if (cp) {
      // many (a store round trip each would cost more): the log up to the checkpoint, in pages, kept where wanted
      const want = new Set(cp.refeed);
      for (let after = 0; after < cp.head; ) {
        const page = await this.store.readSince(after, Math.min(5000, cp.head - after));
        if (page.length === 0) break;
        for (const e of page) if (want.has(e.pos)) all.push(e);
        after = page[page.length - 1]!.pos;
      }
    }
    const from = all.length;
    for (;;) {
      const entries = await this.store.readSince(all.length === from ? (cp?.head ?? 0) : all[all.length - 1]!.pos, 5000);
      if (entries.length === 0) break;
      for (const e of entries) all.push(e);
    }
    const state = ServerState.fromLog(all, this.stateOptions(), cp ?? undefined);
    this.fromCheckpoint = cp !== null;
    this.checkpointHead = cp?.head ?? this.checkpointHead;
    this.refeed.reset(cp ? cp.refeed : [], all);
    // a compacted log no longer holds the history some schema changes need (`needsHistory`)
    if (this.horizon > 0) state.markHistoryCompacted();
    if (this.started) state.compactIfDue();
    this.state = state;
    this.pruneRefeed();
    this.wakeCommitted();
    this.tail.reset(state.head);
    for (const fn of this.resetListeners) fn(state, all);
  }

  /** Reads the store's horizon (another node may have compacted the shared log). */
  async refreshHorizon(): Promise<number> {
    const h = await this.store.horizon();
    if (h > this.horizon) this.horizon = h;
    // the shared log lost history: schema changes that need it are refused here too
    if (this.horizon > 0) this.state.markHistoryCompacted();
    return this.horizon;
  }

  /**
   * Compacts the log at or below `horizon` (at most this node's head): rewrites its entries without
   * the ops the merged state holds superseded — the state of every replica that merges them is the
   * same — and raises the store's horizon (`ServerStore.compact`). Runs in batches on the node's
   * serial queue, so commits go on in between; the superseded set is taken once, from the committed
   * state (an op superseded then stays superseded). Returns the horizon now in effect.
   */
  async compactLog(horizon: number, batch = 2000): Promise<number> {
    const from = await this.refreshHorizon();
    const upTo = Math.min(horizon, this.state.head);
    if (upTo <= from) return from;
    let dead: ((id: string) => boolean) | null = null;
    let at = from;
    while (at < upTo) {
      at = await this.serial.run(async () => {
        if (dead === null) {
          const m = this.state.merged;
          const superseded = new Set(m.supersededBelow('~'));
          // an op the state no longer holds was dropped as superseded (`ServerState` compaction)
          dead = (id) => superseded.has(id) || !m.has(id);
          this.state.markHistoryCompacted();
        }
        const entries = await this.store.readSince(at, Math.min(batch, upTo - at));
        if (entries.length === 0) return upTo;
        const rewritten: LogEntry[] = [];
        for (const e of entries) {
          if (e.env.draft !== undefined) continue;
          const ops = e.env.ops.filter((op) => !dead!(op.id));
          if (ops.length === e.env.ops.length) continue;
          const env = { tx: e.env.tx, replica: e.env.replica, ops };
          // the rewritten entry may write draft entities only now: a replay feeds it to the draft directory
          if (!refeeds(e.env)) this.refeed.add(e.pos, env);
          rewritten.push({ pos: e.pos, env });
        }
        const last = entries[entries.length - 1]!.pos;
        await this.store.compact(last, rewritten);
        this.horizon = Math.max(this.horizon, last);
        return last;
      });
    }
    return this.horizon;
  }

  /** Connections streaming the log to their clients, each with its queued output in bytes. */
  readonly readers = new Set<{ buffered(): number }>();

  /** Output queued for every streaming connection of this node, in bytes. */
  readersBuffered(): number {
    let n = 0;
    for (const r of this.readers) n += r.buffered();
    return n;
  }

  /** Average stored envelope size seen by {@link read} (bytes of JSON), to size store reads. */
  private avgEntryBytes = 512;

  /**
   * Entries after `after` (from the tail, else from the store): at most `limit`, and no more than
   * about `maxBytes` of JSON (at least one entry). Store reads are sized by the average entry seen,
   * so a page of large envelopes does not read (and parse) hundreds it will not send.
   */
  async read(after: number, limit: number, maxBytes = Infinity): Promise<TailEntry[]> {
    const fromTail = this.tail.since(after, limit, maxBytes);
    if (fromTail) return fromTail;
    const want = Math.max(1, Math.min(limit, Math.ceil(maxBytes / this.avgEntryBytes)));
    const out: TailEntry[] = [];
    let bytes = 0;
    for (const e of await this.store.readSince(after, want)) {
      const json = JSON.stringify(e.env);
      out.push({ ...e, json, tx: e.env.tx });
      bytes += json.length;
      if (bytes >= maxBytes) break;
    }
    if (out.length > 0) this.avgEntryBytes = Math.max(64, Math.round((this.avgEntryBytes + bytes / out.length) / 2));
    return out;
  }

  /** A fresh HLC stamp for transactions the server itself makes (schema bootstrap). */
  nextStamp(): string {
    const ms = Math.max(Date.now(), this.state.maxMs + 1, this.stamp.ms);
    this.stamp = ms === this.stamp.ms ? { ms, counter: this.stamp.counter + 1 } : { ms, counter: 0 };
    return ms.toString(36).padStart(12, '0') + '-' + this.stamp.counter.toString(36).padStart(4, '0') + '-' + this.serverReplica;
  }

  /** Write the configured schema where the logged schema differs. */
  private async bootstrapSchema(): Promise<void> {
    const tx = this.nextStamp();
    const ops = schemaBootstrapOps(this.opts.schema, this.state, tx);
    if (ops.length === 0) return;
    const outcome = await this.submit({ tx, replica: this.serverReplica, ops });
    if (outcome.status === 'rejected') throw new Error(`schema bootstrap rejected: ${outcome.code} ${outcome.message}`);
  }
}
