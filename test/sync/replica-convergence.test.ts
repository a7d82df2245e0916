/**
 * The network simulation with the real client `Replica` (merge rules, HLC, outbox, rollback):
 * 5 replicas make random Datomic-style transactions (entity maps with tempids, adds, retracts,
 * `:db/cas`, `:db/retractEntity`, refs) over faulty sockets, go offline, reconnect, while the
 * server restarts. Afterwards every replica's *encoded snapshot* is byte-identical, and identical
 * to the snapshot of the server's log merged by the same rules (`MergeState`), and every
 * acknowledged transaction is in the log. `FUZZ_RUNS` multiplies the seeds, `FUZZ_SEED` replays.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DataloomError } from '@dataloom/core';
import { MergeState } from '@dataloom/core/internals';
import { Replica } from '../../packages/client/src/replica/replica.js';
import { cursorPos } from '@dataloom/protocol';
import { SyncClient } from '../../packages/client/src/sync/index.js';
import { createServer, type DataloomServer } from '../../packages/server/src/index.js';
import { createSqliteStore } from '../../packages/server/src/storage/sqlite.js';
import { freePort, releasePort } from './support/child.js';
import { faultySocket } from './support/faulty-socket.js';
import { TEST_SCHEMA, sleep, tempDir } from './support/harness.js';
import { mulberry32, pick } from '../gen/prng.js';

const CLIENT_SCHEMA = {
  ':item/title': { ':db/valueType': ':db.type/string' },
  ':item/count': { ':db/valueType': ':db.type/long' },
  ':item/tags': { ':db/valueType': ':db.type/string', ':db/cardinality': ':db.cardinality/many' },
  ':item/owner': { ':db/valueType': ':db.type/ref' },
};
const RUNS = Number(process.env.FUZZ_RUNS ?? 1);
const SEEDS = process.env.FUZZ_SEED ? [Number(process.env.FUZZ_SEED)] : Array.from({ length: 30 * RUNS }, (_, i) => 4000 + i);

function titled(r: Replica): string[] {
  const out = new Set<string>();
  for (const d of r.merged().datoms()) if (d.a === 'item/title') out.add(d.e);
  return [...out].sort();
}

function randomTx(rand: () => number, r: Replica): unknown[] {
  const ents = titled(r);
  const word = () => pick(rand, ['red', 'green', 'blue', 'amber']);
  const x = rand();
  if (ents.length === 0 || x < 0.3) {
    const m: Record<string, unknown> = { ':db/id': 'n', ':item/title': `t-${word()}-${Math.floor(rand() * 100)}`, ':item/count': Math.floor(rand() * 10) };
    if (ents.length && rand() < 0.4) m[':item/owner'] = r.eid(pick(rand, ents));
    return [m];
  }
  const g = pick(rand, ents);
  const e = r.eid(g);
  if (x < 0.5) {
    const cur = r.merged().values(g, 'item/count')[0];
    if (typeof cur === 'number' && rand() < 0.4) return [[':db/cas', e, ':item/count', cur, cur + 1]];
    return [[':db/add', e, ':item/count', Math.floor(rand() * 100)]];
  }
  if (x < 0.7) return [[rand() < 0.7 ? ':db/add' : ':db/retract', e, ':item/tags', word()]];
  if (x < 0.8) return [[':db/add', e, ':item/title', `renamed-${word()}`]];
  if (x < 0.87) return [[':db/retractEntity', e]];
  return [[':db/add', e, ':item/owner', r.eid(pick(rand, ents))]];
}

async function run(seed: number): Promise<void> {
  const rand = mulberry32(seed);
  const t = tempDir();
  const file = join(t.dir, 'conv.sqlite');
  const port = await freePort();
  const open = () => createServer({ store: `sqlite:${file}`, port, schema: TEST_SCHEMA, limits: { messagesPerSecond: 5000, messageBurst: 10000 }, onError: () => {} });
  let server: DataloomServer | null = await open();
  const url = server.url;
  const clients = Array.from({ length: 5 }, (_, i) => {
    const replica = new Replica({ schema: CLIENT_SCHEMA, replicaId: `rc${seed}_${i}` });
    const crand = mulberry32(seed * 17 + i);
    const sync = new SyncClient({
      url,
      replica,
      WebSocket: faultySocket({ rand: crand, pickUrl: () => url, maxDelayMs: 10, pDup: 0.05, pDrop: 0.01 }),
      backoff: { initialMs: 10, maxMs: 150 },
      random: crand,
    });
    const acked = new Map<string, string>();
    replica.on('acked', (a) => acked.set(a.tx, a.cursor ?? ''));
    return { replica, sync, acked, offline: false };
  });
  try {
    await Promise.all(clients.map((c) => c.replica.ready));
    let restarts = 0;
    for (let step = 0; step < 60; step++) {
      const c = pick(rand, clients);
      const x = rand();
      if (x < 0.75) {
        try {
          await c.replica.localTransact(randomTx(rand, c.replica));
        } catch (e) {
          if (!(e instanceof DataloomError)) throw e; // e.g. a local cas that no longer holds
        }
      } else if (x < 0.85) {
        if (c.offline) c.sync.start();
        else c.sync.stop();
        c.offline = !c.offline;
      } else if (x < 0.95) c.sync.reconnect();
      else if (restarts < 2) {
        restarts++;
        await server!.close();
        server = null;
        await sleep(Math.floor(rand() * 50));
        server = await open();
      }
      await sleep(Math.floor(rand() * 10));
    }
    for (const c of clients) if (c.offline) c.sync.start();
    const deadline = Date.now() + 45_000;
    for (;;) {
      const head = server!.head();
      if (clients.every((c) => c.replica.outbox().length === 0 && cursorPos(c.replica.cursor()) >= head) && head === server!.head()) break;
      if (Date.now() > deadline) throw new Error(`no convergence: ${JSON.stringify(clients.map((c) => [c.replica.outbox().length, c.replica.cursor(), c.sync.status().state]))} head ${head}`);
      await sleep(50);
    }
  } finally {
    for (const c of clients) c.sync.close();
    await server?.close();
    releasePort(port);
  }
  const store = createSqliteStore({ file });
  await store.open();
  const log = await store.readSince(0, 1e9);
  await store.destroy();
  t.cleanup();

  expect(log.length).toBeGreaterThan(10);
  expect(clients.reduce((n, c) => n + c.acked.size, 0)).toBeGreaterThan(0);
  const serverState = new MergeState(CLIENT_SCHEMA);
  serverState.apply(log.filter((e) => !e.env.draft).flatMap((e) => e.env.ops));
  const expected = Buffer.from(serverState.encodeSnapshot()).toString('base64');
  const inLog = new Map(log.map((e) => [e.env.tx, e.pos]));
  for (const c of clients) {
    expect(Buffer.from(c.replica.encodeSnapshot()).toString('base64'), `replica ${c.replica.replicaId} vs server log`).toBe(expected);
    for (const [tx, pos] of c.acked) expect(inLog.get(tx), `acknowledged ${tx}`).toBe(Number(pos));
  }
  for (const c of clients) await c.replica.close();
}

describe('real replicas converge through the sync server', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}`, { timeout: 120_000 }, async () => {
      try {
        await run(seed);
      } catch (e) {
        (e as Error).message += `\nreplay with FUZZ_SEED=${seed}`;
        throw e;
      }
    });
  }
});
