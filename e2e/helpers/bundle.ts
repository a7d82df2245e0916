/**
 * Bundling a TypeScript test page for the browser with Vite's build API (Rolldown underneath), so
 * an e2e test can import `@dataloom/*` straight from `packages/<pkg>/src` — no `npm run build`
 * needed, exactly as vitest resolves them. Web Workers written the Vite way
 * (`new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })`) are bundled too.
 *
 * The output directory holds `index.html` (loads the entry as a module script), `page.js` and
 * chunks/assets; serve it with {@link serveStatic} from `./server.js`.
 *
 * @example
 * ```ts
 * // e2e/replica/reload.page.ts — runs in the browser
 * import { createDb } from '@dataloom/core';
 * (window as any).ready = (async () => { ... return result; })();
 *
 * // e2e/replica/reload.test.ts
 * const dir = await bundlePage({ entry: new URL('./reload.page.ts', import.meta.url) });
 * const server = await serveStatic(dir);
 * await page.goto(server.url);
 * const result = await page.evaluate(() => (window as any).ready);
 * ```
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/** The repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Options for {@link bundlePage}. */
export interface BundleOptions {
  /** The page's entry module (path or `file:` URL), e.g. `new URL('./x.page.ts', import.meta.url)`. */
  entry: string | URL;
  /** Where to write (default: a fresh temp dir). Emptied first. */
  outDir?: string;
  /** Page title (default: the entry's file name). */
  title?: string;
  /** Extra HTML placed in `<body>` before the script (e.g. `<div id="root"></div>`). */
  body?: string;
  /** Minify (default false, so stack traces read). */
  minify?: boolean;
  /** Extra `define` replacements. */
  define?: Record<string, string>;
}

/** Bundles `entry` into a directory servable as a page; returns the directory. */
export async function bundlePage(opts: BundleOptions): Promise<string> {
  const entry = opts.entry instanceof URL || opts.entry.startsWith('file:') ? fileURLToPath(opts.entry) : resolve(opts.entry);
  const outDir = opts.outDir ?? mkdtempSync(join(tmpdir(), 'dataloom-page-'));
  mkdirSync(outDir, { recursive: true });
  await build({
    configFile: false,
    root: REPO_ROOT,
    logLevel: 'warn',
    publicDir: false,
    mode: 'production',
    define: opts.define,
    resolve: {
      alias: [
        { find: /^@dataloom\/([a-z-]+)$/, replacement: join(REPO_ROOT, 'packages/$1/src/index.ts') },
        { find: /^@dataloom\/([a-z-]+)\/internals$/, replacement: join(REPO_ROOT, 'packages/$1/src/internals.ts') },
      ],
    },
    worker: { format: 'es' },
    build: {
      outDir,
      emptyOutDir: true,
      minify: opts.minify ?? false,
      sourcemap: true,
      target: 'es2022',
      modulePreload: false,
      copyPublicDir: false,
      reportCompressedSize: false,
      rolldownOptions: {
        input: { page: entry },
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js', assetFileNames: 'assets/[name]-[hash][extname]' },
      },
    },
  });
  const title = opts.title ?? entry.split('/').pop() ?? 'page';
  writeFileSync(
    join(outDir, 'index.html'),
    `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n` +
      `<body>${opts.body ?? ''}<script type="module" src="./page.js"></script></body></html>\n`,
  );
  return outDir;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}
