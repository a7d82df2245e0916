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
import type * as Y from 'yjs';
import { DataloomError, type Diff, type HlcString } from '@dataloom/core';
import { encode } from './codec.js';
import type { Host, HostOptions } from './host.js';
import { METHODS, callMethods, type CallName, type MethodName, type ServiceApi } from './methods.js';
import { listenRemote, mirrorWatch, type WatchedQuery } from './mirror.js';
import { draftHandle, type Draft } from '../drafts/facade.js';
import { connect, rethrow } from './rpc.js';
import type { ClientService } from './service.js';
import type { WatchSpec } from './watch-spec.js';
import type { ClientEvent, ClientOptions, DatomRow } from './types.js';

export interface CreateClientOptions extends ClientOptions {
  /** Run in this worker (its script must call `exposeClientHost()`); `false`/absent: in-process. */
  worker?: Worker | Comlink.Endpoint | false;
}

/** A read-only database view of a past or partial state. */
export interface DbView {
  q(query: unknown, ...inputs: unknown[]): Promise<unknown>;
}

/**
 * A named view or business rule (`client.register`, `client.rule`): `ready` resolves once it is
 * registered in the replica's engine (rejects with its error, e.g. `dataflow/name-taken`);
 * `close()` unregisters it (also before `ready`).
 */
export interface Registration {
  readonly name: string;
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** A business rule's callback: the diffs `[row, tx, ±1]` (tx null for the rows current at registration). */
export type RuleCallback = (diffs: Diff[]) => unknown;

/**
 * A client: the service's `'call'` methods of the method table as they are (`transact`,
 * `confirmed`, `q`, `pull`, `pullMany`, `entity`, `globalId`, `history`, `loaded`, `syncStatus`, `setOffline`, `pending`,
 * `whenSynced`, `storageKind`, `operatorTimes`, `createDraft`, `undo`, `redo`, `undoStatus`; see `service.ts` for
 * each), plus what the calling thread builds.
 */
export interface Client extends Pick<ServiceApi, CallName> {
  /**
   * Resolves when the replica can answer queries from storage. After a cold start from a
   * compacted replica that is before the op set is merged again; writes (and `asOf`/`since`/
   * `history`) wait for the merge by themselves, see `loaded`.
   */
  readonly ready: Promise<void>;
  /**
   * A live query mirrored on this thread: `result()`, `rows()`, `subscribe(fn)` diffs, `close()`.
   * In place of the query, a {@link WatchSpec} `{ query, name?, asOf?, since?, tick? }`: `name`
   * makes the watch the named view `name` too (see `register`); `asOf`/`since` watch the database
   * as of / since a time — fixed, or `{ ago: ms }` (now minus a window, moving every `tick` ms).
   */
  watch(query: unknown | WatchSpec, ...inputs: unknown[]): WatchedQuery;
  /**
   * Registers `query` (with `inputs`) as the view `name`, maintained incrementally in the
   * replica's engine: later `watch`, `q`, `register` and `rule` queries use it as a relation,
   * `[name ?a ?b]`. `name` is a plain symbol (`my/view`); `dataloom/…` is reserved.
   */
  register(name: string, query: unknown, ...inputs: unknown[]): Registration;
  /**
   * A business rule: `fn` gets the query's diffs — the current rows first (tx null), then each
   * transaction's changes — and may return tx data (or a promise of it). That is transacted as a
   * local optimistic transaction (kept off the undo stack) and syncs like any other. Calls run
   * one at a time; failures are `rule-error` events. Write the query so the rule's own
   * transaction takes its rows away (e.g. `(not [?e :todo/done-at])`): it also sees the current
   * rows when the client starts.
   */
  rule(name: string, query: unknown, fn: RuleCallback, ...inputs: unknown[]): Registration;
  /** Removes the view or rule `name`; false when there was none. */
  unregister(name: string): Promise<boolean>;
  /** The database as of HLC stamp / ms `t`. */
  asOf(t: HlcString | number | Date): DbView;
  /** The datoms decided after `t`. */
  since(t: HlcString | number | Date): DbView;
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
  /**
   * Streams the datoms (`[e, attr, v, added]` rows): all current ones first (`initial`), then each
   * transaction's changes. Resolves to the function that stops the stream.
   */
  streamDatoms(fn: (rows: DatomRow[], initial: boolean) => void): Promise<() => void>;
  /**
   * The draft `id` (an id from `createDraft`, or any name: collaborators using the same name share
   * the draft): its view is the committed database with the draft laid over it; see `Draft`.
   */
  draft(id: string): Draft;
  /**
   * `fn` gets whether there is something to undo / redo (in the main database, or in `draft`)
   * now and whenever it changes; returns the function that stops it. See `undo`/`redo`.
   */
  onUndoStatus(fn: (status: { canUndo: boolean; canRedo: boolean }) => void, draft?: string): () => void;
  /**
   * A scope (partial sync): the server sends only the entities `query` finds (its first find
   * variable is an entity; `{ref: globalId}` inputs name entities) that the user may read, the
   * current state of what enters, and drops what leaves (from memory and storage). `{ query, pull }`
   * takes along the entities the pull pattern's nested maps reach (`[:todo/title {:todo/list [*]}]`:
   * the todos' lists), followed as refs change. With no scope the client receives everything its
   * user may read. `ready()` resolves when the first result is in; `close()` releases it.
   */
  subscribe(query: string | { query: string; pull?: string }, ...inputs: unknown[]): { ready(): Promise<void>; close(): Promise<void> };
  /** Rejections, storage faults, clock drift, sync status. */
  on(fn: (e: ClientEvent) => void): () => void;
  close(): Promise<void>;
}

let scopeSeq = 0;

const time = (t: HlcString | number | Date) => (t instanceof Date ? t.getTime() : t);

/** The service behind each in-process client (tests reach the replica through it: `internals.ts`). */
const services = new WeakMap<Client, () => ClientService | null>();

/**
 * The service of an in-process client once it opened (after `ready`), else null (a worker-backed
 * client's lives in the worker).
 */
export function serviceOf(client: Client): ClientService | null {
  return services.get(client)?.() ?? null;
}

/** Creates a client (see module docs). */
export function createClient(options: CreateClientOptions): Client {
  const { worker, ...rest } = options;
  const useWorker = worker !== undefined && worker !== false;
  const { token, WebSocket, store, ...plain } = rest;
  if (useWorker && (typeof token === 'function' || WebSocket || store)) {
    throw new DataloomError('client/options', 'token functions, WebSocket and store options cannot cross into a worker', {});
  }
  const hostOptions: HostOptions = { ...plain, ...(typeof token === 'string' || token === null ? { token } : {}) };
  const extra: Partial<ClientOptions> = useWorker ? {} : { ...(token !== undefined ? { token } : {}), ...(WebSocket ? { WebSocket } : {}), ...(store ? { store } : {}) };
  let service: ClientService | null = null;
  let host: Host;
  let endpoint: Comlink.Remote<Host> | null = null;
  let ready: Promise<void>;
  if (useWorker) {
    endpoint = Comlink.wrap<Host>(worker as Comlink.Endpoint);
    host = endpoint as unknown as Host;
    ready = host.open(encode(hostOptions), extra);
  } else {
    // In-process: the replica, the engine and the sync client load on demand, so an app whose
    // replica runs in a worker does not carry them in its main bundle (`serviceOf` answers once
    // `ready` resolved).
    const loaded = import('./host.js').then((m) => m.createHost((s) => (service = s)));
    host = lazyHost(loaded);
    ready = loaded.then((h) => h.open(encode(hostOptions), extra));
  }
  ready = ready.then(() => undefined);
  ready.catch(() => {});
  let closing: Promise<void> | null = null;
  const svc = connect(host, ready, useWorker ? (f) => Comlink.proxy(f) : (f) => f, () => closing !== null);
  const listeners = new Set<(e: ClientEvent) => void>();
  void ready.then(() => svc.events((e) => listeners.forEach((fn) => fn(e)))).catch(() => {}); // closed before it opened

  const dbView = (kind: 'asOf' | 'since', t: HlcString | number | Date): DbView => ({
    q: (query, ...inputs) => svc[kind](time(t), query, inputs),
  });

  const client: Client = {
    ready,
    ...callMethods(svc),
    watch(query, ...inputs) {
      return mirrorWatch(
        (sink) => svc.watch(query, inputs, sink),
        (id) => void svc.unwatch(id),
      );
    },
    register: (name, query, ...inputs) => registration(name, svc.register(name, query, inputs), svc),
    rule: (name, query, fn, ...inputs) => registration(name, svc.rule(name, query, inputs, fn), svc),
    draft: (id) => draftHandle(svc, id),
    subscribe(query, ...inputs) {
      const id = ++scopeSeq;
      const ready = svc.subscribe(id, query, inputs);
      ready.catch(() => {});
      return { ready: () => ready, close: () => svc.unsubscribe(id) };
    },
    onUndoStatus: (fn, draft) =>
      listenRemote(
        (sink) => svc.undoWatch(draft ?? null, sink),
        (id) => void svc.undoUnwatch(id),
        fn,
      ),
    asOf: (t) => dbView('asOf', t),
    since: (t) => dbView('since', t),
    historyDb: () => ({ q: (query, ...inputs) => svc.historyQ(query, inputs) }),
    async text(eid, attr) {
      const Y = await import('yjs'); // on first use: apps without collaborative text do not load it
      const doc = new Y.Doc();
      const REMOTE = 'dataloom:remote';
      const opened = await svc.textOpen(eid, attr, (u) => Y.applyUpdate(doc, u, REMOTE));
      Y.applyUpdate(doc, opened.state, REMOTE);
      // Local edits are batched per frame (16 ms) into one merged update = one transaction.
      let pending: Uint8Array[] = [];
      let timer: ReturnType<typeof setTimeout> | null = null;
      const flush = () => {
        timer = null;
        const merged = pending.length === 1 ? pending[0]! : Y.mergeUpdates(pending);
        pending = [];
        void svc.textUpdate(opened.gid, opened.a, merged).catch(() => {});
      };
      doc.on('update', (u: Uint8Array, origin: unknown) => {
        if (origin === REMOTE) return;
        pending.push(u);
        if (timer === null) timer = setTimeout(flush, 16);
      });
      return doc.getText('text');
    },
    async streamDatoms(fn) {
      const id = await svc.streamDatoms(fn);
      return () => void svc.unstreamDatoms(id).catch(() => {});
    },
    on(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close() {
      // once: later calls of the client's methods reject with replica/closed, releases do nothing
      return (closing ??= (async () => {
        await ready.catch(() => {});
        await host.close().catch(rethrow);
        if (endpoint) endpoint[Comlink.releaseProxy]();
      })());
    },
  };
  if (!useWorker) services.set(client, () => service);
  return client;
}

/** The handle of a registration whose replica side is `started`. */
function registration(name: string, started: Promise<unknown>, svc: ServiceApi): Registration {
  const ready = started.then(() => undefined);
  ready.catch(() => {});
  let closing: Promise<void> | null = null;
  return {
    name,
    ready,
    close: () =>
      (closing ??= ready.then(
        () => svc.unregister(name).then(() => undefined),
        () => undefined,
      )),
  };
}

/** A host whose methods wait for the host `loaded` resolves to. */
function lazyHost(loaded: Promise<Host>): Host {
  const h: Record<string, unknown> = { open: (...a: Parameters<Host['open']>) => loaded.then((x) => x.open(...a)) };
  for (const name of Object.keys(METHODS) as MethodName[]) h[name] = (...a: unknown[]) => loaded.then((x) => x[name](...a));
  return h as Host;
}
