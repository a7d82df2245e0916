/**
 * The replica's store and what keeps its writes going: every write goes through
 * {@link Durable.persist}; on a storage failure (quota, database deleted or evicted, no
 * IndexedDB) the replica switches to an in-memory store holding everything it holds, says so
 * (`storage-error`), and keeps working. It also counts appended log batches and asks for a
 * compaction past `compactEvery`.
 */
import { DataloomError, type Op, type TxEnvelope } from '@dataloom/core';
import { MemoryStore } from '../store/memory.js';
import type { ReplicaStore, StoreMeta } from '../store/types.js';

/** What the replica holds, to be written again after a fault. */
export interface Holdings {
  /** Acknowledged and remote ops (not the outbox's). */
  ops: Op[];
  outbox: readonly TxEnvelope[];
  meta: StoreMeta;
}

/** What {@link Durable} asks of the replica. */
export interface DurableHost {
  /** Everything held, or null before the replica loaded (nothing to carry over). */
  holdings(): Holdings | null;
  /** Announces a storage fault (`storage-error`). */
  fault(error: DataloomError, lost: TxEnvelope[]): void;
  /** Runs `job` on the replica's serial queue. */
  run(job: () => Promise<void>): Promise<void>;
  /** Starts a compaction in the background. */
  compact(): void;
}

export class Durable {
  /** True once the replica fell back to memory after a storage fault. */
  private degraded = false;
  private offFault: () => void = () => {};
  private appends = 0;
  private appendedOps = 0;

  constructor(
    public store: ReplicaStore,
    private readonly host: DurableHost,
    private readonly compactEvery: number | undefined,
  ) {}

  /** `memory` or `indexeddb` (`memory` after a fallback). */
  get kind(): string {
    return this.store.kind;
  }

  /**
   * Runs a store write; on a storage failure switches to an in-memory store holding the full
   * current state, emits `storage-error`, and retries the write there. Returns whether the write
   * reached the original (persistent) store.
   */
  async persist(action: string, fn: (s: ReplicaStore) => Promise<void>): Promise<boolean> {
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

  /** Switches to an in-memory store seeded with everything held. */
  async fallback(error: DataloomError, lost: TxEnvelope[]): Promise<void> {
    const old = this.store;
    this.offFault();
    this.offFault = () => {};
    const mem = new MemoryStore(undefined, { copy: false });
    const held = this.host.holdings();
    if (held) await writeAll(mem, held);
    this.store = mem;
    this.degraded = true;
    void old.close().catch(() => {});
    this.host.fault(error, lost);
  }

  /** Listens for faults the store notices outside a call (after the replica loaded). */
  watchFaults(): void {
    this.offFault = this.store.onFault((e) => void this.onStoreFault(e));
  }

  /** The store noticed it was deleted/evicted: re-persist everything we hold, else fall back. */
  private onStoreFault(e: DataloomError): Promise<void> {
    return this.host
      .run(async () => {
        if (e.data.evicted === true && this.store.kind !== 'memory') {
          try {
            await writeAll(this.store, this.host.holdings()!);
            this.host.fault(e, []);
            return;
          } catch (err) {
            await this.fallback(err instanceof DataloomError ? err : e, []);
            return;
          }
        }
        await this.fallback(e, []);
      })
      .catch(() => {});
  }

  /** Sets the log counters (cold start: what the store's log holds). */
  loadedLog(batches: number, ops: number): void {
    this.appends = batches;
    this.appendedOps = ops;
  }

  /**
   * Counts a log batch of `ops` ops; past `compactEvery` batches (default 1000, 0 for a memory
   * store, where there is no cold start to speed up) or 10 × that many ops since the last
   * compaction, asks for one in the background (it also writes the derived snapshot that makes the
   * next cold start read-ready early).
   */
  noteLogAppend(ops = 1): void {
    const every = this.compactEvery ?? (this.store.kind === 'memory' ? 0 : 1000);
    this.appendedOps += ops;
    if (every <= 0 || (++this.appends < every && this.appendedOps < every * 10)) return;
    this.appends = 0;
    this.appendedOps = 0;
    this.host.compact();
  }

  /** Stops listening for faults and closes the store. */
  async close(): Promise<void> {
    this.offFault();
    await this.store.close();
  }
}

async function writeAll(store: ReplicaStore, held: Holdings): Promise<void> {
  await store.compact(held.ops);
  for (const env of held.outbox) await store.putLocal(env, held.meta);
  await store.putMeta(held.meta);
}
