/**
 * Seeded network simulation (see support/sim.ts). Defaults keep CI short; `FUZZ_RUNS=n` runs n
 * times more seeds; `FUZZ_SEED=s` replays one seed.
 *
 * - in-process server on SQLite, restarted gracefully: many seeds, fast;
 * - child-process server on SQLite, restarted with SIGKILL;
 * - two child-process servers on one PostgreSQL database (LISTEN/NOTIFY fan-out), SIGKILLed.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createServer, type DataloomServer } from '../../packages/server/src/index.js';
import { createPostgresStore } from '../../packages/server/src/storage/postgres.js';
import { createSqliteStore } from '../../packages/server/src/storage/sqlite.js';
import { freePort, startChild, type ChildServer } from './support/child.js';
import { PG_URL, TEST_SCHEMA, pgNamespace, sleep, tempDir } from './support/harness.js';
import { runSim, type Fleet } from './support/sim.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1);
const FIXED = process.env.FUZZ_SEED ? [Number(process.env.FUZZ_SEED)] : null;
const seeds = (n: number, base: number) => FIXED ?? Array.from({ length: n * RUNS }, (_, i) => base + i);
const LIMITS = { messagesPerSecond: 5000, messageBurst: 10000 };

async function withSeed(seed: number, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    (e as Error).message = `${(e as Error).message}\nreplay with FUZZ_SEED=${seed}`;
    throw e;
  }
}

async function inProcessFleet(): Promise<Fleet> {
  const t = tempDir();
  const file = join(t.dir, 'sim.sqlite');
  const port = await freePort();
  const open = () => createServer({ store: `sqlite:${file}`, port, schema: TEST_SCHEMA, limits: LIMITS, onError: () => {} });
  let server: DataloomServer | null = await open();
  const url = server.url;
  return {
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
    },
    readLog: async () => {
      const s = createSqliteStore({ file });
      await s.open();
      const all = await s.readSince(0, 1e9);
      await s.destroy();
      t.cleanup();
      return all;
    },
  };
}

async function childFleet(kind: 'sqlite' | 'postgres', nodes: number): Promise<Fleet> {
  const t = tempDir();
  const file = join(t.dir, 'sim.sqlite');
  const namespace = pgNamespace();
  const store = kind === 'sqlite' ? `sqlite:${file}` : `${PG_URL}?namespace=${namespace}`;
  const ports = await Promise.all(Array.from({ length: nodes }, () => freePort()));
  const cfg = (port: number) => ({ store, port, schema: TEST_SCHEMA, limits: LIMITS, pollMs: 200 });
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
  return {
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
    },
    readLog: async () => {
      const s = kind === 'sqlite' ? createSqliteStore({ file }) : createPostgresStore({ url: PG_URL, namespace });
      await s.open();
      const all = await s.readSince(0, 1e9);
      await s.destroy();
      t.cleanup();
      return all;
    },
  };
}

describe('network simulation', () => {
  for (const seed of seeds(200, 1000)) {
    it(`in-process SQLite server, seed ${seed}`, () =>
      withSeed(seed, async () => {
        const r = await runSim(await inProcessFleet(), { seed, clients: 5, steps: 80, restarts: 2 });
        expect(r.acked).toBeGreaterThan(0);
      }));
  }
  for (const seed of seeds(4, 2000)) {
    it(`SQLite server child process with SIGKILL restarts, seed ${seed}`, { timeout: 180_000 }, () =>
      withSeed(seed, async () => {
        const r = await runSim(await childFleet('sqlite', 1), { seed, clients: 5, steps: 120, restarts: 2 });
        expect(r.restarts).toBeGreaterThan(0);
        expect(r.acked).toBeGreaterThan(0);
      }));
  }
  for (const seed of seeds(4, 3000)) {
    it(`two PostgreSQL server processes with SIGKILL restarts, seed ${seed}`, { timeout: 180_000 }, () =>
      withSeed(seed, async () => {
        const r = await runSim(await childFleet('postgres', 2), { seed, clients: 6, steps: 120, restarts: 2 });
        expect(r.acked).toBeGreaterThan(0);
      }));
  }
});
