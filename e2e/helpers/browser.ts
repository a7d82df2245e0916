/**
 * Launching Debian's Chromium for e2e tests, through `playwright-core` (no browser download: the
 * binary is `/usr/bin/chromium` from the `chromium` apt package; `npm test` and `.ci/run` install it).
 *
 * Each {@link launchChromium} call gets a fresh user-data-dir, so IndexedDB, caches and service
 * workers start empty and nothing leaks between tests. The profile is *persistent* for the life of
 * the session, and {@link ChromiumSession.restart} closes the browser and reopens the same profile —
 * that is how a test proves data survives a browser restart, not just a page reload.
 *
 * @example
 * ```ts
 * import { launchChromium } from '../helpers/browser.js';
 * import { serveStatic } from '../helpers/server.js';
 * import { bundlePage } from '../helpers/bundle.js';
 *
 * let chromium: ChromiumSession;
 * beforeAll(async () => { chromium = await launchChromium(); });
 * afterAll(async () => { await chromium?.close(); });
 *
 * it('works', async () => {
 *   const dir = await bundlePage({ entry: new URL('./my-page.ts', import.meta.url) });
 *   const server = await serveStatic(dir);
 *   const page = await chromium.newPage();
 *   await page.goto(server.url);
 *   expect(await page.evaluate(() => (window as any).result)).toBe(42);
 *   await server.close();
 * });
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Path of Debian's Chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for a quiet, reproducible headless Chromium in a container: no sandbox (we run as root in
 * CI), no GPU, no QUIC, and no background traffic (component updates, sync, first-run UI).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Options for {@link launchChromium}. */
export interface LaunchOptions {
  /** Show the browser window (default false: headless). Also enabled by env `E2E_HEADED=1`. */
  headed?: boolean;
  /** Extra Chromium flags, appended to {@link CHROMIUM_ARGS}. */
  args?: string[];
  /** Keep the profile directory after {@link ChromiumSession.close} (for debugging). */
  keepProfile?: boolean;
  /**
   * Forward the page's console messages and uncaught errors to the test's stderr (default true;
   * env `E2E_QUIET=1` turns it off). Uncaught page errors are also collected in `pageErrors`.
   */
  forwardConsole?: boolean;
}

/** A running Chromium with its own fresh, persistent profile. */
export interface ChromiumSession {
  /** The current browser context (replaced by {@link restart}). */
  readonly context: BrowserContext;
  /** The profile directory (IndexedDB lives here). */
  readonly userDataDir: string;
  /** Uncaught errors from any page of this session, in order. A test can assert it stays empty. */
  readonly pageErrors: Error[];
  /** Opens a new tab. */
  newPage(): Promise<Page>;
  /** Closes the browser and relaunches it on the same profile (a "browser restart"). */
  restart(): Promise<void>;
  /** Closes the browser and deletes the profile (unless `keepProfile`). Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Launches headless Chromium (`/usr/bin/chromium`) with a fresh user-data-dir. Throws a readable
 * error if the binary is missing (install: `apt-get install -y chromium chromium-driver`).
 */
export async function launchChromium(opts: LaunchOptions = {}): Promise<ChromiumSession> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'dataloom-chromium-'));
  const headless = !(opts.headed ?? process.env.E2E_HEADED === '1');
  const forward = (opts.forwardConsole ?? true) && process.env.E2E_QUIET !== '1';
  const pageErrors: Error[] = [];

  const open = async (): Promise<BrowserContext> => {
    let ctx: BrowserContext;
    try {
      ctx = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM_PATH,
        headless,
        args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
      });
    } catch (e) {
      throw new Error(
        `could not launch ${CHROMIUM_PATH} (${(e as Error).message.split('\n')[0]}); ` +
          'install it with: apt-get install -y chromium chromium-driver (npm test does this when run as root)',
      );
    }
    const watch = (page: Page): void => {
      page.on('pageerror', (err) => {
        pageErrors.push(err);
        if (forward) process.stderr.write(`[page error] ${err.stack ?? err.message}\n`);
      });
      if (forward) page.on('console', (m) => process.stderr.write(`[page ${m.type()}] ${m.text()}\n`));
    };
    ctx.pages().forEach(watch);
    ctx.on('page', watch);
    return ctx;
  };

  let context = await open();
  let closed = false;
  const handedOut = new Set<Page>();
  return {
    get context() {
      return context;
    },
    userDataDir,
    pageErrors,
    async newPage() {
      // A persistent context opens with one blank tab; hand that out first.
      const blank = context.pages().find((p) => p.url() === 'about:blank' && !handedOut.has(p));
      const page = blank ?? (await context.newPage());
      handedOut.add(page);
      return page;
    },
    async restart() {
      await context.close();
      handedOut.clear();
      context = await open();
    },
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => {});
      if (!opts.keepProfile) rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
