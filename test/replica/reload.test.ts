/**
 * Reload test: random steps (local transacts, acks, rejects, remote batches, compaction) on an
 * IndexedDB-backed replica (fake-indexeddb), closing and reopening the store at random points.
 * After every reopen: nothing `transact` resolved is lost (unless the server rejected it), the
 * outbox is exactly the unacknowledged transactions, and the state equals a replica rebuilt in
 * memory from the same ops. `FUZZ_RUNS`/`FUZZ_SEED` as usual.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { formatHlc, type TxEnvelope } from '@dataloom/core';
import { Replica } from '../../packages/client/src/internals.js';
import { IdbStore } from '../../packages/client/src/store/indexeddb.js';
import { mulberry32, pick, replayableAsync, seeds } from '../gen/prng.js';

const schema = {
  'n/name': {},
  'n/key': { ':db/unique': ':db.unique/identity' },
  'n/tags': { ':db/cardinality': ':db.cardinality/many' },
  'n/next': { ':db/valueType': ':db.type/ref' },
};

describe('replica reload (fake-indexeddb)', () => {
  for (const seed of seeds(12)) {
    it(`seed ${seed}`, () =>
      replayableAsync(seed, async () => {
        const rnd = mulberry32(seed);
        const name = `reload-${seed}-${Date.now()}`;
        let wall = 1_700_000_000_000;
        const now = () => wall;
        const open = () => new Replica({ schema, store: new IdbStore(name), now });
        let r = open();
        await r.ready;
        const committed = new Set<string>(); // op ids that must survive
        const pending: string[] = []; // outbox txs
        let remoteN = 0;
        for (let step = 0; step < 40; step++) {
          wall += Math.floor(rnd() * 5) - 1;
          const k = rnd();
          if (k < 0.45) {
            const tx =
              rnd() < 0.5
                ? [{ 'n/key': pick(rnd, ['a', 'b', 'c', 'd']), 'n/name': `v${step}`, 'n/tags': [pick(rnd, ['x', 'y'])] }]
                : [[':db/add', -1, ':n/name', `w${step}`]];
            const res = await r.localTransact(tx);
            for (const o of res.envelope.ops) committed.add(o.id);
            pending.push(res.tx);
          } else if (k < 0.55 && pending.length) {
            await r.ack(pending.shift()!, `p${step}`);
          } else if (k < 0.62 && pending.length) {
            const i = Math.floor(rnd() * pending.length);
            const tx = pending.splice(i, 1)[0]!;
            for (const id of [...committed]) if (id.startsWith(tx + '/')) committed.delete(id);
            await r.reject(tx, { code: 'server/rejected', message: 'no' });
          } else if (k < 0.8) {
            const stamp = formatHlc({ ms: wall - 10, counter: remoteN++, replica: 'remote' });
            const env: TxEnvelope = {
              tx: stamp,
              replica: 'remote',
              ops: [{ id: stamp + '/0', tx: stamp, e: `remote.${remoteN}`, op: 'add', a: 'n/name', v: `r${step}` }],
            };
            await r.applyRemote([env], `c${remoteN}`);
            committed.add(env.ops[0]!.id);
          } else if (k < 0.85) {
            await r.compact();
          } else {
            const before = new TextDecoder().decode(r.encodeSnapshot());
            await r.close();
            r = open();
            await r.ready;
            expect(r.storageKind()).toBe('indexeddb');
            expect(new TextDecoder().decode(r.encodeSnapshot())).toBe(before);
          }
          const held = new Set([...r.merged().allOps()].map((o) => o.id));
          for (const id of committed) expect(held.has(id), `lost op ${id} at step ${step}`).toBe(true);
          expect(held.size).toBe(committed.size);
          expect(r.outbox().map((e) => e.tx)).toEqual(pending);
        }
        await r.close();
        await new IdbStore(name).destroy();
      }));
  }
});

describe('eviction of a running replica (fake-indexeddb)', () => {
  it('re-persists everything it holds when its database is deleted under it, and says so', async () => {
    const name = `evict-${Date.now()}`;
    const r = new Replica({ schema, store: new IdbStore(name) });
    await r.ready;
    const events: Array<{ code: string; lost: number }> = [];
    r.on('storage-error', (e) => events.push({ code: e.error.code, lost: e.lost.length }));
    const t1 = await r.localTransact([{ 'n/name': 'before eviction' }]);
    await r.ack(t1.tx);
    const t2 = await r.localTransact([{ 'n/name': 'pending at eviction' }]);
    await new Promise<void>((res, rej) => {
      const req = indexedDB.deleteDatabase(name);
      req.onsuccess = () => res();
      req.onerror = () => rej(req.error);
    });
    const t3 = await r.localTransact([{ 'n/name': 'after eviction' }]);
    for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((res) => setTimeout(res, 5));
    expect(events).toEqual([{ code: 'storage/closed', lost: 0 }]);
    await r.close();
    const again = new Replica({ schema, store: new IdbStore(name) });
    await again.ready;
    const names = [...again.merged().datoms()].filter((d) => d.a === 'n/name').map((d) => d.v).sort();
    expect(names).toEqual(['after eviction', 'before eviction', 'pending at eviction']);
    expect(again.outbox().map((e) => e.tx)).toEqual([t2.tx, t3.tx]);
    expect(again.replicaId).toBe(r.replicaId);
    await again.close();
    await new IdbStore(name).destroy();
  });
});
