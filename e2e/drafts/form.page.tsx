/**
 * Browser side of the drafts e2e test: a list of items (a main view) and a shared edit form for
 * one item (a draft named after the item, so everyone who opens the form joins it), over a client
 * whose replica runs in a Web Worker on IndexedDB, synced with the real server. Query string:
 * `?url=<ws url>&name=<replica name>`. The test drives the form with real keystrokes.
 */
import { createClient } from '@dataloom/client';
import { draftSchema } from '@dataloom/core';
import { DataloomProvider, useDraft, useQuery } from '@dataloom/react';
import { createElement as h, useState } from 'react';
import { createRoot } from 'react-dom/client';

const schema = { ...draftSchema, ':item/key': { ':db/unique': ':db.unique/identity' }, ':item/title': {} };
const params = new URLSearchParams(location.search);
const worker = new Worker(new URL('./form.worker.ts', import.meta.url), { type: 'module' });
const client = createClient({ name: params.get('name') ?? 'e2e-drafts', schema, storage: 'indexeddb', url: params.get('url')!, worker });

const TITLE = '[:find ?t . :in $ ?k :where [?e :item/key ?k] [?e :item/title ?t]]';

function List() {
  const rows = useQuery<[string, string]>('[:find ?k ?t :where [?e :item/key ?k] [?e :item/title ?t]]');
  return h('ul', { 'data-testid': 'list' }, [...rows].sort().map(([k, t]) => h('li', { key: k, 'data-testid': `list-${k}` }, t)));
}

function Form({ itemKey }: { itemKey: string }) {
  const d = useDraft<[string]>(`item-${itemKey}/edit`, `[:find ?t :in $ ?k :where [?e :item/key ?k] [?e :item/title ?t]]`, itemKey);
  const [status, setStatus] = useState('');
  // while this user types, the input shows what they typed (the draft view follows a moment later
  // from the worker); once their writes are in, it shows the draft view again (others' edits too)
  const [local, setLocal] = useState<{ value: string; pending: number } | null>(null);
  const title = d.rows[0]?.[0] ?? '';
  return h(
    'form',
    { onSubmit: (e: Event) => e.preventDefault() },
    h('input', {
      'data-testid': 'title',
      value: local !== null ? local.value : title,
      onChange: (e: { target: { value: string } }) => {
        const value = e.target.value;
        setLocal((l) => ({ value, pending: (l?.pending ?? 0) + 1 }));
        void d.transact([[':db/add', [':item/key', itemKey], ':item/title', value]]).finally(() => setLocal((l) => (l && l.pending > 1 ? { ...l, pending: l.pending - 1 } : null)));
      },
    }),
    h(
      'button',
      {
        'data-testid': 'commit',
        onClick: () =>
          void d
            .commit()
            .then(() => setStatus('committed'))
            .catch((e: Error) => setStatus(e.message)),
      },
      'Commit',
    ),
    h('span', { 'data-testid': 'status' }, status),
  );
}

function App() {
  return h('div', null, h(List), h(Form, { itemKey: 'one' }));
}

createRoot(document.getElementById('root')!).render(h(DataloomProvider, { client }, h(App)));
const app = {
  seed: () => client.transact([{ ':item/key': 'one', ':item/title': 'first title' }]),
  synced: () => client.whenSynced(),
  mainTitle: () => client.q(TITLE, 'one'),
  draftTitle: () => client.draft('item-one/edit').q(TITLE, 'one'),
};
(window as unknown as { app: typeof app }).app = app;
void client.ready.then(() => {
  document.body.dataset.ready = 'true';
});
