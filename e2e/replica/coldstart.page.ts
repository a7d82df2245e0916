/** Browser side of the cold-start measurement (see coldstart.measure.ts). */
import { formatHlc, type Op } from '@dataloom/core';
import { MergeState } from '@dataloom/core/internals';
import { IdbStore, createClient } from '@dataloom/client';
import { Replica } from '../../packages/client/src/internals.js';

const schema = {
  'p/name': {},
  'p/email': { ':db/unique': ':db.unique/identity' },
  'p/age': {},
  'p/tags': { ':db/cardinality': ':db.cardinality/many' },
  'p/friend': { ':db/valueType': ':db.type/ref', ':db/cardinality': ':db.cardinality/many' },
};

async function usage(): Promise<number> {
  return (await navigator.storage.estimate()).usage ?? 0;
}

const api = {
  /** Writes a replica of `nEntities` × 5 datoms straight into IndexedDB (one snapshot). */
  async seed(nEntities: number): Promise<{ datoms: number; bytes: number }> {
    const before = await usage();
    const ops: Op[] = [];
    for (let i = 0; i < nEntities; i++) {
      const tx = formatHlc({ ms: 1_700_000_000_000 + i, counter: 0, replica: 'seed' });
      const e = `seed.${i.toString(36)}`;
      ops.push({ id: tx + '/0', tx, e, op: 'add', a: 'p/name', v: 'name ' + (i % 1000) });
      ops.push({ id: tx + '/1', tx, e, op: 'add', a: 'p/email', v: `u${i}@example.com` });
      ops.push({ id: tx + '/2', tx, e, op: 'add', a: 'p/age', v: i % 90 });
      ops.push({ id: tx + '/3', tx, e, op: 'add', a: 'p/tags', v: 'tag' + (i % 7) });
      ops.push({ id: tx + '/4', tx, e, op: 'add', a: 'p/friend', v: { ref: `seed.${((i * 7) % nEntities).toString(36)}` } });
    }
    const store = new IdbStore('dataloom:cold');
    await store.putMeta({ replicaId: 'coldstart', hlc: { ms: 1_800_000_000_000, counter: 0 }, cursor: null });
    await store.compact(ops);
    await store.close();
    // a replica compacts once more, writing the derived snapshot a real app's replica keeps
    const r = new Replica({ schema, store: new IdbStore('dataloom:cold') });
    await r.compact();
    await r.close();
    await new Promise((r) => setTimeout(r, 500));
    return { datoms: ops.length, bytes: (await usage()) - before };
  },
  /** Opens the replica from IndexedDB; returns ms until ready and the datom count. */
  async open(): Promise<{ ms: number; readableMs: number; readableDatoms: number; loadMs: number; mergeMs: number; datoms: number }> {
    const t0 = performance.now();
    const store = new IdbStore('dataloom:cold');
    const t1 = performance.now();
    const loaded = await store.load();
    const loadMs = performance.now() - t1;
    await store.close();
    const tm = performance.now();
    new MergeState(schema).apply(loaded.snapshot);
    const mergeMs = performance.now() - tm;
    const t2 = performance.now();
    const r = new Replica({ schema, store: new IdbStore('dataloom:cold') });
    await r.readable;
    const readableMs = performance.now() - t2;
    const readableDatoms = r.db().size;
    await r.ready;
    const ms = performance.now() - t2;
    void t0;
    const datoms = r.db().size;
    await r.close();
    return { ms, readableMs, readableDatoms, loadMs, mergeMs, datoms };
  },
  /**
   * A worker-backed client over the seeded replica with 20 watched queries: ms from
   * `transact` to the watched view's diff on this (main) thread, per transaction.
   */
  async txToDiff(runs: number): Promise<{ readyMs: number; ms: number[] }> {
    const t0 = performance.now();
    const worker = new Worker(new URL('./replica.worker.ts', import.meta.url), { type: 'module' });
    const client = createClient({ name: 'cold', schema, storage: 'indexeddb', worker, tabs: false });
    await client.ready;
    const views = Array.from({ length: 20 }, (_, i) => client.watch(`[:find ?e ?n :where [?e :p/age ${i}] [?e :p/name ?n]]`));
    await Promise.all(views.map((v) => v.ready));
    const readyMs = performance.now() - t0;
    const ids = (await client.q('[:find [?e ...] :where [?e :p/age 30]]')) as number[];
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const target = views[i % 20]!;
      const got = new Promise<void>((res) => {
        const off = target.subscribe(() => {
          off();
          res();
        });
      });
      const t = performance.now();
      await client.transact([[':db/add', ids[i % ids.length]!, ':p/age', i % 20]]);
      await got;
      ms.push(performance.now() - t);
    }
    await client.close();
    worker.terminate();
    return { readyMs, ms };
  },
};
(window as unknown as { cold: typeof api }).cold = api;
document.body.dataset.ready = 'true';
