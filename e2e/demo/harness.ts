/**
 * The demo app as the e2e tests meet it: built with Vite into a temp directory, served with its
 * sync endpoint by the real server (`createServer` with the demo's server options — schema and
 * write rule — a SQLite log, `static` = the build), and opened in Debian's Chromium with its own
 * replica name (the IndexedDB database). The server can be stopped and started again on the same
 * port and log, as `npm start` would after a restart.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createServer, type DataloomServer } from '@dataloom/server';
import type { Page } from 'playwright-core';
import type { ChromiumSession } from '../helpers/browser.js';

export const demoDir = fileURLToPath(new URL('../../demo-app/', import.meta.url));
const viteBin = fileURLToPath(new URL('../../node_modules/vite/bin/vite.js', import.meta.url));

/** What `demo-app/server.config.mjs` exports (the parts the tests use). */
export interface DemoConfig {
  serverOptions(): Record<string, unknown>;
  startJobs(server: DataloomServer, opts?: { feedMs?: number }): Promise<() => void>;
  feedTick(server: DataloomServer, n: number): Promise<unknown>;
  CRM: ReadonlyArray<{ id: string; company: string; region: string; value: number }>;
}

export interface DemoServer {
  readonly dir: string;
  /** The demo's server configuration module (feedTick moves the CRM feed on). */
  readonly config: DemoConfig;
  /** The running server (replaced by `restart`). */
  readonly server: DataloomServer;
  readonly httpUrl: string;
  stop(): Promise<void>;
  /** Starts the server again on the same port and log. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Builds the demo (production mode) into a temp directory. */
export function buildDemo(outDir: string): void {
  execFileSync(process.execPath, [viteBin, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], {
    cwd: demoDir,
    env: { ...process.env, NODE_ENV: 'production' }, // vitest sets NODE_ENV=test: React would build in dev mode
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Builds the demo and serves it through the real sync server with the demo's server options. */
export async function startDemo(): Promise<DemoServer> {
  const dir = mkdtempSync(join(tmpdir(), 'dataloom-demo-'));
  buildDemo(join(dir, 'dist'));
  const config = (await import(pathToFileURL(join(demoDir, 'server.config.mjs')).href)) as DemoConfig;
  const options = { ...config.serverOptions(), store: `sqlite:${join(dir, 'log.sqlite')}`, static: join(dir, 'dist') };
  let server: DataloomServer | null = await createServer({ ...options, port: 0 });
  // the back-end jobs as `npm start` runs them, without the feed's timer (tests call feedTick)
  let stopJobs = await config.startJobs(server, { feedMs: 0 });
  const port = server.port;
  const httpUrl = server.httpUrl;
  return {
    dir,
    config,
    get server() {
      if (!server) throw new Error('the demo server is stopped');
      return server;
    },
    httpUrl,
    async stop() {
      stopJobs();
      await server?.close();
      server = null;
    },
    async start() {
      if (server) return;
      server = await createServer({ ...options, port });
      stopJobs = await config.startJobs(server, { feedMs: 0 });
    },
    async close() {
      stopJobs();
      await server?.close();
      server = null;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Opens the demo in a new tab of `session` signed in as `user` (default ann; put `&user=…` in
 * `query` for another) with replica `db`, on `screen` (default the ledger); throws if the app
 * failed to start.
 */
export async function openDemo(session: ChromiumSession, base: string, db: string, query = '', screen = 'ledger'): Promise<Page> {
  const page = await session.newPage();
  const user = /[?&]user=/.test(query) ? '' : '&user=ann';
  await page.goto(new URL(`?db=${db}${user}${query}#/${screen}`, base).href);
  await page.waitForSelector('[data-testid="engine-kind"], [data-testid="engine-error"]');
  const error = await page.$('[data-testid="engine-error"]');
  if (error) throw new Error(`demo failed to start: ${await error.textContent()}`);
  await screenLoaded(page);
  return page;
}

export const hasTodo = (page: Page, title: string, timeout = 10_000) =>
  page.waitForFunction((t) => [...document.querySelectorAll('[data-testid="todo-title"]')].some((e) => e.textContent === t), title, { timeout });

export async function addTodo(page: Page, title: string): Promise<void> {
  await page.fill('[data-testid="todo-input"]', title);
  await page.click('[data-testid="todo-add"]');
  await hasTodo(page, title);
}

export const status = (page: Page) => page.$eval('[data-testid="sync-status"]', (e) => e.textContent);

/** Waits until the element `testid` reads exactly `text`. */
export const waitText = (page: Page, testid: string, text: string, timeout = 10_000) =>
  page
    .waitForFunction(([id, t]) => document.querySelector(`[data-testid="${id}"]`)?.textContent === t, [testid, text] as const, { timeout })
    .catch(async (e: Error) => {
      const now = await page.$eval(`[data-testid="${testid}"]`, (el) => el.textContent).catch(() => '(absent)');
      throw new Error(`[data-testid="${testid}"] never read ${JSON.stringify(text)}; it reads ${JSON.stringify(now)} (${e.message.split('\n')[0]})`);
    });

export const waitOnline = (page: Page, timeout = 10_000) =>
  page.waitForFunction(() => document.querySelector('[data-testid="sync-status"]')?.getAttribute('data-online') === 'true', undefined, { timeout });

/** Shows `screen` (the nav link) and waits for it (each screen is a chunk loaded on first show). */
export async function show(page: Page, screen: string): Promise<void> {
  await page.click(`[data-testid="nav-${screen}"]`);
  await page.waitForSelector(`[data-testid="screen-${screen}"]`);
  await screenLoaded(page);
}

const screenLoaded = (page: Page) => page.waitForFunction(() => document.querySelector('[data-testid^="screen-"]') && !document.querySelector('[data-testid="screen-loading"]'));
