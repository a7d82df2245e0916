/**
 * Browser side of the log-reset e2e test: a client in a real Web Worker over real IndexedDB,
 * syncing with the server named by `?url=` (none: offline), exposed to the test as `window.app`.
 */
import { createClient } from '@dataloom/client';

const schema = { ':item/title': {}, ':item/count': {} };
const params = new URLSearchParams(location.search);
const url = params.get('url') ?? undefined;
const worker = new Worker(new URL('./reset.worker.ts', import.meta.url), { type: 'module' });
const client = createClient({ name: 'e2e-reset', schema, storage: 'indexeddb', worker, ...(url ? { url } : {}) });
const view = client.watch('[:find ?t :where [_ :item/title ?t]]');
const seen: string[] = [];
view.subscribe((diffs) => {
  for (const [row, , m] of diffs) seen.push(`${m > 0 ? '+' : '-'}${(row as string[])[0]}`);
});

const app = {
  async add(title: string): Promise<string> {
    const r = await client.transact([{ ':db/id': 'x', ':item/title': title, ':item/count': 1 }]);
    return r.tx;
  },
  confirmed(tx: string): Promise<unknown> {
    return client.confirmed(tx);
  },
  synced(): Promise<void> {
    return client.whenSynced();
  },
  async titles(): Promise<string[]> {
    return ((await client.q('[:find [?t ...] :where [_ :item/title ?t]]')) as string[]).sort();
  },
  watched(): string[] {
    return [...(view.result() as Set<string[]>)].map((r) => r[0]!).sort();
  },
  diffs(): string[] {
    return seen.slice();
  },
  /** The view's rows when it was ready. */
  initial(): string[] {
    return initial.slice();
  },
  async pending(): Promise<number> {
    return ((await client.pending()) as unknown[]).length;
  },
};
(window as unknown as { app: typeof app }).app = app;
let initial: string[] = [];
void Promise.all([client.ready, view.ready]).then(() => {
  initial = app.watched();
  document.body.dataset.ready = 'true';
});
