/**
 * A client meeting another log (`reset`) in Chromium: a Web Worker client over real IndexedDB
 * syncs with server A (SQLite file), then is pointed at server B (another log). It ends holding
 * B's state plus its own writes and nothing A's other clients wrote; a client of B converges with
 * it; its watched query got the retractions; a reload — offline, from IndexedDB alone — shows the
 * same. Node-level cases: test/sync/log-reset.test.ts, test/replica/log-reset.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '@dataloom/client';
import { createServer, type DataloomServer } from '@dataloom/server';
import { type ChromiumSession, launchChromium } from '../helpers/browser.js';
import { bundlePage } from '../helpers/bundle.js';
import { serveStatic, type StaticServer } from '../helpers/server.js';

type App = {
  add(title: string): Promise<string>;
  confirmed(tx: string): Promise<unknown>;
  synced(): Promise<void>;
  titles(): Promise<string[]>;
  watched(): string[];
  diffs(): string[];
  initial(): string[];
  pending(): Promise<number>;
};
declare const app: App;

const schema = { ':item/title': {}, ':item/count': {} };
const ready = (page: Page) => page.waitForFunction(() => document.body?.dataset.ready === 'true', undefined, { timeout: 30_000 });
const titlesOf = async (c: Client) => ((await c.q('[:find [?t ...] :where [_ :item/title ?t]]')) as string[]).sort();

describe('log reset e2e (Chromium, worker + IndexedDB, two servers)', () => {
  let chromium: ChromiumSession;
  let pages: StaticServer;
  let a: DataloomServer;
  let b: DataloomServer;
  const dir = mkdtempSync(join(tmpdir(), 'dataloom-e2e-reset-'));
  const nodeClients: Client[] = [];
  const nodeClient = (url: string, name: string) => {
    const c = createClient({ name, schema, storage: 'memory', tabs: false, url, WebSocket: WebSocket as never });
    nodeClients.push(c);
    return c;
  };

  beforeAll(async () => {
    a = await createServer({ store: `sqlite:${join(dir, 'a.sqlite')}`, port: 0, origins: '*', schema });
    b = await createServer({ store: `sqlite:${join(dir, 'b.sqlite')}`, port: 0, origins: '*', schema });
    pages = await serveStatic(await bundlePage({ entry: new URL('./reset.page.ts', import.meta.url) }));
    chromium = await launchChromium();
  });
  afterAll(async () => {
    for (const c of nodeClients) await c.close().catch(() => {});
    await chromium?.close();
    await pages?.close();
    await a?.close();
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pointed at another server: the new log plus its own writes, converged, and the same after an offline reload', async () => {
    const y = nodeClient(a.url, 'reset-y');
    const z = nodeClient(b.url, 'reset-z');
    for (const t of ['y-1', 'y-2']) await y.transact([{ ':item/title': t, ':item/count': 1 }]);
    for (const t of ['z-1', 'z-2']) await z.transact([{ ':item/title': t, ':item/count': 1 }]);
    await Promise.all([y.whenSynced(), z.whenSynced()]);

    const page = await chromium.newPage();
    await page.goto(`${pages.url}?url=${encodeURIComponent(a.url)}`);
    await ready(page);
    const txs = [await page.evaluate(() => app.add('x-1')), await page.evaluate(() => app.add('x-2'))];
    for (const tx of txs) await page.evaluate((t) => app.confirmed(t), tx);
    await page.waitForFunction(() => app.watched().length === 4, undefined, { timeout: 15_000 });
    expect(await page.evaluate(() => app.titles())).toEqual(['x-1', 'x-2', 'y-1', 'y-2']);

    // the same replica (IndexedDB) now syncs with B: another log
    await page.goto(`${pages.url}?url=${encodeURIComponent(b.url)}`);
    await ready(page);
    await page.evaluate(() => app.synced());
    await expect.poll(() => page.evaluate(() => app.titles()), { timeout: 15_000 }).toEqual(['x-1', 'x-2', 'z-1', 'z-2']);
    await expect.poll(() => page.evaluate(() => app.pending()), { timeout: 15_000 }).toBe(0);
    await expect.poll(() => titlesOf(z), { timeout: 15_000 }).toEqual(['x-1', 'x-2', 'z-1', 'z-2']);
    // the view's rows when it was up (from IndexedDB: A's, unless the reset came first) and its
    // diffs since lead to that result: Y's rows retracted, B's added
    expect(await page.evaluate(() => app.watched())).toEqual(['x-1', 'x-2', 'z-1', 'z-2']);
    const diffs = await page.evaluate(() => app.diffs());
    const rows = new Set(await page.evaluate(() => app.initial()));
    for (const d of diffs) {
      if (d[0] === '+') rows.add(d.slice(1));
      else expect(rows.delete(d.slice(1))).toBe(true);
    }
    expect([...rows].sort()).toEqual(['x-1', 'x-2', 'z-1', 'z-2']);
    expect(diffs).toEqual(expect.arrayContaining(['+z-1', '+z-2']));

    // offline reload: IndexedDB holds exactly that
    await page.goto(pages.url);
    await ready(page);
    expect(await page.evaluate(() => app.titles())).toEqual(['x-1', 'x-2', 'z-1', 'z-2']);
    expect(await page.evaluate(() => app.pending())).toBe(0);
    expect(chromium.pageErrors).toEqual([]);
  });
});
