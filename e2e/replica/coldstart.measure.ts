/**
 * Cold start of a replica from real IndexedDB in Chromium, and IndexedDB bytes per datom.
 * A measurement, not a test: `npx tsx e2e/replica/coldstart.measure.ts [entities=20000]`
 * (5 datoms per entity). Prints JSON.
 */
import { launchChromium } from '../helpers/browser.js';
import { bundlePage } from '../helpers/bundle.js';
import { serveStatic } from '../helpers/server.js';

declare const cold: {
  seed(n: number): Promise<{ datoms: number; bytes: number }>;
  open(): Promise<{ ms: number; readableMs: number; readableDatoms: number; loadMs: number; mergeMs: number; datoms: number }>;
  txToDiff(runs: number): Promise<{ readyMs: number; ms: number[] }>;
};

const n = Number(process.argv[2] ?? 20000);
const dir = await bundlePage({ entry: new URL('./coldstart.page.ts', import.meta.url), minify: true });
const server = await serveStatic(dir);
const chromium = await launchChromium({ forwardConsole: false });
try {
  const page = await chromium.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => document.body?.dataset.ready === 'true');
  const seeded = await page.evaluate((k) => cold.seed(k), n);
  await chromium.restart();
  const page2 = await chromium.newPage();
  await page2.goto(server.url);
  await page2.waitForFunction(() => document.body?.dataset.ready === 'true');
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await page2.evaluate(() => cold.open()));
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
  const lat = await page2.evaluate(() => cold.txToDiff(40));
  const sorted = lat.ms.slice().sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      datoms: seeded.datoms,
      idbBytesPerDatom: Math.round(seeded.bytes / seeded.datoms),
      queryableMedianMs: Math.round(runs.map((r) => r.readableMs).sort((a, b) => a - b)[1]!),
      fullyMergedMedianMs: Math.round(ms[1]!),
      idbReadMs: Math.round(runs[1]!.loadMs),
      mergeMs: Math.round(runs[1]!.mergeMs),
      workerClientReadyWith20ViewsMs: Math.round(lat.readyMs),
      transactToMainThreadDiffMedianMs: +sorted[Math.floor(sorted.length / 2)]!.toFixed(2),
      transactToMainThreadDiffP90Ms: +sorted[Math.floor(sorted.length * 0.9)]!.toFixed(2),
      runs,
    }),
  );
} finally {
  await chromium.close();
  await server.close();
}
