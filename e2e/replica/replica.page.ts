/**
 * Browser side of the replica e2e test: a client whose replica runs in a real Web Worker over
 * real IndexedDB, exposed to the test as `window.app`.
 */
import { createClient } from '@dataloom/client';

const schema = {
  'todo/title': {},
  'todo/tags': { ':db/cardinality': ':db.cardinality/many' },
};

const worker = new Worker(new URL('./replica.worker.ts', import.meta.url), { type: 'module' });
const client = createClient({ name: 'e2e-replica', schema, storage: 'indexeddb', worker });
const view = client.watch('[:find ?t :where [_ :todo/title ?t]]');
const seen: string[] = [];
view.subscribe((diffs) => {
  for (const [row, , m] of diffs) seen.push(`${m > 0 ? '+' : '-'}${(row as string[])[0]}`);
});

const app = {
  async add(title: string): Promise<number> {
    const r = await client.transact([{ ':db/id': 'x', 'todo/title': title, 'todo/tags': ['e2e'] }]);
    return r.tempids.x!;
  },
  async titles(): Promise<string[]> {
    return ((await client.q('[:find [?t ...] :where [_ :todo/title ?t]]')) as string[]).sort();
  },
  watched(): string[] {
    return [...(view.result() as Set<string[]>)].map((r) => r[0]!).sort();
  },
  diffs(): string[] {
    return seen.slice();
  },
  storage(): Promise<string> {
    return client.storageKind();
  },
};
(window as unknown as { app: typeof app }).app = app;
void Promise.all([client.ready, view.ready]).then(() => {
  document.body.dataset.ready = 'true';
});
