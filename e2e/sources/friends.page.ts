/**
 * Browser side of the datsync e2e test: a client (Web Worker, IndexedDB) rendering who is whose
 * friend — a watched query over data a DataScript connection in the server process writes.
 */
import { createClient } from '@dataloom/client';
import { schema } from './schema.js';

const params = new URLSearchParams(location.search);
const worker = new Worker(new URL('./friends.worker.ts', import.meta.url), { type: 'module' });
const client = createClient({ name: params.get('name') ?? 'e2e-datsync', schema, storage: 'indexeddb', url: params.get('url')!, worker });

const ul = document.createElement('ul');
ul.dataset.testid = 'friends';
document.body.append(ul);
const friends = client.watch('[:find ?n ?fn :where [?p :person/name ?n] [?p :person/friend ?f] [?f :person/name ?fn]]');
const render = () => {
  const rows = [...(friends.result() as Set<[string, string]>)].map(([n, f]) => `${n} → ${f}`).sort();
  ul.replaceChildren(...rows.map((t) => Object.assign(document.createElement('li'), { textContent: t })));
};
friends.subscribe(render);
void friends.ready.then(render);
void client.ready.then(() => {
  document.body.dataset.ready = 'true';
});
