/**
 * HTTP side of the server: `GET /health` and, optionally, a static directory (the demo app's
 * build) with single-page-app fallback to `index.html`. Paths are resolved inside the directory
 * only; anything escaping it is a 404.
 */
import { DataloomError } from '@dataloom/core';
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Refuses a static directory that does not exist (or is not a directory), so a typo in
 * `--static` fails at start instead of serving 404s. @throws DataloomError `server/static-missing`.
 */
export function checkStaticDir(dir: string): void {
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    /* missing */
  }
  if (!ok) throw new DataloomError('server/static-missing', `static directory ${dir} does not exist or is not a directory`, { path: resolve(dir) });
}

export function createHttpHandler(opts: { staticDir?: string; health: (req: IncomingMessage) => Promise<Record<string, unknown>> }) {
  const root = opts.staticDir ? resolve(opts.staticDir) : null;
  return (req: IncomingMessage, res: ServerResponse): void => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    if (path === '/health' || path === '/healthz') {
      opts.health(req).then(
        (body) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body)),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error'),
      );
      return;
    }
    if (!root || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(root ? 405 : 404, { 'content-type': 'text/plain' }).end(root ? 'method not allowed' : 'not found');
      return;
    }
    const file = resolveFile(root, path);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file.path)] ?? 'application/octet-stream',
      'content-length': file.size,
      'cache-control': file.path.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file.path).on('error', () => res.destroy()).pipe(res);
  };
}

function resolveFile(root: string, urlPath: string): { path: string; size: number } | null {
  if (urlPath.includes('\0')) return null;
  const candidate = normalize(join(root, urlPath));
  if (candidate !== root && !candidate.startsWith(root + sep)) return null;
  const tryFile = (p: string) => {
    try {
      const st = statSync(p);
      return st.isFile() ? { path: p, size: st.size } : null;
    } catch {
      return null;
    }
  };
  return (
    tryFile(candidate) ??
    tryFile(join(candidate, 'index.html')) ??
    // SPA fallback for client-side routes (paths without an extension).
    (extname(urlPath) === '' ? tryFile(join(root, 'index.html')) : null)
  );
}
