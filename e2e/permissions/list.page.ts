/**
 * Browser side of the permissions e2e test: a client (Web Worker, IndexedDB) logged in as the
 * user in `?token=`, rendering the items it can see into a list (a watched query). `app.stored(x)`
 * says whether any record of its IndexedDB database holds the text `x`.
 */
import { createClient } from '@dataloom/client';
import { schema } from './schema.js';

const params = new URLSearchParams(location.search);
const name = params.get('name') ?? 'e2e-permissions';
const worker = new Worker(new URL('./list.worker.ts', import.meta.url), { type: 'module' });
const client = createClient({ name, schema, storage: 'indexeddb', url: params.get('url')!, token: params.get('token')!, worker });

const ul = document.createElement('ul');
ul.dataset.testid = 'items';
document.body.append(ul);
const items = client.watch('[:find ?t :where [_ :item/title ?t]]');
const render = () => {
  const titles = [...(items.result() as Set<[string]>)].map((r) => r[0]).sort();
  ul.replaceChildren(...titles.map((t) => Object.assign(document.createElement('li'), { textContent: t })));
};
items.subscribe(render);
void items.ready.then(render);

/** Whether any record of this client's IndexedDB database contains `text`. */
async function stored(text: string): Promise<boolean> {
  const db = await new Promise<IDBDatabase>((res, rej) => {
    const r = indexedDB.open(`dataloom:${name}`);
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
  try {
    for (const s of [...db.objectStoreNames]) {
      const all = await new Promise<unknown[]>((res, rej) => {
        const r = db.transaction(s, 'readonly').objectStore(s).getAll();
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      if (JSON.stringify(all).includes(text)) return true;
    }
    return false;
  } finally {
    db.close();
  }
}

const app = {
  transact: (tx: unknown) => client.transact(tx).then((r) => ({ tx: r.tx, ids: r.globalIds })),
  confirmed: (tx: string) => client.confirmed(tx).then(() => true),
  titles: async () => ((await client.q('[:find [?t ...] :where [_ :item/title ?t]]')) as string[]).sort(),
  stored,
};
(window as unknown as { app: typeof app }).app = app;
void client.ready.then(() => {
  document.body.dataset.ready = 'true';
});
