/**
 * The fleets of the network simulation (support/sim.ts): an in-process server on SQLite restarted
 * gracefully, and child-process servers (SQLite, or several on one PostgreSQL database) restarted
 * with SIGKILL. Shared by network-sim.test.ts and the long chaos hunt (chaos-hunt.ts).
 */
import { join } from 'node:path';
import { createServer, type DataloomServer } from '../../../packages/server/src/index.js';
import { createPostgresStore } from '../../../packages/server/src/storage/postgres.js';
import { createSqliteStore } from '../../../packages/server/src/storage/sqlite.js';
import type { LogEntry, ServerStore } from '../../../packages/server/src/storage/types.js';
import { freePort, releasePort, startChild, type ChildServer } from './child.js';
import { PG_URL, TEST_SCHEMA, pgNamespace, sleep, tempDir } from './harness.js';
import type { Fleet } from './sim.js';

const LIMITS = { messagesPerSecond: 5000, messageBurst: 10000 };

/** `extra`: more server options (e.g. `retention`), for every node. */
export async function inProcessFleet(extra: Record<string, unknown> = {}): Promise<Fleet> {
  const t = tempDir();
  const file = join(t.dir, 'sim.sqlite');
  const port = await freePort();
  const open = () => createServer({ store: `sqlite:${file}`, port, schema: TEST_SCHEMA, limits: LIMITS, onError: () => {}, ...extra });
  let server: DataloomServer | null = await open();
  const url = server.url;
  const fleet: Fleet = {
    urls: () => [url],
    restart: async (_i, rand) => {
      await server!.close();
      server = null;
      await sleep(Math.floor(rand() * 60));
      server = await open();
    },
    head: async () => server?.head() ?? 0,
    stop: async () => {
      await server?.close();
      server = null;
      releasePort(port);
    },
    readLog: () => readLog(createSqliteStore({ file }), fleet, t.cleanup),
  };
  return fleet;
}

export async function childFleet(kind: 'sqlite' | 'postgres', nodes: number, extra: Record<string, unknown> = {}): Promise<Fleet> {
  const t = tempDir();
  const file = join(t.dir, 'sim.sqlite');
  const namespace = pgNamespace();
  const store = kind === 'sqlite' ? `sqlite:${file}` : `${PG_URL}?namespace=${namespace}`;
  const ports = await Promise.all(Array.from({ length: nodes }, () => freePort()));
  const cfg = (port: number) => ({ store, port, schema: TEST_SCHEMA, limits: LIMITS, pollMs: 200, ...extra });
  const children: Array<ChildServer | null> = [];
  for (const p of ports) children.push(await startChild(cfg(p)));
  const urls = ports.map((p) => `ws://127.0.0.1:${p}/`);
  const health = async (p: number) => {
    try {
      return ((await (await fetch(`http://127.0.0.1:${p}/health`)).json()) as { head: number }).head;
    } catch {
      return 0;
    }
  };
  const fleet: Fleet = {
    urls: () => urls,
    restart: async (i, rand) => {
      await children[i]!.kill('SIGKILL');
      children[i] = null;
      await sleep(Math.floor(rand() * 100));
      children[i] = await startChild(cfg(ports[i]!));
    },
    head: async () => Math.max(...(await Promise.all(ports.map(health)))),
    stop: async () => {
      await Promise.all(children.map((c) => c?.kill('SIGTERM')));
      for (const p of ports) releasePort(p);
    },
    readLog: () => readLog(kind === 'sqlite' ? createSqliteStore({ file }) : createPostgresStore({ url: PG_URL, namespace }), fleet, t.cleanup),
  };
  return fleet;
}

/** The whole log of a stopped fleet's store (and its horizon, kept on the fleet); the fleet's files go. */
async function readLog(s: ServerStore, fleet: Fleet, cleanup: () => void): Promise<LogEntry[]> {
  await s.open();
  const all = await s.readSince(0, 1e9);
  fleet.horizon = await s.horizon();
  await s.destroy();
  cleanup();
  return all;
}
