/**
 * A tiny static HTTP server (node:http) for e2e pages: serves a directory on 127.0.0.1 on a free
 * port, with correct content types (module scripts, wasm, source maps), `index.html` for
 * directories, no caching, and an optional `handle` hook for test-specific routes (return `true`
 * when handled). Paths outside the directory are refused.
 *
 * @example
 * ```ts
 * const server = await serveStatic(dir);          // or serveStatic(dir, { port: 8123 })
 * await page.goto(server.url + 'index.html');
 * await server.close();
 * ```
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** Options for {@link serveStatic}. */
export interface StaticOptions {
  /** Port (default 0: any free port). */
  port?: number;
  /** Called first for every request; return true if it wrote the response. */
  handle?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /** Serve `index.html` for unknown paths without an extension (single-page apps). Default false. */
  spaFallback?: boolean;
}

/** A running static server. */
export interface StaticServer {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/** Serves `dir` over HTTP on 127.0.0.1. */
export async function serveStatic(dir: string, opts: StaticOptions = {}): Promise<StaticServer> {
  const base = resolve(dir);
  const server = createServer((req, res) => {
    void respond(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e));
    });
  });

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (opts.handle && (await opts.handle(req, res))) return;
    const url = new URL(req.url ?? '/', 'http://localhost');
    let path = normalize(join(base, decodeURIComponent(url.pathname)));
    if (path !== base && !path.startsWith(base + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let st = safeStat(path);
    if (st?.isDirectory()) {
      path = join(path, 'index.html');
      st = safeStat(path);
    }
    if (!st && opts.spaFallback && extname(url.pathname) === '') {
      path = join(base, 'index.html');
      st = safeStat(path);
    }
    if ((!st || !st.isFile()) && url.pathname === '/favicon.ico') {
      res.writeHead(204).end(); // browsers ask for it; a 404 would show up as a console error
      return;
    }
    if (!st || !st.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: ' + url.pathname);
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
      'content-length': st.size,
      'cache-control': 'no-store',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(path).pipe(res);
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    server,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

function safeStat(p: string) {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}
