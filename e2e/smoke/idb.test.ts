/**
 * Proves the e2e harness end to end: Debian's Chromium through playwright-core, a page bundled
 * by Vite from TypeScript that imports `@dataloom/core` sources and `idb`, served by the static
 * helper — and real IndexedDB that keeps data across a page reload and a browser restart.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChromiumSession, launchChromium } from '../helpers/browser.js';
import { bundlePage } from '../helpers/bundle.js';
import { serveStatic, type StaticServer } from '../helpers/server.js';

type Smoke = {
  write(key: string, edn: string): Promise<void>;
  read(key: string): Promise<string | null>;
};
declare const smoke: Smoke;

const ready = (page: Page) => page.waitForFunction(() => document.body?.dataset.ready === 'true');

describe('e2e harness smoke: IndexedDB in Chromium', () => {
  let chromium: ChromiumSession;
  let server: StaticServer;

  beforeAll(async () => {
    const dir = await bundlePage({ entry: new URL('./idb.page.ts', import.meta.url) });
    server = await serveStatic(dir);
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  it('writes, reloads the page, reads back; survives a browser restart', async () => {
    const page = await chromium.newPage();
    await page.goto(server.url);
    await ready(page);
    expect(await page.evaluate(() => smoke.read('k'))).toBe(null);
    await page.evaluate(() => smoke.write('k', '{:a/b #{1} :s "é"}'));

    await page.reload();
    await ready(page);
    expect(await page.evaluate(() => smoke.read('k'))).toBe('{:a/b #{1}, :s "é"}');

    await chromium.restart();
    const again = await chromium.newPage();
    await again.goto(server.url);
    await ready(again);
    expect(await again.evaluate(() => smoke.read('k'))).toBe('{:a/b #{1}, :s "é"}');
    expect(chromium.pageErrors).toEqual([]);
  });
});
