/**
 * React re-render latency in Debian's Chromium (issue 14's browser rows): 20 components, each a
 * `useQuery` over a worker-backed client holding `entities` × 5 datoms (default 20000: 100k), and
 * - local: a transact on that client → the re-rendered component committed (goal < 16 ms median);
 * - remote: another client's transact → sync server on loopback → the component committed
 *   (goal < 30 ms median).
 * A measurement, not a test: `npx tsx e2e/react/render.measure.ts [entities] [runs]`; prints JSON.
 * `npm run bench` runs it (BENCH_FILTER=browser).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '@dataloom/server';
import { launchChromium } from '../helpers/browser.js';
import { bundlePage } from '../helpers/bundle.js';
import { serveStatic } from '../helpers/server.js';
import { SCHEMA } from './render.schema.js';

declare const render: {
  start(entities: number): Promise<{ readyMs: number; datoms: number }>;
  run(runs: number, entities: number): Promise<{ local: number[]; remote: number[] }>;
};

const entities = Number(process.argv[2] ?? 20000);
const runs = Number(process.argv[3] ?? 40);
const dir = mkdtempSync(join(tmpdir(), 'dataloom-render-'));
const sync = await createServer({ store: `sqlite:${join(dir, 'log.sqlite')}`, port: 0, origins: '*', schema: SCHEMA });
// the data, written on the server in pieces of 200 people (5 datoms each: the 1000-op limit)
for (let from = 0; from < entities; from += 200) {
  const tx = [];
  for (let i = from; i < Math.min(entities, from + 200); i++) {
    tx.push({ 'p/name': `name ${i % 1000}`, 'p/email': `u${i}@example.com`, 'p/age': i % 90, 'p/tag': `tag${i % 7}`, 'p/score': (i * 7919) % 1000 });
  }
  await sync.transact(tx);
}
const pages = await serveStatic(await bundlePage({ entry: new URL('./render.page.tsx', import.meta.url), minify: true, body: '<div id="root"></div>' }));
const chromium = await launchChromium({ forwardConsole: false });
const stats = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return { median: +s[Math.floor(s.length / 2)]!.toFixed(2), p90: +s[Math.floor(s.length * 0.9)]!.toFixed(2) };
};
try {
  const page = await chromium.newPage();
  await page.goto(`${pages.url}?url=${encodeURIComponent(sync.url)}`);
  await page.waitForFunction(() => document.body?.dataset.ready === 'true');
  const started = await page.evaluate((n) => render.start(n), entities);
  const m = await page.evaluate(([n, e]) => render.run(n, e), [runs, entities] as const);
  const local = stats(m.local);
  const remote = stats(m.remote);
  console.log(
    JSON.stringify({
      datoms: entities * 5,
      liveQueries: 20,
      renderedRows: started.datoms,
      clientsReadyMs: Math.round(started.readyMs),
      localTransactToRenderMedianMs: local.median,
      localTransactToRenderP90Ms: local.p90,
      remoteChangeToRenderMedianMs: remote.median,
      remoteChangeToRenderP90Ms: remote.p90,
      runs,
    }),
  );
} finally {
  await chromium.close();
  await pages.close();
  await sync.close();
  rmSync(dir, { recursive: true, force: true });
}
