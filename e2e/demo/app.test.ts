/**
 * The demo app in Debian's Chromium: build it with Vite, serve it, and drive it like a user —
 * add a todo and see the live queries update, load the Chicago outfit and watch the aggregates
 * move, reload and find the data still there (IndexedDB replica).
 *
 * Engine availability decides what can run: the suite needs `@dataloom/client`'s `createClient`
 * or `@dataloom/dataflow`'s `createConn` (the demo falls back to the latter, in memory); the reload
 * test needs the real client (persistence) and is skipped, saying why, on the in-memory engine.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as clientPkg from '@dataloom/client';
import * as dataflowPkg from '@dataloom/dataflow';
import * as serverPkg from '@dataloom/server';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type ChromiumSession } from '../helpers/browser.js';
import { serveStatic } from '../helpers/server.js';
import { SCHEMA_EDN } from '../../demo-app/src/schema.js';

const hasClient = typeof (clientPkg as Record<string, unknown>)['createClient'] === 'function';
const hasConn = typeof (dataflowPkg as Record<string, unknown>)['createConn'] === 'function';
type CreateServer = (o: Record<string, unknown>) => Promise<{ httpUrl: string; close(): Promise<void> }>;
const createServer = (serverPkg as Record<string, unknown>)['createServer'] as CreateServer | undefined;

const demoDir = fileURLToPath(new URL('../../demo-app/', import.meta.url));
const viteBin = fileURLToPath(new URL('../../node_modules/vite/bin/vite.js', import.meta.url));

describe.skipIf(!hasClient && !hasConn)('demo app in Chromium', () => {
  let outDir: string;
  /** The demo's origin: the real sync server (static files + WebSocket) when it exists. */
  let server: { url: string; close(): Promise<void> };
  let chromium: ChromiumSession;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'dataloom-demo-'));
    execFileSync(process.execPath, [viteBin, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], {
      cwd: demoDir,
      env: { ...process.env, NODE_ENV: 'production' }, // vitest sets NODE_ENV=test: React would build in dev mode
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (createServer) {
      const s = await createServer({ store: `sqlite:${join(outDir, 'e2e.sqlite')}`, port: 0, schema: SCHEMA_EDN, static: outDir });
      server = { url: s.httpUrl, close: () => s.close() };
    } else {
      server = await serveStatic(outDir);
    }
    chromium = await launchChromium();
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  /** Opens the demo with its own replica name; it syncs through `/sync` when the real server serves it. */
  async function open(db: string, session: ChromiumSession = chromium): Promise<Page> {
    const page = await session.newPage();
    await page.goto(new URL(`?db=${db}${createServer ? '' : '&sync=off'}`, server.url).href);
    await page.waitForSelector('[data-testid="engine-kind"], [data-testid="engine-error"]');
    const error = await page.$('[data-testid="engine-error"]');
    if (error) throw new Error(`demo failed to start: ${await error.textContent()}`);
    return page;
  }

  const titles = (page: Page) => page.$$eval('[data-testid="todo-title"]', (els) => els.map((e) => e.textContent));
  const rows = (page: Page, table: string) =>
    page.$$eval(`[data-testid="${table}"] tr`, (trs) => trs.map((tr) => `${tr.querySelector('th')?.textContent} ${tr.querySelector('td')?.textContent}`));

  async function addTodo(page: Page, title: string): Promise<void> {
    await page.fill('[data-testid="todo-input"]', title);
    await page.click('[data-testid="todo-add"]');
    await page.waitForFunction(
      (t) => [...document.querySelectorAll('[data-testid="todo-title"]')].some((e) => e.textContent === t),
      title,
    );
  }

  it('adds todos and the live queries update', async () => {
    const page = await open('e2e-todos');
    await addTodo(page, 'milk');
    await addTodo(page, 'eggs');
    expect(await titles(page)).toEqual(['milk', 'eggs']);
    await page.waitForFunction(() => document.querySelector('[data-testid="open-count"]')?.textContent === '2 open');
    await page.click('[data-testid="todo-item"] input[type=checkbox]');
    await page.waitForFunction(() => document.querySelector('[data-testid="open-count"]')?.textContent === '1 open');
    expect(chromium.pageErrors).toEqual([]);
    await page.close();
  });

  it('shows the Chicago outfit dashboard and updates it in place', async () => {
    const page = await open('e2e-chicago');
    await page.click('[data-testid="chicago-seed"]');
    await page.waitForSelector('[data-testid="territory-earnings"] tr');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="total-earnings"] tr').length === 8);
    expect(await rows(page, 'territory-earnings')).toEqual(['east 1600', 'west 1720']);
    expect(await rows(page, 'total-earnings')).toEqual([
      'alfredo 1720', 'aurora 1600', 'bernado 720', 'berta 700',
      'carla 125', 'carlo 120', 'corinna 125', 'cristiano 100',
    ]);
    await page.click('[aria-label="raise corinna"]');
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="territory-earnings"] tr[data-territory="east"] td')?.textContent === '1700');
    expect(await rows(page, 'total-earnings')).toContain('aurora 1700');
    expect(await rows(page, 'total-earnings')).toContain('berta 800');
    expect(chromium.pageErrors).toEqual([]);
    await page.close();
  });

  it('keeps the data across a reload and a browser restart', async (ctx) => {
    if (!hasClient) ctx.skip(); // the in-memory fallback persists nothing; needs @dataloom/client
    let page = await open('e2e-reload');
    await addTodo(page, 'survives reload');
    await page.reload();
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid="todo-title"]')].some((e) => e.textContent === 'survives reload'));
    await page.close();
    await chromium.restart();
    page = await open('e2e-reload');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid="todo-title"]')].some((e) => e.textContent === 'survives reload'));
    expect(await titles(page)).toEqual(['survives reload']);
    await page.close();
  });

  it('syncs a todo between two browsers through the server', async (ctx) => {
    if (!hasClient || !createServer) ctx.skip(); // needs the real client and server
    const other = await launchChromium();
    try {
      const a = await open('e2e-sync');
      const b = await open('e2e-sync', other);
      await addTodo(a, 'from A');
      await b.waitForFunction(
        () => [...document.querySelectorAll('[data-testid="todo-title"]')].some((e) => e.textContent === 'from A'),
        undefined,
        { timeout: 10_000 },
      );
      await b.waitForFunction(() => document.querySelector('[data-testid="sync-status"]')?.getAttribute('data-online') === 'true');
    } finally {
      await other.close();
    }
  });
});
