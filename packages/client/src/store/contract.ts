/**
 * The {@link ReplicaStore} contract as framework-free cases, so the same checks run under vitest
 * (`runStoreTests` in `./store.suite.ts`) and in a real browser (the Chromium e2e page).
 */
import { DataloomError, type Op, type TxEnvelope } from '@dataloom/core';
import type { ReplicaStore, StoreMeta } from './types.js';

export interface StoreFixture {
  /** A fresh store object over the fixture's data (simulates a reload when called again). */
  open(): ReplicaStore;
  cleanup?(): Promise<void>;
}

/** Minimal assertion interface (vitest's `expect(a).toEqual(b)` or a tiny browser shim). */
export interface Assert {
  equal(actual: unknown, expected: unknown, message?: string): void;
}

export interface StoreCase {
  name: string;
  run(f: StoreFixture, t: Assert): Promise<void>;
}

export const stamp = (n: number, r = 'ra') => `${n.toString(36).padStart(12, '0')}-0000-${r}`;
const env = (n: number, r = 'ra'): TxEnvelope => {
  const tx = stamp(n, r);
  return { tx, replica: r, ops: [{ id: `${tx}/0`, tx, e: `${r}.e${n}`, op: 'add', a: 'a/b', v: n }] };
};
const meta = (cursor: string | null, ms = 1): StoreMeta => ({ replicaId: 'ra', hlc: { ms, counter: 0 }, cursor });
const remoteOps = (n: number): Op[] => env(n, 'rb').ops;


export const storeContract: StoreCase[] = [
  {
    name: 'a fresh store is empty',
    async run(f, t) {
      const s = f.open();
      t.equal(await s.load(), { meta: null, snapshot: [], log: [], outbox: [] });
      await s.close();
    },
  },
  {
    name: 'persists the outbox and meta across a reload, in tx order',
    async run(f, t) {
      const s = f.open();
      await s.putLocal(env(3), meta(null, 3));
      await s.putLocal(env(1), meta(null, 3));
      await s.putLocal(env(2), meta(null, 3));
      await s.close();
      const s2 = f.open();
      const st = await s2.load();
      t.equal(st.outbox.map((e) => e.tx), [stamp(1), stamp(2), stamp(3)]);
      t.equal(st.outbox[0], env(1));
      t.equal(st.meta, meta(null, 3));
      await s2.close();
    },
  },
  {
    name: 'putLocals writes a group of envelopes and meta in one go',
    async run(f, t) {
      const s = f.open();
      if (!s.putLocals) {
        await s.close();
        return;
      }
      await s.putLocal(env(1), meta(null, 1));
      await s.putLocals([env(4), env(2), env(3)], meta(null, 4));
      await s.putLocals([], meta(null, 5));
      await s.close();
      const s2 = f.open();
      const st = await s2.load();
      t.equal(st.outbox.map((e) => e.tx), [stamp(1), stamp(2), stamp(3), stamp(4)]);
      t.equal(st.outbox[3], env(4));
      t.equal(st.meta, meta(null, 5));
      await s2.close();
    },
  },
  {
    name: 'acks moves several envelopes to the log as one batch; unknown txs are skipped',
    async run(f, t) {
      const s = f.open();
      if (!s.acks) {
        await s.close();
        return;
      }
      for (const n of [1, 2, 3]) await s.putLocal(env(n), meta(null, 3));
      await s.acks([stamp(1), stamp(9), stamp(3)]);
      await s.acks([]);
      await s.close();
      const s2 = f.open();
      const st = await s2.load();
      t.equal(st.outbox.map((e) => e.tx), [stamp(2)]);
      t.equal(st.log, [[...env(1).ops, ...env(3).ops]]);
      await s2.close();
    },
  },
  {
    name: 'an acknowledged draft envelope goes to the log with its draft id on every op (issue 11)',
    async run(f, t) {
      const s = f.open();
      const d1 = { ...env(1), draft: 'draft.x' };
      const d2 = { ...env(2), draft: 'draft.y' };
      await s.putLocal(d1, meta(null));
      await s.putLocal(d2, meta(null));
      await s.putLocal(env(3), meta(null));
      await s.ack(stamp(1));
      if (s.acks) await s.acks([stamp(2), stamp(3)]);
      else for (const n of [2, 3]) await s.ack(stamp(n));
      await s.close();
      const s2 = f.open();
      const st = await s2.load();
      t.equal(st.log.flat(), [{ ...env(1).ops[0]!, draft: 'draft.x' }, { ...env(2).ops[0]!, draft: 'draft.y' }, ...env(3).ops]);
      await s2.close();
    },
  },
  {
    name: 'appends remote batches in order with the cursor',
    async run(f, t) {
      const s = f.open();
      await s.putRemote(remoteOps(5), meta('c1'));
      await s.putRemote(remoteOps(4), meta('c2'));
      await s.putRemote([], meta('c3'));
      await s.close();
      const s2 = f.open();
      const st = await s2.load();
      t.equal(st.log, [remoteOps(5), remoteOps(4)]);
      t.equal(st.meta?.cursor, 'c3');
      await s2.close();
    },
  },
  {
    name: 'ack moves an envelope to the log; reject drops it; unknown tx is a no-op',
    async run(f, t) {
      const s = f.open();
      await s.putLocal(env(1), meta(null));
      await s.putLocal(env(2), meta(null));
      await s.ack(stamp(1));
      await s.reject(stamp(2));
      await s.ack(stamp(9));
      await s.reject(stamp(9));
      await s.close();
      const s2 = f.open();
      const st = await s2.load();
      t.equal(st.outbox, []);
      t.equal(st.log, [env(1).ops]);
      await s2.close();
    },
  },
  {
    name: 'compact replaces the snapshot and empties the log, keeping the outbox',
    async run(f, t) {
      const s = f.open();
      await s.putRemote(remoteOps(1), meta('c1'));
      await s.putLocal(env(2), meta('c1'));
      await s.compact([...remoteOps(1), ...remoteOps(3)]);
      await s.putRemote(remoteOps(4), meta('c2'));
      await s.close();
      const s2 = f.open();
      const st = await s2.load();
      t.equal(st.snapshot, [...remoteOps(1), ...remoteOps(3)]);
      t.equal(st.log, [remoteOps(4)]);
      t.equal(st.outbox, [env(2)]);
      t.equal(st.meta?.cursor, 'c2');
      await s2.close();
    },
  },
  {
    name: 'a derived snapshot is returned only while the store still matches it',
    async run(f, t) {
      const s = f.open();
      t.equal(await s.loadDerived(), null);
      await s.putLocal(env(2), meta('c1'));
      const derived = { outbox: [stamp(2)], datoms: [['ra.e2', 'a/b', 2, stamp(2)]] as Array<[string, string, number, string]> };
      await s.compact(remoteOps(1), derived);
      t.equal(await s.loadDerived(), derived);
      await s.close();
      const s2 = f.open();
      t.equal(await s2.loadDerived(), derived, 'survives a reload');
      await s2.putLocal(env(3), meta('c1'));
      t.equal(await s2.loadDerived(), null, 'a new outbox entry invalidates it');
      await s2.reject(stamp(3));
      t.equal(await s2.loadDerived(), derived, 'the same outbox again');
      await s2.putRemote(remoteOps(4), meta('c2'));
      t.equal(await s2.loadDerived(), null, 'a log append invalidates it');
      await s2.compact(remoteOps(1));
      t.equal(await s2.loadDerived(), null, 'compaction without derived drops it');
      await s2.close();
    },
  },
  {
    name: 'a closed store throws storage/closed',
    async run(f, t) {
      const s = f.open();
      await s.putMeta(meta(null));
      await s.close();
      let err: unknown;
      try {
        await s.putLocal(env(1), meta(null));
      } catch (e) {
        err = e;
      }
      t.equal(err instanceof DataloomError, true, 'a DataloomError');
      t.equal((err as DataloomError).code, 'storage/closed');
    },
  },
  {
    name: 'destroy deletes everything',
    async run(f, t) {
      const s = f.open();
      await s.putLocal(env(1), meta(null));
      await s.destroy();
      const s2 = f.open();
      t.equal(await s2.load(), { meta: null, snapshot: [], log: [], outbox: [] });
      await s2.close();
    },
  },
];
