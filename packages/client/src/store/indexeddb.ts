/**
 * IndexedDB store (via `idb`). One database per replica name, four object stores:
 * `meta` (key `"meta"`), `snapshot` (key `"main"`), `log` (auto-increment keys, one record per
 * batch) and `outbox` (keyed by tx). Every write is one `readwrite` transaction with
 * `durability: 'strict'`, resolved only on `complete`.
 *
 * Faults:
 * - `versionchange` from another tab (it wants to upgrade or delete the database): we close at
 *   once so it is not blocked, and reopen lazily on the next call. If the database was deleted,
 *   the reopened one is empty: a `storage/closed` fault with `data.evicted = true` is reported
 *   through {@link IdbStore.onFault} so the replica can re-persist or report what was lost.
 * - The browser closing the connection abnormally (`terminated`, e.g. storage cleared): same path.
 * - A newer schema version elsewhere: `storage/version`.
 * - Quota: `storage/quota`. No IndexedDB at all: `storage/unavailable` from the constructor's
 *   first call.
 */
import { openDB, deleteDB, type IDBPDatabase } from 'idb';
import { DataloomError, type HlcString, type Op, type TxEnvelope } from '@dataloom/core';
import type { DerivedSnapshot, ReplicaStore, StoreMeta, StoredState } from './types.js';
import { logOps } from './log-ops.js';
import { sameTxs } from './memory.js';
import { storageError } from './errors.js';

/** Current on-disk layout version. Bump with an `upgrade` step. */
export const IDB_VERSION = 1;

const STORES = ['meta', 'snapshot', 'log', 'outbox'] as const;

/** The slice of idb's transaction type the writers use (its generic types fight string store names). */
interface RwTx {
  objectStore(name: (typeof STORES)[number]): {
    put(value: unknown, key?: IDBValidKey): Promise<unknown>;
    count(): Promise<number>;
    add(value: unknown): Promise<unknown>;
    get(key: IDBValidKey): Promise<unknown>;
    delete(key: IDBValidKey): Promise<void>;
    clear(): Promise<void>;
  };
  abort(): void;
  readonly done: Promise<void>;
}

export interface IdbStoreOptions {
  /** `IDBFactory` to use (default `globalThis.indexedDB`; tests pass fake-indexeddb's). */
  indexedDB?: IDBFactory;
}

export class IdbStore implements ReplicaStore {
  readonly kind = 'indexeddb';
  private db: IDBPDatabase | null = null;
  private opening: Promise<IDBPDatabase> | null = null;
  private closed = false;
  /** Whether this connection has seen meta (so an empty reopened database means eviction). */
  private hadMeta = false;
  private readonly faults = new Set<(e: DataloomError) => void>();
  private readonly factory: IDBFactory | undefined;

  constructor(
    readonly name: string,
    options: IdbStoreOptions = {},
  ) {
    this.factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  }

  private fault(e: DataloomError): void {
    for (const fn of this.faults) fn(e);
  }

  private async conn(): Promise<IDBPDatabase> {
    if (this.closed) throw new DataloomError('storage/closed', `IndexedDB store ${this.name} is closed`, { store: this.name });
    if (this.db) return this.db;
    if (this.opening) return this.opening;
    if (!this.factory) {
      throw new DataloomError('storage/unavailable', 'IndexedDB is not available in this environment', { store: this.name });
    }
    const factory = this.factory;
    // idb reads the global `indexedDB` synchronously inside openDB: point it at ours for that call.
    const open = (): Promise<IDBPDatabase> =>
      withFactory(factory, () =>
        openDB(this.name, IDB_VERSION, {
          upgrade(db) {
            for (const s of STORES) {
              if (db.objectStoreNames.contains(s)) continue;
              if (s === 'log') db.createObjectStore(s, { autoIncrement: true });
              else if (s === 'outbox') db.createObjectStore(s, { keyPath: 'tx' });
              else db.createObjectStore(s);
            }
          },
          blocking: () => {
            // another connection wants a version change (upgrade or delete): step aside, reopen lazily
            this.db?.close();
            this.db = null;
          },
          terminated: () => {
            this.db = null;
            this.fault(new DataloomError('storage/closed', `IndexedDB ${this.name} was closed by the browser`, { store: this.name, evicted: true }));
          },
        }),
      );
    this.opening = open()
      .then(async (db) => {
        this.db = db;
        if (this.hadMeta && (await db.get('meta', 'meta')) === undefined) {
          this.fault(new DataloomError('storage/closed', `IndexedDB ${this.name} was deleted or evicted`, { store: this.name, evicted: true }));
        }
        return db;
      })
      .catch((e) => {
        throw storageError(e, 'open', this.name);
      })
      .finally(() => {
        this.opening = null;
      });
    return this.opening;
  }

  private async write(action: string, fn: (tx: RwTx) => Promise<void> | void): Promise<void> {
    const db = await this.conn();
    try {
      const tx = db.transaction(STORES as unknown as string[], 'readwrite', { durability: 'strict' }) as unknown as RwTx;
      // Keep the promise chain inside the transaction; abort on any failure.
      const body = Promise.resolve(fn(tx)).catch((e) => {
        try {
          tx.abort();
        } catch {
          /* already finished */
        }
        throw e;
      });
      await Promise.all([body, tx.done]);
    } catch (e) {
      throw storageError(e, action, this.name);
    }
  }

  async load(): Promise<StoredState> {
    const db = await this.conn();
    try {
      const tx = db.transaction(STORES as unknown as string[], 'readonly');
      const [meta, snap, log, outbox] = await Promise.all([
        tx.objectStore('meta').get('meta') as Promise<StoreMeta | undefined>,
        tx.objectStore('snapshot').get('main') as Promise<Op[] | undefined>,
        tx.objectStore('log').getAll() as Promise<Op[][]>,
        tx.objectStore('outbox').getAll() as Promise<TxEnvelope[]>,
      ]);
      await tx.done;
      if (meta) this.hadMeta = true;
      return { meta: meta ?? null, snapshot: snap ?? [], log, outbox };
    } catch (e) {
      throw storageError(e, 'load', this.name);
    }
  }

  async getSetting(key: string): Promise<unknown> {
    const db = await this.conn();
    try {
      return await db.get('meta', `setting:${key}`);
    } catch (e) {
      throw storageError(e, 'getSetting', this.name);
    }
  }

  async putSetting(key: string, value: unknown): Promise<void> {
    await this.write('putSetting', (tx) => {
      void tx.objectStore('meta').put(value, `setting:${key}`);
    });
  }

  async putMeta(meta: StoreMeta): Promise<void> {
    await this.write('putMeta', (tx) => {
      void tx.objectStore('meta').put(meta, 'meta');
    });
    this.hadMeta = true;
  }

  async putLocal(envelope: TxEnvelope, meta: StoreMeta): Promise<void> {
    await this.write('putLocal', (tx) => {
      void tx.objectStore('outbox').put(envelope);
      void tx.objectStore('meta').put(meta, 'meta');
    });
    this.hadMeta = true;
  }

  async putLocals(envelopes: readonly TxEnvelope[], meta: StoreMeta): Promise<void> {
    await this.write('putLocal', (tx) => {
      const outbox = tx.objectStore('outbox');
      for (const envelope of envelopes) void outbox.put(envelope);
      void tx.objectStore('meta').put(meta, 'meta');
    });
    this.hadMeta = true;
  }

  async putRemote(ops: Op[], meta: StoreMeta): Promise<void> {
    await this.write('putRemote', (tx) => {
      if (ops.length) void tx.objectStore('log').add(ops);
      void tx.objectStore('meta').put(meta, 'meta');
    });
    this.hadMeta = true;
  }

  async ack(txId: HlcString): Promise<void> {
    await this.write('ack', async (tx) => {
      const env = (await tx.objectStore('outbox').get(txId)) as TxEnvelope | undefined;
      if (!env) return;
      await tx.objectStore('outbox').delete(txId);
      await tx.objectStore('log').add(logOps(env));
    });
  }

  async acks(txIds: readonly HlcString[]): Promise<void> {
    await this.write('ack', async (tx) => {
      const outbox = tx.objectStore('outbox');
      const envs = (await Promise.all(txIds.map((t) => outbox.get(t)))) as Array<TxEnvelope | undefined>;
      const ops: Op[] = [];
      for (const env of envs) {
        if (!env) continue;
        void outbox.delete(env.tx);
        ops.push(...logOps(env));
      }
      if (ops.length) await tx.objectStore('log').add(ops);
    });
  }

  async reject(txId: HlcString): Promise<void> {
    await this.write('reject', (tx) => {
      void tx.objectStore('outbox').delete(txId);
    });
  }

  async compact(ops: Op[], derived: DerivedSnapshot | null = null): Promise<void> {
    await this.write('compact', (tx) => {
      void tx.objectStore('log').clear();
      void tx.objectStore('snapshot').put(ops, 'main');
      if (derived) void tx.objectStore('snapshot').put(derived, 'derived');
      else void tx.objectStore('snapshot').delete('derived');
    });
  }

  async loadDerived(): Promise<DerivedSnapshot | null> {
    const db = await this.conn();
    try {
      const tx = db.transaction(['snapshot', 'log', 'outbox'], 'readonly');
      const [derived, logCount, outboxKeys] = await Promise.all([
        tx.objectStore('snapshot').get('derived') as Promise<DerivedSnapshot | undefined>,
        tx.objectStore('log').count(),
        tx.objectStore('outbox').getAllKeys() as Promise<string[]>,
      ]);
      await tx.done;
      if (!derived || logCount > 0 || !sameTxs(derived.outbox, outboxKeys)) return null;
      return derived;
    } catch (e) {
      throw storageError(e, 'loadDerived', this.name);
    }
  }

  onFault(fn: (error: DataloomError) => void): () => void {
    this.faults.add(fn);
    return () => this.faults.delete(fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.opening) await this.opening.catch(() => {});
    this.db?.close();
    this.db = null;
  }

  async destroy(): Promise<void> {
    await this.close();
    if (!this.factory) return;
    try {
      await withFactory(this.factory, () => deleteDB(this.name));
    } catch (e) {
      throw storageError(e, 'destroy', this.name);
    }
  }
}

/** Runs `fn` (which must call `indexedDB.open/deleteDatabase` synchronously) against `factory`. */
function withFactory<T>(factory: IDBFactory, fn: () => T): T {
  const g = globalThis as { indexedDB?: IDBFactory };
  const prev = g.indexedDB;
  if (prev === factory) return fn();
  g.indexedDB = factory;
  try {
    return fn();
  } finally {
    g.indexedDB = prev;
  }
}
