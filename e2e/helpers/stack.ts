/**
 * The usual set-up of a browser e2e suite, in one place: a sync server on a fresh SQLite file
 * (any origin), one page bundled and served, and a Chromium session — started in `beforeAll`,
 * closed (and the server's directory removed) in `afterAll` of the `describe` that calls it.
 *
 * ```ts
 * describe('…', () => {
 *   const stack = e2eStack('drafts', { server: { schema }, page: { entry: new URL('./form.page.tsx', import.meta.url) } });
 *   it('…', async () => {
 *     const p = await stack.chromium.newPage();
 *     await p.goto(`${stack.pages.url}?url=${encodeURIComponent(stack.sync.url)}`);
 *   });
 * });
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createServer, type DataloomServer, type ServerOptions } from '@dataloom/server';
import { type ChromiumSession, launchChromium } from './browser.js';
import { bundlePage, type BundleOptions } from './bundle.js';
import { serveStatic, type StaticServer } from './server.js';

/** Filled in by `beforeAll`. */
export interface E2eStack {
  chromium: ChromiumSession;
  pages: StaticServer;
  sync: DataloomServer;
}

export function e2eStack(label: string, opts: { server: Partial<ServerOptions>; page: BundleOptions }): E2eStack {
  const stack = {} as E2eStack;
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `dataloom-e2e-${label}-`));
    stack.sync = await createServer({ store: `sqlite:${join(dir, 'db.sqlite')}`, port: 0, origins: '*', ...opts.server });
    stack.pages = await serveStatic(await bundlePage(opts.page));
    stack.chromium = await launchChromium();
  });
  afterAll(async () => {
    await stack.chromium?.close();
    await stack.pages?.close();
    await stack.sync?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return stack;
}
