/**
 * The shared contract suite for {@link ReplicaStore} backends (run it with vitest):
 *
 * ```ts
 * runStoreTests('memory', async () => { const b = memoryBacking(); return { open: () => new MemoryStore(b) }; });
 * ```
 * `open()` must return a new store over the *same* data each time (a reload).
 */
import { describe, expect, it } from 'vitest';
import { DataloomError, type Op, type TxEnvelope } from '@dataloom/core';
import type { ReplicaStore, StoreMeta } from './types.js';

export interface StoreFixture {
  /** A fresh store object over the fixture's data (simulates a reload when called again). */
  open(): ReplicaStore;
  cleanup?(): Promise<void>;
}

const stamp = (n: number, r = 'ra') => `${n.toString(36).padStart(12, '0')}-0000-${r}`;
const env = (n: number, r = 'ra'): TxEnvelope => {
  const tx = stamp(n, r);
  return { tx, replica: r, ops: [{ id: `${tx}/0`, tx, e: `${r}.e${n}`, op: 'add', a: 'a/b', v: n }] };
};
const meta = (cursor: string | null, ms = 1): StoreMeta => ({ replicaId: 'ra', hlc: { ms, counter: 0 }, cursor });
const remoteOps = (n: number): Op[] => env(n, 'rb').ops;

export function runStoreTests(name: string, setup: () => Promise<StoreFixture>): void {
  describe(`ReplicaStore contract: ${name}`, () => {
    const withStore = async (fn: (f: StoreFixture) => Promise<void>) => {
      const f = await setup();
      try {
        await fn(f);
      } finally {
        await f.cleanup?.();
      }
    };

    it('a fresh store is empty', () =>
      withStore(async (f) => {
        const s = f.open();
        expect(await s.load()).toEqual({ meta: null, snapshot: [], log: [], outbox: [] });
        await s.close();
      }));

    it('persists the outbox and meta across a reload, in tx order', () =>
      withStore(async (f) => {
        const s = f.open();
        await s.putLocal(env(3), meta(null, 3));
        await s.putLocal(env(1), meta(null, 3));
        await s.putLocal(env(2), meta(null, 3));
        await s.close();
        const s2 = f.open();
        const st = await s2.load();
        expect(st.outbox.map((e) => e.tx)).toEqual([stamp(1), stamp(2), stamp(3)]);
        expect(st.outbox[0]).toEqual(env(1));
        expect(st.meta).toEqual(meta(null, 3));
        await s2.close();
      }));

    it('appends remote batches in order with the cursor', () =>
      withStore(async (f) => {
        const s = f.open();
        await s.putRemote(remoteOps(5), meta('c1'));
        await s.putRemote(remoteOps(4), meta('c2'));
        await s.putRemote([], meta('c3'));
        await s.close();
        const st = await f.open().load();
        expect(st.log).toEqual([remoteOps(5), remoteOps(4)]);
        expect(st.meta?.cursor).toBe('c3');
      }));

    it('ack moves an envelope to the log; reject drops it; unknown tx is a no-op', () =>
      withStore(async (f) => {
        const s = f.open();
        await s.putLocal(env(1), meta(null));
        await s.putLocal(env(2), meta(null));
        await s.ack(stamp(1));
        await s.reject(stamp(2));
        await s.ack(stamp(9));
        await s.reject(stamp(9));
        await s.close();
        const st = await f.open().load();
        expect(st.outbox).toEqual([]);
        expect(st.log).toEqual([env(1).ops]);
      }));

    it('compact replaces the snapshot and empties the log, keeping the outbox', () =>
      withStore(async (f) => {
        const s = f.open();
        await s.putRemote(remoteOps(1), meta('c1'));
        await s.putLocal(env(2), meta('c1'));
        await s.compact([...remoteOps(1), ...remoteOps(3)]);
        await s.putRemote(remoteOps(4), meta('c2'));
        await s.close();
        const st = await f.open().load();
        expect(st.snapshot).toEqual([...remoteOps(1), ...remoteOps(3)]);
        expect(st.log).toEqual([remoteOps(4)]);
        expect(st.outbox).toEqual([env(2)]);
        expect(st.meta?.cursor).toBe('c2');
      }));

    it('a closed store throws storage/closed', () =>
      withStore(async (f) => {
        const s = f.open();
        await s.putMeta(meta(null));
        await s.close();
        let err: unknown;
        try {
          await s.putLocal(env(1), meta(null));
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(DataloomError);
        expect((err as DataloomError).code).toBe('storage/closed');
      }));

    it('destroy deletes everything', () =>
      withStore(async (f) => {
        const s = f.open();
        await s.putLocal(env(1), meta(null));
        await s.destroy();
        expect(await f.open().load()).toEqual({ meta: null, snapshot: [], log: [], outbox: [] });
      }));
  });
}
