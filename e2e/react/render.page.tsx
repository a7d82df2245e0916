/**
 * Browser side of the React render measurement (render.measure.ts): two worker-backed clients of
 * one sync server (memory storage, so the 100k datoms come from the server, not a seeded
 * IndexedDB), and 20 components each rendering one `useQuery` over client B. `render.run(n)`
 * measures, per transaction, from `transact` to the layout effect of the component whose query
 * it changed (the re-rendered DOM is committed):
 * - local: B transacts, B's component re-renders;
 * - remote: A transacts, the change goes to the server and back down to B (loopback).
 */
import { createClient, type Client } from '@dataloom/client';
import { DataloomProvider, useQuery } from '@dataloom/react';
import { createElement as h, useLayoutEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { SCHEMA } from './render.schema.js';


const url = new URLSearchParams(location.search).get('url')!;
const worker = () => new Worker(new URL('../replica/replica.worker.ts', import.meta.url), { type: 'module' });
const open = (name: string) => createClient({ name, schema: SCHEMA, storage: 'memory', url, worker: worker(), tabs: false });

let waiting: { k: number; before: number; done: (t: number) => void } | null = null;
const lengths = new Map<number, number>();

/** One live query: the people aged `k`, as a list. */
function Ages({ k }: { k: number }) {
  const rows = useQuery(`[:find ?e ?n :where [?e :p/age ${k}] [?e :p/name ?n]]`);
  useLayoutEffect(() => {
    lengths.set(k, rows.length);
    if (waiting && waiting.k === k && rows.length !== waiting.before) waiting.done(performance.now());
  }, [k, rows]);
  return h('ul', { 'data-k': k }, rows.map((r) => h('li', { key: String(r[0]) }, String(r[1]))));
}

async function synced(c: Client, entities: number): Promise<void> {
  for (;;) {
    const n = (await c.q('[:find (count ?e) . :where [?e :p/email]]')) as number | null;
    if (n === entities) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const api = {
  /** Opens both clients and the 20 components; resolves once B holds every entity and rendered. */
  async start(entities: number): Promise<{ readyMs: number; datoms: number }> {
    const t0 = performance.now();
    const a = open('render-a');
    const b = open('render-b');
    await Promise.all([synced(a, entities), synced(b, entities)]);
    const root = document.getElementById('root')!;
    createRoot(root).render(h(DataloomProvider, { client: b as never }, Array.from({ length: 20 }, (_, k) => h(Ages, { key: k, k }))));
    while (lengths.size < 20 || [...lengths.values()].some((n) => n === 0)) await new Promise((r) => setTimeout(r, 20));
    Object.assign(api, { a, b });
    return { readyMs: performance.now() - t0, datoms: root.querySelectorAll('li').length };
  },
  /**
   * `runs` transactions by B (local) then by A (remote), each moving one person aged 40+ (not
   * watched) into one watched age; ms from transact to the re-rendered component's commit.
   */
  async run(runs: number, entities: number): Promise<{ local: number[]; remote: number[] }> {
    const { a, b } = api as unknown as { a: Client; b: Client };
    const out = { local: [] as number[], remote: [] as number[] };
    for (const [kind, c, offset] of [['local', b, 45], ['remote', a, 65]] as const) {
      for (let r = 0; r < runs; r++) {
        const k = r % 20;
        const i = (r * 90 + offset) % entities; // age i % 90 = offset: unwatched
        const committed = new Promise<number>((done) => (waiting = { k, before: lengths.get(k)!, done }));
        const t = performance.now();
        void c.transact([[':db/add', [':p/email', `u${i}@example.com`], ':p/age', k]]);
        out[kind].push((await committed) - t);
        waiting = null;
      }
    }
    return out;
  },
};
(window as unknown as { render: typeof api }).render = api;
document.body.dataset.ready = 'true';
