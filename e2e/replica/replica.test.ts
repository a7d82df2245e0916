/**
 * The replica in Chromium: a Web Worker (comlink) over real IndexedDB. A page transacts, reloads
 * and reads its data back with no server; two tabs see each other's writes (BroadcastChannel)
 * in their watched queries; data survives a browser restart.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChromiumSession, launchChromium } from '../helpers/browser.js';
import { bundlePage } from '../helpers/bundle.js';
import { serveStatic, type StaticServer } from '../helpers/server.js';

type App = {
  add(title: string): Promise<number>;
  titles(): Promise<string[]>;
  watched(): string[];
  diffs(): string[];
  storage(): Promise<string>;
};
declare const app: App;

const ready = (page: Page) => page.waitForFunction(() => document.body?.dataset.ready === 'true', undefined, { timeout: 30_000 });

describe('replica e2e (Chromium, worker + IndexedDB)', () => {
  let chromium: ChromiumSession;
  let server: StaticServer;

  beforeAll(async () => {
    const dir = await bundlePage({ entry: new URL('./replica.page.ts', import.meta.url) });
    server = await serveStatic(dir);
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  it('transacts, reloads, reads back; survives a browser restart', async () => {
    const page = await chromium.newPage();
    await page.goto(server.url);
    await ready(page);
    expect(await page.evaluate(() => app.storage())).toBe('indexeddb');
    expect(await page.evaluate(() => app.titles())).toEqual([]);
    await page.evaluate(() => app.add('buy milk'));
    await page.evaluate(() => app.add('write tests'));
    await page.waitForFunction(() => app.watched().length === 2);
    expect(await page.evaluate(() => app.diffs())).toEqual(['+buy milk', '+write tests']);

    await page.reload();
    await ready(page);
    expect(await page.evaluate(() => app.titles())).toEqual(['buy milk', 'write tests']);
    expect(await page.evaluate(() => app.watched())).toEqual(['buy milk', 'write tests']);

    await chromium.restart();
    const again = await chromium.newPage();
    await again.goto(server.url);
    await ready(again);
    expect(await again.evaluate(() => app.titles())).toEqual(['buy milk', 'write tests']);
    await again.close();
    expect(chromium.pageErrors).toEqual([]);
  });

  it('two tabs see each other’s writes without a server', async () => {
    const a = await chromium.newPage();
    const b = await chromium.context.newPage();
    await a.goto(server.url);
    await b.goto(server.url);
    await Promise.all([ready(a), ready(b)]);
    const before = (await b.evaluate(() => app.watched())).length;
    await a.evaluate(() => app.add('from tab A'));
    await b.waitForFunction(() => app.watched().includes('from tab A'), undefined, { timeout: 10_000 });
    await b.evaluate(() => app.add('from tab B'));
    await a.waitForFunction(() => app.watched().includes('from tab B'), undefined, { timeout: 10_000 });
    expect((await a.evaluate(() => app.watched())).length).toBe(before + 2);
    expect(await a.evaluate(() => app.titles())).toEqual(await b.evaluate(() => app.titles()));
    expect(chromium.pageErrors).toEqual([]);
  });

  it('the ReplicaStore contract passes on real IndexedDB', async () => {
    const dir = await bundlePage({ entry: new URL('./store.page.ts', import.meta.url) });
    const storeServer = await serveStatic(dir);
    try {
      const page = await chromium.newPage();
      await page.goto(storeServer.url);
      const results = (await page.evaluate(() => (window as unknown as { storeResults: Promise<unknown> }).storeResults)) as Array<{
        name: string;
        ok: boolean;
        error?: string;
      }>;
      expect(results.length).toBeGreaterThanOrEqual(7);
      expect(results.filter((r) => !r.ok)).toEqual([]);
      await page.close();
    } finally {
      await storeServer.close();
    }
  });
});
