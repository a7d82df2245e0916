/**
 * The client service: replica + dataflow connection + (optional) sync client + tab bus, with an
 * all-async API. It runs where the data lives — in a Web Worker behind comlink (`worker.ts`), or
 * in-process when there is no Worker (Node, tests). The worker RPC offers its methods listed in
 * the method table (`methods.ts`); `createClient` (`client.ts`) is the calling-thread facade.
 */
import * as Y from 'yjs';
import { DataloomError, isGlobalId, parseHlc, pull, pullMany, type HlcString, type WireValue } from '@dataloom/core';
import { bytesToBase64, fromWireValue, toWireValue } from '@dataloom/core/internals';
import type { Scope } from '@dataloom/protocol';
import { q } from '@dataloom/query';
import { OperatorProfile, type OperatorTime, type View } from '@dataloom/dataflow';
import { Replica } from '../replica/replica.js';
import { parseHistoryQuery } from '../replica/history-query.js';
import type { ReplicaEventMap } from '../replica/types.js';
import { IdbStore } from '../store/indexeddb.js';
import { MemoryStore } from '../store/memory.js';
import type { ReplicaStore } from '../store/types.js';
import { SyncClient, type SyncStatus } from '../sync/index.js';
import { TabBus } from '../tabs/bus.js';
import { electLeader } from '../tabs/leader.js';
import { StatusRelay } from '../tabs/status.js';
import { DraftService, type CreateDraftOptions, type DraftInfo } from '../drafts/service.js';
import { draftId } from '../drafts/ids.js';
import { replicaUndo, type UndoService } from '../undo/service.js';
import type { UndoMode } from '../undo/stacks.js';
import type { DraftConflict } from '../drafts/overlay.js';
import type { DiffBatch, WatchInit } from './mirror.js';
import { Registrations, type RuleFn } from './registrations.js';
import { TimeView, checkSpec, isWatchSpec, type WatchSpec } from './watch-spec.js';
import type { ClientEvent, ClientOptions, DatomRow, TransactResult } from './types.js';

/** A scope input as a wire value: `{ref: globalId}` names an entity. */
/** A scope as the protocol says it: its query and pull pattern checked to be EDN text, its inputs as wire values. */
function scopeOf(spec: { query?: unknown; pull?: unknown }, inputs: readonly unknown[]): Scope {
  if (typeof spec.query !== 'string') throw new DataloomError('client/options', 'a scope is a query in EDN text (or { query, pull })', {});
  if (spec.pull !== undefined && typeof spec.pull !== 'string') throw new DataloomError('client/options', "a scope's pull pattern is EDN text", {});
  return { query: spec.query, inputs: inputs.map(wireInput), ...(spec.pull !== undefined ? { pull: spec.pull } : {}) };
}

function wireInput(x: unknown): WireValue {
  return typeof x === 'object' && x !== null && 'ref' in x && typeof x.ref === 'string' ? { ref: x.ref } : toWireValue(x);
}

export class ClientService {
  readonly replica: Replica;
  /** `client.draft(id)`'s replica side (`drafts/service.ts`). */
  readonly drafts: DraftService;
  /** `client.undo()`/`redo()`'s replica side (`undo/service.ts`). */
  readonly undos: UndoService;
  private sync: SyncClient | null = null;
  private bus: TabBus | null = null;
  private readonly status: StatusRelay;
  private releaseLeader: () => void = () => {};
  private readonly store: ReplicaStore;
  /** The replica works offline (`setOffline`): its leader tab does not sync. */
  private offline = false;
  /** `offline` came from this tab or another one (newer than the stored choice being read). */
  private offlineKnown = false;
  private readonly offlineLoaded: Promise<void>;
  private closed = false;
  /** Open watches: how to close each. */
  private readonly views = new Map<number, () => void>();
  /** Devtools' operator timing of the replica's dataflow engine, while on (`operatorTimes`). */
  private profile: OperatorProfile | null = null;
  /** The query text of each plain watch, by its view name (`dataloom/watch-<id>`), for operator times. */
  private readonly watchQueries = new Map<string, string>();
  private nextView = 1;
  private readonly eventSinks = new Set<(e: ClientEvent) => void>();
  private readonly early: ClientEvent[] = [];
  private readonly texts = new Map<string, { doc: Y.Doc; off: () => void }>();
  private readonly streams = new Map<number, () => void>();
  /** `client.register`/`client.rule`'s replica side (`registrations.ts`). */
  private readonly named: Registrations;

  constructor(readonly options: ClientOptions) {
    const hasIdb = typeof (globalThis as { indexedDB?: unknown }).indexedDB !== 'undefined';
    const storage = options.storage ?? (hasIdb ? 'indexeddb' : 'memory');
    const store = options.store ?? (storage === 'indexeddb' ? new IdbStore(`dataloom:${options.name}`) : new MemoryStore(undefined, { copy: false }));
    this.store = store;
    const tabs = options.tabs ?? (store.kind === 'indexeddb' && typeof (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel !== 'undefined');
    this.replica = new Replica({ schema: options.schema, store, sessionIds: tabs, ...(options.limits ? { limits: options.limits } : {}) });
    this.drafts = new DraftService(this.replica, (tx, o) => this.transact(tx, o));
    this.undos = replicaUndo(this.replica, this.drafts, (tx, o) => this.transact(tx, o));
    if (options.persist && store.kind === 'indexeddb') {
      const nav = (globalThis as { navigator?: { storage?: { persist?: () => Promise<boolean> } } }).navigator;
      void nav?.storage?.persist?.().catch(() => false);
    }
    this.named = new Registrations({
      replica: this.replica,
      transact: (tx, o) => this.transact(tx, o),
      ruleError: (name, error) => this.fire({ type: 'rule-error', name, error }),
    });
    this.replica.on('rejected', (e) => this.fire({ type: 'rejected', tx: e.tx, error: e.error }));
    this.replica.on('storage-error', (e: ReplicaEventMap['storage-error']) => this.fire({ type: 'storage-error', error: e.error, lost: e.lost.length }));
    this.replica.on('clock-drift', (e) => this.fire({ type: 'clock-drift', tx: e.tx, error: e.error }));
    for (const sc of options.scopes ?? []) {
      const { inputs = [], ...spec } = typeof sc === 'string' ? { query: sc } : sc;
      this.scopes.set(-this.scopes.size - 1, scopeOf(spec, inputs));
    }
    if (tabs) this.bus = new TabBus(`dataloom:${options.name}`, this.replica);
    this.status = new StatusRelay(this.replica, this.bus, !!options.url, (status) => this.fire({ type: 'sync', status }));
    this.bus?.onOffline((offline) => {
      this.offlineKnown = true;
      this.applyOffline(offline);
    });
    // the replica's offline choice, stored with it: read before this tab may sync
    const offlineLoaded = (store.getSetting?.('offline') ?? Promise.resolve(undefined)).then(
      (v) => {
        if (!this.offlineKnown) this.applyOffline(v === true);
      },
      () => {
        if (!this.offlineKnown) this.applyOffline(false);
      },
    );
    this.offlineLoaded = offlineLoaded;
    if (options.url) {
      const start = async () => {
        await offlineLoaded;
        if (this.closed) return;
        this.sync = new SyncClient({
          url: options.url!,
          replica: this.replica,
          autoStart: !this.offline,
          ...(options.token !== undefined ? { token: options.token } : {}),
          ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
        });
        if (this.scopes.size > 0) void this.sync.setScopes([...this.scopes.values()]).catch(() => {});
        this.status.attach(this.sync);
        this.sync.subscribe((e) => {
          if (e.type === 'quarantined') this.fire({ type: 'quarantined', pos: e.entry.pos, tx: e.entry.tx, error: e.entry.error });
        });
        // envelopes other tabs made must be sent by the leader too
        this.replica.on('change', (e) => {
          if (e.origin === 'tab') this.sync?.flush();
        });
        // the loaded outbox is pending before any connection (and is sent once online)
        void this.replica.ready.then(() => this.sync?.flush(), () => {});
      };
      this.releaseLeader = tabs ? electLeader(options.name, () => void start()) : (void start(), () => {});
    }
  }

  get ready(): Promise<void> {
    return this.replica.ready;
  }

  /** Reads (`q`, `pull`, `watch`, …) wait only for this: see `Replica.readable`. */
  get readable(): Promise<void> {
    return this.replica.readable;
  }

  private fire(e: ClientEvent): void {
    if (this.eventSinks.size === 0 && this.early.length < 100) this.early.push(e);
    for (const fn of this.eventSinks) fn(e);
  }

  /**
   * Subscribes to client events for the service's lifetime. Events fired before the first
   * subscriber (e.g. a storage fault while loading) are delivered to it on subscription.
   */
  events(fn: (e: ClientEvent) => void): void {
    this.eventSinks.add(fn);
    const early = this.early.splice(0);
    for (const e of early) fn(e);
  }

  /** Resolves when the replica has fully loaded (op set merged). */
  loaded(): Promise<void> {
    return this.ready;
  }

  async replicaId(): Promise<string> {
    await this.ready;
    return this.replica.replicaId;
  }

  /**
   * Transacts locally (optimistic, durable before resolving); syncs when a server is configured.
   * `draft`: a draft transaction; `undo: 'skip'` keeps it off this client's undo stack.
   */
  async transact(txData: unknown, options: { draft?: string; undo?: UndoMode } = {}): Promise<TransactResult> {
    await this.ready;
    const r = await this.replica.localTransact(txData, options);
    const tempids: Record<string, number> = {};
    for (const [k, g] of Object.entries(r.tempids)) tempids[k] = this.replica.eid(this.replica.merged().rep(g));
    return { tx: r.tx, tempids, globalIds: r.tempids, persisted: r.persisted };
  }

  /** Resolves when the server acknowledged `tx` (rejects with its error); immediately without sync. */
  async confirmed(tx: HlcString): Promise<void> {
    if (!this.sync) return;
    await this.sync.waitForTx(tx);
  }

  /**
   * Runs a Datalog query (`q`) over the current database. A query that uses a registered view
   * (`register`) is answered by the dataflow engine, which knows the view.
   */
  async q(query: unknown, ...inputs: unknown[]): Promise<unknown> {
    await this.replica.readable;
    this.replica.noteRead();
    if (!this.named.mentioned(query)) return q(query as never, this.replica.db(), ...inputs);
    const view = this.replica.conn.register(`dataloom/q-${this.nextView++}`, query as never, ...inputs);
    try {
      return view.result();
    } finally {
      view.close();
    }
  }

  /**
   * Registers `query` as the view `name`: later queries (`q`, `watch`, `register`, `rule`) use it
   * as a relation, `[name ?a ?b]`. See `registrations.ts`.
   */
  async register(name: string, query: unknown, inputs: unknown[] = []): Promise<void> {
    await this.replica.readable;
    this.replica.noteRead();
    this.named.register(name, query, inputs);
  }

  /**
   * Registers the business rule `name`: `fn` gets the query's diffs (the current rows first) and
   * what it returns is transacted locally, and synced. See `registrations.ts`.
   */
  async rule(name: string, query: unknown, inputs: unknown[], fn: RuleFn): Promise<void> {
    await this.ready;
    this.named.rule(name, query, inputs, fn);
  }

  /** Removes the view or rule `name` (false when there is none). */
  unregister(name: string): boolean {
    return this.named.unregister(name);
  }

  /** Pulls `pattern` for entity `eid` (an integer id, a global id or a lookup ref). */
  async pull(pattern: unknown, eid: unknown): Promise<unknown> {
    await this.replica.readable;
    this.replica.noteRead();
    return pull(this.replica.db(), pattern, this.eidOf(eid));
  }

  /** Pulls `pattern` for each of `eids`. */
  async pullMany(pattern: unknown, eids: unknown[]): Promise<unknown> {
    await this.replica.readable;
    this.replica.noteRead();
    return pullMany(this.replica.db(), pattern, eids.map((e) => this.eidOf(e)));
  }

  /** The entity's attributes (`pull [*]`) as a Map, or null. */
  async entity(eid: unknown): Promise<unknown> {
    await this.replica.readable;
    this.replica.noteRead();
    return pull(this.replica.db(), '[*]', this.eidOf(eid));
  }

  private eidOf(x: unknown): unknown {
    if (typeof x === 'string' && isGlobalId(x)) return this.replica.eid(this.replica.merged().rep(x));
    return x;
  }

  /** Global id of an integer entity id (stable across reloads and replicas). */
  async globalId(eid: number): Promise<string | null> {
    await this.replica.readable;
    this.replica.noteRead();
    return this.replica.gid(eid);
  }

  /**
   * Registers a watched query; `sink` receives each transaction's diffs as one compact batch.
   * `query` may be a {@link WatchSpec} (`watch-spec.ts`): a named watch, or one over `asOf`/`since`.
   */
  async watch(query: unknown, inputs: unknown[], sink: (b: DiffBatch) => void): Promise<{ id: number; init: WatchInit }> {
    await this.replica.readable;
    this.replica.noteRead();
    const id = this.nextView++;
    let view: View;
    let txOf = (tx: unknown): unknown => (typeof tx === 'number' ? (this.replica.hlcOfTx(tx) ?? tx) : tx);
    const spec: WatchSpec = isWatchSpec(query) ? checkSpec(query) : { query };
    if (spec.asOf === undefined && spec.since === undefined) {
      const name = spec.name;
      const label = `dataloom/watch-${id}`;
      view = name === undefined ? this.replica.conn.register(label, spec.query as never, ...inputs) : this.named.register(name, spec.query, inputs);
      if (name === undefined && typeof spec.query === 'string') this.watchQueries.set(label, spec.query.replace(/\s+/g, ' ').trim());
      this.views.set(id, name === undefined ? () => (this.watchQueries.delete(label), view.close()) : () => this.named.unregister(name));
    } else {
      await this.ready; // time travel reads the merged op set
      const time = new TimeView(this.replica, spec, inputs);
      view = time.view;
      txOf = () => time.time;
      this.views.set(id, () => time.close());
    }
    const result = view.result();
    const init: WatchInit = { kind: view.kind, asSet: result instanceof Set, rows: view.initialDiffs(null).map((d) => d[0]) };
    view.subscribe((diffs) => {
      if (diffs.length === 0) return;
      sink({ tx: txOf(diffs[0]![1]), rows: diffs.map((d) => d[0]), mults: diffs.map((d) => d[2]) });
    });
    return { id, init };
  }

  /**
   * Streams the materialised datoms: first every current datom (`initial`), then each applied
   * batch, as `[e, attr fqn, value, added]` rows (retractions of a batch before its assertions).
   * Returns the id to pass to {@link unstreamDatoms}.
   */
  async streamDatoms(sink: (rows: DatomRow[], initial: boolean) => void): Promise<number> {
    await this.replica.readable;
    this.replica.noteRead();
    const id = this.nextView++;
    const rows: DatomRow[] = [];
    for (const d of this.replica.db().datoms('eavt')) rows.push([d.e, d.a.fqn, d.v, true]);
    sink(rows, true);
    const off = this.replica.onBatch((b) => {
      const out: DatomRow[] = [];
      for (const c of b.changes) {
        const v = fromWireValue(c.v, (g) => this.replica.eid(g));
        out.push([this.replica.eid(c.e), c.a, v, c.added]);
      }
      if (out.length) sink(out, false);
    });
    this.streams.set(id, off);
    return id;
  }

  unstreamDatoms(id: number): void {
    this.streams.get(id)?.();
    this.streams.delete(id);
  }

  unwatch(id: number): void {
    this.views.get(id)?.();
    this.views.delete(id);
  }

  async asOf(t: HlcString | number, query: unknown, inputs: unknown[] = []): Promise<unknown> {
    await this.ready;
    return q(query as never, this.replica.asOf(t), ...inputs);
  }

  async since(t: HlcString | number, query: unknown, inputs: unknown[] = []): Promise<unknown> {
    await this.ready;
    return q(query as never, this.replica.since(t), ...inputs);
  }

  /**
   * Every transition `[e a v tx added]` (tx an HLC string), oldest first, as rows. To query the
   * history with the query language, use `client.historyDb()`.
   */
  async history(): Promise<Array<[number, unknown, unknown, HlcString, boolean]>> {
    await this.ready;
    return this.replica.history();
  }

  /**
   * Runs `query` over the history database (see `Replica.history`): the default source `$` is
   * the collection of `[e a v tx added]` tuples (tx an HLC string).
   */
  async historyQ(query: unknown, inputs: unknown[] = []): Promise<unknown> {
    await this.ready;
    return q(parseHistoryQuery(query) as never, this.replica.history(), ...inputs);
  }

  /** The live Yjs document of `(e, a)` (in-process use). */
  async textDoc(eid: unknown, attr: string): Promise<{ doc: Y.Doc; gid: string; a: string }> {
    await this.ready;
    const a = attr.startsWith(':') ? attr.slice(1) : attr;
    const gid = typeof eid === 'string' && isGlobalId(eid) ? eid : this.replica.gid(eid as number);
    if (!gid) throw new DataloomError('entity-id/missing', `unknown entity ${String(eid)}`, { id: String(eid) });
    if (!this.replica.merged().schema.get(a).text) {
      throw new DataloomError('transact/syntax', `${a} is not a :db.type/text attribute`, { attribute: a });
    }
    return { doc: this.replica.merged().textDoc(gid, a), gid, a };
  }

  /** Applies a Yjs update made on the calling thread as a local transaction. */
  async textUpdate(gid: string, a: string, update: Uint8Array): Promise<void> {
    await this.replica.localTransact([[':db/text', gid, a, bytesToBase64(update)]], { undo: 'skip' });
  }

  /**
   * Opens `(e, a)` for a remote editor: returns the current state as an update and streams the
   * updates merged later (from other replicas, tabs, or this editor's own echoes) to `sink`.
   */
  async textOpen(eid: unknown, attr: string, sink: (u: Uint8Array) => void): Promise<{ key: string; gid: string; a: string; state: Uint8Array }> {
    const { doc, gid, a } = await this.textDoc(eid, attr);
    const key = `${gid}\u0000${a}\u0000${this.nextView++}`;
    const onUpdate = (u: Uint8Array) => sink(u);
    doc.on('update', onUpdate);
    this.texts.set(key, { doc, off: () => doc.off('update', onUpdate) });
    return { key, gid, a, state: Y.encodeStateAsUpdate(doc) };
  }

  textClose(key: string): void {
    this.texts.get(key)?.off();
    this.texts.delete(key);
  }

  /**
   * Time per operator of the replica's dataflow engine (the live queries' operators; time views
   * and drafts have engines of their own), for devtools: `true` starts timing from zero, `false`
   * stops it, nothing reads on. Returns the operators timed so far, costliest first (none when
   * timing never started), each with the query of the watch it serves when known. Timing costs
   * two clock reads per operator step while on.
   */
  async operatorTimes(on?: boolean): Promise<Array<OperatorTime & { query: string | null }>> {
    await this.replica.ready;
    const engine = this.replica.conn.engine;
    if (on === true) (this.profile ??= new OperatorProfile()).reset();
    const profile = this.profile;
    if (profile === null) return [];
    if (on === false) {
      profile.detach(engine);
      this.profile = null;
    } else profile.attach(engine); // again: a cold start may have replaced the engine
    return profile.rows().map((r) => ({ ...r, query: this.watchQueries.get(/^dataloom\/watch-\d+/.exec(r.label)?.[0] ?? r.label) ?? null }));
  }

  /**
   * Work offline (`true`) or sync again (`false`), for the whole replica: every tab of the app
   * that opens it (same `name`) follows — the tab that syncs disconnects and stays disconnected,
   * every tab's `syncStatus` says `stopped` — and the choice is stored with the replica, so it
   * holds after a reload and in tabs opened later, until a tab calls `setOffline(false)`.
   * Transactions keep applying locally meanwhile and wait in the shared outbox.
   */
  async setOffline(offline: boolean): Promise<void> {
    if (typeof offline !== 'boolean') throw new DataloomError('client/options', `setOffline: expected true or false, got ${typeof offline}`, { got: typeof offline });
    this.offlineKnown = true;
    this.applyOffline(offline);
    // stored first, then told: a tab opening meanwhile reads it or hears it
    await this.store.putSetting?.('offline', offline);
    this.bus?.postOffline(offline);
  }

  private applyOffline(offline: boolean): void {
    this.offline = offline;
    this.status.setOffline(offline);
    if (!this.sync) return;
    if (offline) this.sync.stop();
    else this.sync.start();
  }

  /**
   * The sync state: this tab's sync client's, or the leader tab's that it syncs through, or —
   * without a server URL — `stopped` with the pending count (see `tabs/status.ts`).
   */
  async syncStatus(): Promise<SyncStatus | null> {
    await this.replica.ready.catch(() => {});
    await this.offlineLoaded;
    return this.status.current();
  }

  /**
   * The local transactions waiting for the server (the outbox), oldest first: stamp, wall-clock
   * time made (ms), attributes touched, draft id. Shared by the app's tabs.
   */
  async pending(): Promise<Array<{ tx: HlcString; at: number; attrs: string[]; draft: string | null }>> {
    await this.ready;
    return this.replica.outbox().map((e) => ({ tx: e.tx, at: parseHlc(e.tx).ms, attrs: [...new Set(e.ops.map((o) => ('a' in o ? String(o.a) : o.op)))], draft: e.draft ?? null }));
  }

  /** Scopes this client subscribed to (`client.subscribe`), by id. */
  private readonly scopes = new Map<number, Scope>();

  /**
   * Subscribes scope `id`: the server then sends only entities some scope's query finds (its first
   * find variable) that the user may read — the current state of what enters, a drop of what
   * leaves. Resolves when the server answered (the first result is in); without a server, at once.
   */
  async subscribe(id: number, query: string | { query: string; pull?: string }, inputs: unknown[]): Promise<void> {
    this.scopes.set(id, scopeOf(typeof query === 'string' ? { query } : query, inputs));
    try {
      await this.sync?.setScopes([...this.scopes.values()]);
    } catch (e) {
      // refused (a bad query): the server kept the previous scopes, and so does this client
      this.scopes.delete(id);
      throw e;
    }
  }

  /** Releases scope `id` (what only it held is dropped). */
  async unsubscribe(id: number): Promise<void> {
    if (!this.scopes.delete(id)) return;
    await this.sync?.setScopes([...this.scopes.values()]);
  }

  /** Resolves when online, the outbox is empty and the replica has caught up with the server. */
  async whenSynced(): Promise<void> {
    if (this.sync) await this.sync.whenSynced();
  }

  /** `indexeddb`, or `memory` (configured or after a fallback). */
  async storageKind(): Promise<string> {
    await this.ready;
    return this.replica.storageKind();
  }

  // ------------------------------------------------------------------ drafts (drafts/service.ts)

  /** A new draft id (see `CreateDraftOptions`); resolves once its draft entity is written, if any. */
  createDraft(options: CreateDraftOptions = {}): Promise<string> {
    return this.drafts.create(options);
  }
  draftTransact(id: string, tx: unknown): Promise<TransactResult> {
    return this.drafts.transact(id, tx);
  }
  draftQ(id: string, query: unknown, inputs: unknown[] = []): Promise<unknown> {
    return this.drafts.q(id, query, inputs);
  }
  draftPull(id: string, pattern: unknown, eid: unknown): Promise<unknown> {
    return this.drafts.pull(id, pattern, eid);
  }
  draftWatch(id: string, query: unknown, inputs: unknown[], sink: (b: DiffBatch) => void): Promise<{ id: number; init: WatchInit }> {
    return this.drafts.watch(id, query, inputs, sink);
  }
  draftWatchConflicts(id: string, sink: (c: DraftConflict[]) => void): Promise<number> {
    return this.drafts.watchConflicts(id, sink);
  }
  draftUnwatch(watchId: number): void {
    this.drafts.unwatch(watchId);
  }
  draftConflicts(id: string): Promise<DraftConflict[]> {
    return this.drafts.conflicts(id);
  }
  draftCommit(id: string): Promise<{ tx: HlcString | null }> {
    return this.drafts.commit(id);
  }
  draftDiscard(id: string): Promise<{ tx: HlcString | null }> {
    return this.drafts.discard(id);
  }
  draftInfo(id: string): Promise<DraftInfo> {
    return this.drafts.info(id);
  }
  draftInvite(id: string, users: Array<string | number>): Promise<void> {
    return this.drafts.invite(id, users);
  }

  // ------------------------------------------------------------------ undo (undo/service.ts)

  /** Undoes this client's newest change (in the main database, or in draft `draft`) that still stands. */
  undo(draft?: string): Promise<{ tx: HlcString | null }> {
    return this.undos.undo(draft === undefined ? '' : draftId(draft));
  }
  /** Redoes the newest undone change. */
  redo(draft?: string): Promise<{ tx: HlcString | null }> {
    return this.undos.redo(draft === undefined ? '' : draftId(draft));
  }
  undoStatus(draft?: string): { canUndo: boolean; canRedo: boolean } {
    return this.undos.status(draft === undefined ? '' : draftId(draft));
  }
  undoWatch(draft: string | null, sink: (s: { canUndo: boolean; canRedo: boolean }) => void): number {
    return this.undos.watch(draft === null ? '' : draftId(draft), sink);
  }
  undoUnwatch(id: number): void {
    this.undos.unwatch(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.drafts.stopAll();
    this.undos.stopAll();
    for (const close of this.views.values()) close();
    this.views.clear();
    this.named.close();
    for (const t of this.texts.values()) t.off();
    for (const off of this.streams.values()) off();
    this.sync?.close();
    this.status.close();
    this.releaseLeader();
    this.bus?.close();
    await this.replica.close().catch(() => {});
  }
}
