/**
 * In-memory store: the fallback when IndexedDB is unavailable or failing, and the backend of
 * tests. Pass the same {@link MemoryBacking} to a new `MemoryStore` to simulate a reload.
 */
import { DataloomError, type HlcString, type Op, type TxEnvelope } from '@dataloom/core';
import type { DerivedSnapshot, ReplicaStore, StoreMeta, StoredState } from './types.js';
import { logOps } from './log-ops.js';

/** The data of a memory store; survives `close` so tests can reopen it. */
export interface MemoryBacking {
  meta: StoreMeta | null;
  snapshot: Op[];
  log: Op[][];
  outbox: Map<HlcString, TxEnvelope>;
  derived?: DerivedSnapshot | null;
  /** `putSetting`'s values. */
  settings?: Map<string, unknown>;
}

export function memoryBacking(): MemoryBacking {
  return { meta: null, snapshot: [], log: [], outbox: new Map() };
}

const deepClone = <T>(x: T): T => structuredClone(x);
const same = <T>(x: T): T => x;

export interface MemoryStoreOptions {
  /**
   * Copy what is written and read (default true), so a reopened store never shares objects with
   * the replica that wrote them — the faithful stand-in for a real store in tests. `false` keeps
   * references (cheaper): safe because the replica treats envelopes and ops as immutable once
   * made; `createClient({ storage: 'memory' })` uses it.
   */
  copy?: boolean;
}

export class MemoryStore implements ReplicaStore {
  readonly kind = 'memory';
  private closed = false;
  private readonly clone: <T>(x: T) => T;
  /** Test hook: when set, the next write throws this error (and changes nothing). */
  failNextWrite: Error | null = null;

  constructor(
    readonly backing: MemoryBacking = memoryBacking(),
    options: MemoryStoreOptions = {},
  ) {
    this.clone = options.copy === false ? same : deepClone;
  }

  private check(): void {
    if (this.closed) throw new DataloomError('storage/closed', 'memory store is closed', { store: 'memory' });
    if (this.failNextWrite) {
      const e = this.failNextWrite;
      this.failNextWrite = null;
      throw e;
    }
  }

  async load(): Promise<StoredState> {
    if (this.closed) throw new DataloomError('storage/closed', 'memory store is closed', { store: 'memory' });
    const b = this.backing;
    return this.clone({
      meta: b.meta,
      snapshot: b.snapshot,
      log: b.log,
      outbox: [...b.outbox.values()].sort((x, y) => (x.tx < y.tx ? -1 : 1)),
    });
  }
  async getSetting(key: string): Promise<unknown> {
    if (this.closed) throw new DataloomError('storage/closed', 'memory store is closed', { store: 'memory' });
    return this.clone((this.backing.settings ??= new Map()).get(key));
  }
  async putSetting(key: string, value: unknown): Promise<void> {
    this.check();
    (this.backing.settings ??= new Map()).set(key, this.clone(value));
  }
  async putMeta(meta: StoreMeta): Promise<void> {
    this.check();
    this.backing.meta = this.clone(meta);
  }
  async putLocal(envelope: TxEnvelope, meta: StoreMeta): Promise<void> {
    this.check();
    this.backing.outbox.set(envelope.tx, this.clone(envelope));
    this.backing.meta = this.clone(meta);
  }
  async putLocals(envelopes: readonly TxEnvelope[], meta: StoreMeta): Promise<void> {
    this.check();
    for (const envelope of envelopes) this.backing.outbox.set(envelope.tx, this.clone(envelope));
    this.backing.meta = this.clone(meta);
  }
  async putRemote(ops: Op[], meta: StoreMeta): Promise<void> {
    this.check();
    if (ops.length) this.backing.log.push(this.clone(ops));
    this.backing.meta = this.clone(meta);
  }
  async ack(tx: HlcString): Promise<void> {
    this.check();
    const env = this.backing.outbox.get(tx);
    if (!env) return;
    this.backing.outbox.delete(tx);
    this.backing.log.push(logOps(env));
  }
  async acks(txs: readonly HlcString[]): Promise<void> {
    this.check();
    const ops: Op[] = [];
    for (const tx of txs) {
      const env = this.backing.outbox.get(tx);
      if (!env) continue;
      this.backing.outbox.delete(tx);
      ops.push(...logOps(env));
    }
    if (ops.length) this.backing.log.push(ops);
  }
  async reject(tx: HlcString): Promise<void> {
    this.check();
    this.backing.outbox.delete(tx);
  }
  async compact(ops: Op[], derived: DerivedSnapshot | null = null): Promise<void> {
    this.check();
    this.backing.snapshot = this.clone(ops);
    this.backing.derived = derived ? this.clone(derived) : null;
    this.backing.log = [];
  }
  async loadDerived(): Promise<DerivedSnapshot | null> {
    if (this.closed) throw new DataloomError('storage/closed', 'memory store is closed', { store: 'memory' });
    const d = this.backing.derived;
    if (!d || this.backing.log.length > 0) return null;
    if (!sameTxs(d.outbox, [...this.backing.outbox.keys()])) return null;
    return this.clone(d);
  }
  onFault(): () => void {
    return () => {};
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  async destroy(): Promise<void> {
    Object.assign(this.backing, memoryBacking(), { derived: null });
    this.closed = true;
  }
}

/** Whether two lists hold the same txs (any order). */
export function sameTxs(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}
