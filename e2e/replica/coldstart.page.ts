/** Browser side of the cold-start measurement (see coldstart.measure.ts). */
import { MergeState, formatHlc, type Op } from '@dataloom/core';
import { IdbStore, Replica } from '@dataloom/client';

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
    const store = new IdbStore('coldstart');
    await store.putMeta({ replicaId: 'coldstart', hlc: { ms: 1_800_000_000_000, counter: 0 }, cursor: null });
    await store.compact(ops);
    await store.close();
    await new Promise((r) => setTimeout(r, 500));
    return { datoms: ops.length, bytes: (await usage()) - before };
  },
  /** Opens the replica from IndexedDB; returns ms until ready and the datom count. */
  async open(): Promise<{ ms: number; loadMs: number; mergeMs: number; datoms: number }> {
    const t0 = performance.now();
    const store = new IdbStore('coldstart');
    const t1 = performance.now();
    const loaded = await store.load();
    const loadMs = performance.now() - t1;
    await store.close();
    const tm = performance.now();
    new MergeState(schema).apply(loaded.snapshot, { validate: false });
    const mergeMs = performance.now() - tm;
    const t2 = performance.now();
    const r = new Replica({ schema, store: new IdbStore('coldstart') });
    await r.ready;
    const ms = performance.now() - t2;
    void t0;
    const datoms = r.db().size;
    await r.close();
    return { ms, loadMs, mergeMs, datoms };
  },
};
(window as unknown as { cold: typeof api }).cold = api;
document.body.dataset.ready = 'true';
