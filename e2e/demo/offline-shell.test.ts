/**
 * The offline shell (issue 14): the demo's service worker (vite-plugin-pwa / Workbox) precaches
 * the built app, so with the server stopped a reload still opens the app — instead of the
 * browser's "site can't be reached" — and it shows the data from its IndexedDB replica, takes new
 * edits, and sends them once the server is back.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type ChromiumSession } from '../helpers/browser.js';
import { addTodo, hasTodo, openDemo, startDemo, waitOnline, waitText, type DemoServer } from './harness.js';

describe('offline shell', () => {
  let demo: DemoServer;
  let chromium: ChromiumSession;
  let other: ChromiumSession;

  beforeAll(async () => {
    demo = await startDemo();
    chromium = await launchChromium();
    other = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.close();
    await other?.close();
    await demo?.close();
  });

  it('load, stop the server, reload: the app opens from its cache and its IndexedDB replica', async () => {
    if (!existsSync(join(demo.dir, 'dist', 'sw.js'))) throw new Error('the demo was built without its service worker: vite-plugin-pwa is missing (run npm install)');
    const page = await openDemo(chromium, demo.httpUrl, 'shell', '', 'tasks');
    await waitOnline(page);
    await addTodo(page, 'written online');
    // the service worker installed and controls the page (it claims clients on activation)
    await page.waitForFunction(() => navigator.serviceWorker?.controller !== null && navigator.serviceWorker?.controller !== undefined, undefined, { timeout: 15_000 });
    await demo.stop();
    try {
      const response = await page.reload();
      expect(response?.fromServiceWorker()).toBe(true);
      await page.waitForSelector('[data-testid="engine-kind"]');
      await hasTodo(page, 'written online');
      await page.waitForFunction(() => document.querySelector('[data-testid="sync-status"]')?.getAttribute('data-online') === 'false');
      await addTodo(page, 'written with the server down');
      await page.waitForFunction(() => / · 1 pending/.test(document.querySelector('[data-testid="sync-status"]')?.textContent ?? ''));
    } finally {
      await demo.start();
    }
    await waitOnline(page, 30_000);
    await waitText(page, 'sync-status', 'online · 0 pending', 15_000);
    const b = await openDemo(other, demo.httpUrl, 'shell', '&user=ben', 'tasks');
    await hasTodo(b, 'written with the server down');
    expect([...chromium.pageErrors, ...other.pageErrors]).toEqual([]);
  }, 90_000);
});
