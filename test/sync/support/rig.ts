/**
 * The usual set-up of an end-to-end test: a real server on a fresh SQLite file and real clients
 * (`createClient`, in memory, one tab) over real WebSockets, all closed — and the server's
 * directory removed — after each test. Import as `@dataloom/test/sync/support/rig.js` or relatively.
 *
 * ```ts
 * const t = testRig('drafts-sync', { schema });
 * const s = await t.server({ permissions });
 * const a = t.client(s.url);
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client, type ClientOptions } from '@dataloom/client';
import { createServer, type DataloomServer, type ServerOptions } from '@dataloom/server';
import { tappedSocket, type Tap } from './tap.js';

export interface TestRig {
  /** Runs `fns` after the current test (the last deferred first). */
  defer(...fns: Array<() => unknown>): void;
  /** A server on a fresh SQLite file, port 0, the rig's schema unless `options` give one. */
  server(options?: Partial<ServerOptions>): Promise<DataloomServer>;
  /** A client of `url` (none: offline): in memory, one tab, the rig's schema; `options` override any of it. */
  client(url: string | undefined, options?: Partial<ClientOptions>): Client;
  /** {@link TestRig.client} signed in as `user` (the token), its frames recorded in `tap`. */
  userClient(url: string, user: string, options?: Partial<ClientOptions>): { c: Client; tap: Tap };
}

/** A rig whose servers and clients are named after `label`; registers its own `afterEach`. */
export function testRig(label: string, defaults: { schema: unknown }): TestRig {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  let n = 0;
  const client = (url: string | undefined, options: Partial<ClientOptions> = {}): Client => {
    const sync = url === undefined ? {} : { url, WebSocket: WebSocket as never };
    const c = createClient({ name: `${label}-${n++}`, schema: defaults.schema, storage: 'memory', tabs: false, ...sync, ...options });
    cleanups.push(() => c.close());
    return c;
  };
  return {
    defer: (...fns) => void cleanups.push(...fns),
    async server(options = {}) {
      const dir = mkdtempSync(join(tmpdir(), `dataloom-${label}-`));
      const s = await createServer({ store: `sqlite:${join(dir, 'db.sqlite')}`, port: 0, schema: defaults.schema, ...options });
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => s.close());
      return s;
    },
    client,
    userClient(url, user, options = {}) {
      const tap: Tap = { frames: [] };
      const c = client(url, { name: `${label}-${user}-${n++}`, token: user, WebSocket: tappedSocket(WebSocket, tap) as never, ...options });
      return { c, tap };
    },
  };
}
