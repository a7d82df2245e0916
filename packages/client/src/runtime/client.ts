/**
 * `createClient(options)`: the calling-thread API of a Dataloom replica.
 *
 * With `worker` (a `Worker` whose script calls `exposeClientHost()`, see `worker.ts`) the replica,
 * the dataflow engine and the sync client run in that worker behind comlink; watched queries are
 * mirrored here from compact diff batches. Without it (or where `Worker` does not exist: Node,
 * tests) the same runtime runs in-process. The API is the same, and asynchronous, either way.
 *
 * Entity ids returned by queries are integers valid for this client's lifetime; use
 * `globalId(e)` for an id that is stable across reloads and replicas.
 */
import * as Comlink from 'comlink';
import * as Y from 'yjs';
import { DataloomError, type HlcString } from '@dataloom/core';
import { decode, encode, type Encoded } from './codec.js';
import type { ClientEvent, ClientOptions, DatomRow, TransactResult } from './core.js';
import { Host } from './host.js';
import { MirroredView, type DiffBatch, type WatchInit, type WatchedQuery } from './mirror.js';
import type { SyncStatus } from '../sync/index.js';

export interface CreateClientOptions extends ClientOptions {
  /** Run in this worker (its script must call `exposeClientHost()`); `false`/absent: in-process. */
  worker?: Worker | Comlink.Endpoint | false;
}

/** A read-only database view of a past or partial state. */
export interface DbView {
  q(query: unknown, ...inputs: unknown[]): Promise<unknown>;
}

export interface Client {
  /**
   * Resolves when the replica can answer queries from storage. After a cold start from a
   * compacted replica that is before the op set is merged again; writes (and `asOf`/`since`/
   * `history`) wait for the merge by themselves, see `loaded`.
   */
  readonly ready: Promise<void>;
  /** Resolves when the replica has fully loaded (op set merged). */
  loaded(): Promise<void>;
  /** Transacts locally (optimistic, durable before resolving); syncs when a server is configured. */
  transact(txData: unknown, options?: { draft?: string }): Promise<TransactResult>;
  /** Resolves when the server acknowledged `tx`; rejects with its `DataloomError` if rejected. */
  confirmed(tx: HlcString): Promise<void>;
  q(query: unknown, ...inputs: unknown[]): Promise<unknown>;
  pull(pattern: unknown, eid: unknown): Promise<unknown>;
  pullMany(pattern: unknown, eids: unknown[]): Promise<unknown>;
  /** The entity's attributes (`pull [*]`) as a Map, or null. */
  entity(eid: unknown): Promise<unknown>;
  /** A live query mirrored on this thread: `result()`, `subscribe(fn)` diffs, `close()`. */
  watch(query: unknown, ...inputs: unknown[]): WatchedQuery;
  /** The database as of HLC stamp / ms `t`. */
  asOf(t: HlcString | number | Date): DbView;
  /** The datoms decided after `t`. */
  since(t: HlcString | number | Date): DbView;
  /**
   * Every transition `[e a v tx added]` (tx an HLC string), oldest first, as rows. To query the
   * history with the query language, use {@link historyDb}.
   */
  history(): Promise<Array<[number, unknown, unknown, HlcString, boolean]>>;
  /**
   * The history database (Datomic's `d/history`): `q` runs over every assertion and retraction
   * the replica's state went through, oldest first, as datoms `[?e ?a ?v ?tx ?added]` — patterns
   * of up to five elements, e.g. `[:find ?v ?added :where [?e :todo/title ?v ?tx ?added]]`.
   * `?tx` binds the **HLC string** of the op that caused the transition (sortable; compare with
   * `<`/`>` or pass it to `asOf`/`since`), not an integer tx id. Each `q` reads the history at the
   * time of the call. The source is a collection of tuples: lookup refs and idents in entity
   * position are not resolved, and `pull`/`get-else`/`missing?` need the current database.
   */
  historyDb(): DbView;
  /**
   * The `Y.Text` of a `:db.type/text` attribute, kept in sync both ways: local edits become
   * transactions (batched per 16 ms frame), merged remote edits appear in it.
   */
  text(eid: unknown, attr: string): Promise<Y.Text>;
  /** Global id of an integer entity id. */
  globalId(eid: number): Promise<string | null>;
  /**
   * Streams the datoms (`[e, attr, v, added]` rows): all current ones first (`initial`), then each
   * transaction's changes. Resolves to the function that stops the stream.
   */
  streamDatoms(fn: (rows: DatomRow[], initial: boolean) => void): Promise<() => void>;
  /** Rejections, storage faults, clock drift, sync status. */
  on(fn: (e: ClientEvent) => void): () => void;
  syncStatus(): Promise<SyncStatus | null>;
  whenSynced(): Promise<void>;
  /** `indexeddb`, or `memory` (configured or after a fallback). */
  storageKind(): Promise<string>;
  close(): Promise<void>;
}

type HostApi = {
  [K in keyof Host]: Host[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never;
};

const time = (t: HlcString | number | Date) => (t instanceof Date ? t.getTime() : t);

/** Creates a client (see module docs). */
export function createClient(options: CreateClientOptions): Client {
  const { worker, ...rest } = options;
  const useWorker = worker !== undefined && worker !== false;
  let host: HostApi;
  let wrapFn: <F extends (...a: never[]) => unknown>(f: F) => F;
  let endpoint: Comlink.Remote<Host> | null = null;
  if (useWorker) {
    endpoint = Comlink.wrap<Host>(worker as Comlink.Endpoint);
    host = endpoint as unknown as HostApi;
    wrapFn = (f) => Comlink.proxy(f);
  } else {
    host = new Host() as unknown as HostApi;
    wrapFn = (f) => f;
  }
  const { token, WebSocket, store, schema, ...plain } = rest;
  const hostOptions = { ...plain, schema: encode(schema), ...(typeof token === 'string' || token === null ? { token } : {}) };
  const extra: Partial<ClientOptions> = useWorker ? {} : { ...(token !== undefined ? { token } : {}), ...(WebSocket ? { WebSocket } : {}), ...(store ? { store } : {}) };
  if (useWorker && (typeof token === 'function' || WebSocket || store)) {
    throw new DataloomError('client/options', 'token functions, WebSocket and store options cannot cross into a worker', {});
  }
  const ready = host.open(hostOptions as never, extra as never).then(() => undefined);
  ready.catch(() => {});
  const after = async <T>(fn: () => Promise<T>): Promise<T> => {
    await ready;
    return fn();
  };
  const rethrow = (e: unknown): never => {
    if (e instanceof DataloomError) throw e;
    const w = e as { name?: string; code?: unknown; message?: string; data?: Record<string, unknown> };
    if (w && typeof w.code === 'string') throw new DataloomError(w.code, w.message ?? '', w.data ?? {});
    throw e;
  };
  const call = <T>(fn: () => Promise<T>) => after(fn).catch(rethrow);
  const listeners = new Set<(e: ClientEvent) => void>();
  void ready.then(() => host.events(wrapFn((e: ClientEvent) => listeners.forEach((fn) => fn(e))) as never));

  const dbView = (kind: 'asOf' | 'since', t: HlcString | number | Date): DbView => ({
    q: (query, ...inputs) => call(async () => decode(await host[kind](time(t), encode(query), inputs.map(encode))) as unknown),
  });

  const client: Client = {
    ready,
    transact: (tx, opts) => call(() => host.transact(encode(tx), opts ?? {})),
    confirmed: (tx) => call(() => host.confirmed(tx)),
    q: (query, ...inputs) => call(async () => decode(await host.q(encode(query), inputs.map(encode)))),
    pull: (p, e) => call(async () => decode(await host.pull(encode(p), encode(e)))),
    pullMany: (p, es) => call(async () => decode(await host.pullMany(encode(p), es.map(encode)))),
    entity: (e) => call(async () => decode(await host.entity(encode(e)))),
    globalId: (e) => call(() => host.globalId(e)),
    watch(query, ...inputs) {
      let id: number | null = null;
      let closed = false;
      const view = new MirroredView(() => {
        closed = true;
        if (id !== null) void host.unwatch(id);
      });
      const sink = wrapFn((b: Encoded) => view.apply(decode(b) as DiffBatch));
      void call(() => host.watch(encode(query), inputs.map(encode), sink as never))
        .then((r) => {
          id = r.id;
          if (closed) void host.unwatch(r.id);
          else view.init(decode(r.init) as WatchInit);
        })
        .catch((e) => view.fail(e));
      return view;
    },
    asOf: (t) => dbView('asOf', t),
    since: (t) => dbView('since', t),
    history: () => call(async () => decode(await host.history()) as Array<[number, unknown, unknown, HlcString, boolean]>),
    historyDb: () => ({
      q: (query, ...inputs) => call(async () => decode(await host.historyQ(encode(query), inputs.map(encode))) as unknown),
    }),
    async text(eid, attr) {
      await ready;
      const doc = new Y.Doc();
      const REMOTE = 'dataloom:remote';
      const opened = await host
        .textOpen(encode(eid), attr, wrapFn((u: Uint8Array) => Y.applyUpdate(doc, u, REMOTE)) as never)
        .catch(rethrow);
      Y.applyUpdate(doc, opened.state, REMOTE);
      // Local edits are batched per frame (16 ms) into one merged update = one transaction.
      let pending: Uint8Array[] = [];
      let timer: ReturnType<typeof setTimeout> | null = null;
      const flush = () => {
        timer = null;
        const merged = pending.length === 1 ? pending[0]! : Y.mergeUpdates(pending);
        pending = [];
        void host.textUpdate(opened.gid, opened.a, merged).catch(() => {});
      };
      doc.on('update', (u: Uint8Array, origin: unknown) => {
        if (origin === REMOTE) return;
        pending.push(u);
        if (timer === null) timer = setTimeout(flush, 16);
      });
      return doc.getText('text');
    },
    async streamDatoms(fn) {
      const id = await call(() => host.streamDatoms(wrapFn((rows: Encoded, initial: boolean) => fn(decode(rows) as DatomRow[], initial)) as never));
      return () => void host.unstreamDatoms(id);
    },
    on(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    loaded: () => call(() => host.loaded()),
    syncStatus: () => call(() => host.syncStatus()),
    whenSynced: () => call(() => host.whenSynced()),
    storageKind: () => call(() => host.storageKind()),
    async close() {
      await ready.catch(() => {});
      await host.close();
      if (endpoint) endpoint[Comlink.releaseProxy]();
    },
  };
  return client;
}
