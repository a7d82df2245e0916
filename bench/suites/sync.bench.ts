/**
 * Sync benchmarks on loopback (issue 5), servers in their own processes:
 *
 * | row                         | what is timed                                                        |
 * |-----------------------------|----------------------------------------------------------------------|
 * | client-a-to-b-diff median/p99 | real clients (`createClient`, in-process): A's `transact` → B's watched query emits the diff |
 * | client-burst-500            | 500 `transact`s by A → B's watched count query reaches 500          |
 * | client-burst-500-local-part | the part of that spent until A's 500 local `transact`s resolved     |
 * | a-to-b median / p99         | client A's `transact` → client B has applied it (replica `change`)   |
 * | burst-500                   | 500 transactions made at once by A → all applied at B                |
 * | ingest-50 fan-out median/p99| 50 clients each transacting at a steady rate: stamp → applied at every other client |
 * | ingest-50 tx/s              | acknowledged transactions per second during that run (in `n`)        |
 *
 * Each for SQLite (one server process) and PostgreSQL with two server processes (A and B on
 * different nodes, so every delivery crosses LISTEN/NOTIFY). Peer column: the 3DF spike's
 * published figures (450 ms per round trip, 1,500 ms for 500 transactions) — not re-measured.
 *
 * The `client-*` rows use the real client (replica + dataflow engine, memory storage, no worker).
 * The other rows use `SyncClient`s over the in-memory test replica of `test/sync`, to measure
 * the transport and server alone (and to afford 50 clients in one process).
 *
 * The harness times synchronous functions only, so this suite measures at import (top-level
 * await), returns no harness rows, and writes `bench/results/sync.json` itself when the process
 * exits (after the runner wrote its empty file). Env: `SYNC_BENCH_ROUNDS` (default 200),
 * `SYNC_BENCH_INGEST_S` (default 5), `SYNC_BENCH_HZ` (transactions per second per ingest client,
 * default 10: 500 tx/s offered), `SYNC_BENCH_BACKENDS` (`sqlite,postgres`).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { SyncClient } from '../../packages/client/src/sync/index.js';
import { createClient, type Client } from '../../packages/client/src/index.js';
import type { SocketCtor } from '../../packages/client/src/sync/socket.js';
import { MemoryReplica } from '@dataloom/test/sync/support/memory-replica.js';
import { freePort, startChild, type ChildServer } from '@dataloom/test/sync/support/child.js';
import type { RowSpec } from '../harness/types.js';
import { reportMeasuredRows, type MeasuredRow } from '../harness/measured-rows.js';

export const suite = 'sync';
export const peer = '3df-spike';

type Row = MeasuredRow;

const ROUNDS = Number(process.env.SYNC_BENCH_ROUNDS ?? 200);
const INGEST_S = Number(process.env.SYNC_BENCH_INGEST_S ?? 5);
const BACKENDS = (process.env.SYNC_BENCH_BACKENDS ?? 'sqlite,postgres').split(',');
const PG_URL = process.env.DATALOOM_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = { 'item/title': { 'db/valueType': 'db.type/string' }, 'item/count': { 'db/valueType': 'db.type/long' } };
const LIMITS = { messagesPerSecond: 100_000, messageBurst: 100_000 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const hlcMs = (tx: string) => parseInt(tx.slice(0, 12), 36);

let seq = 0;
function client(url: string): { replica: MemoryReplica; sync: SyncClient } {
  const replica = new MemoryReplica(`bench${process.pid}_${seq++}`);
  const sync = new SyncClient({ url, replica, WebSocket: WebSocket as unknown as SocketCtor, backoff: { initialMs: 20, maxMs: 500 } });
  return { replica, sync };
}

/** Resolves when `replica` has applied every tx in `txs` (remote change events). */
function applied(replica: MemoryReplica, txs: Set<string>, onEach?: (tx: string) => void): Promise<void> {
  return new Promise((res) => {
    const off = replica.on('change', (e) => {
      if (e.origin !== 'remote') return;
      for (const tx of e.txs) if (txs.delete(tx)) onEach?.(tx);
      if (txs.size === 0) {
        off();
        res();
      }
    });
  });
}

async function fleet(kind: string): Promise<{ urls: string[]; stop: () => Promise<void> }> {
  const dir = join(tmpdir(), `dataloom-bench-${process.pid}-${kind}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ns = `dl_bench_${process.pid}`;
  const store = kind === 'sqlite' ? `sqlite:${join(dir, 'bench.sqlite')}` : `${PG_URL}?namespace=${ns}`;
  const nodes = kind === 'sqlite' ? 1 : 2;
  const children: ChildServer[] = [];
  for (let i = 0; i < nodes; i++) children.push(await startChild({ store, port: await freePort(), schema: SCHEMA, limits: LIMITS, pollMs: 1000 }));
  return {
    urls: children.map((c) => c.url),
    stop: async () => {
      await Promise.all(children.map((c) => c.kill('SIGTERM')));
      rmSync(dir, { recursive: true, force: true });
      if (kind === 'postgres') {
        const { createPostgresStore } = await import('../../packages/server/src/storage/postgres.js');
        await createPostgresStore({ url: PG_URL, namespace: ns }).destroy();
      }
    },
  };
}

async function runBackend(kind: string): Promise<Row[]> {
  const f = await fleet(kind);
  const rows: Row[] = [];
  const row = (name: string, n: number, ms: number | null, peerMs: number | null) =>
    rows.push({ suite, name: `${name}/${kind}`, n, dataloom_ms: ms === null ? null : Number(ms.toPrecision(4)), peer, peer_ms: peerMs, ratio: ms !== null && peerMs ? Number((ms / peerMs).toPrecision(4)) : null });
  await realClients(f.urls, (name, n, ms, peerMs) => row(name, n, ms, peerMs));
  const a = client(f.urls[0]!);
  const b = client(f.urls[f.urls.length - 1]!);
  try {
    await Promise.all([a.sync.whenSynced(), b.sync.whenSynced()]);
    const e = a.replica.newEntity();
    // warm-up
    for (let i = 0; i < 20; i++) {
      const r = await a.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/count', v: i }] });
      await applied(b.replica, new Set([r.tx]));
    }
    // A → B latency, one at a time
    const lat: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      const p = new Promise<void>((res) => {
        const off = b.replica.on('change', (ev) => {
          if (ev.origin === 'remote') {
            off();
            res();
          }
        });
      });
      await a.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/count', v: 1000 + i }] });
      await p;
      lat.push(performance.now() - t0);
    }
    row('a-to-b-median', ROUNDS, pct(lat, 50), 450);
    row('a-to-b-p99', ROUNDS, pct(lat, 99), 450);
    // 500-transaction burst
    {
      const t0 = performance.now();
      const txs = new Set<string>();
      const done = applied(b.replica, txs);
      for (let i = 0; i < 500; i++) txs.add((await a.replica.localTransact({ ops: [{ op: 'add', e: a.replica.newEntity(), a: 'item/title', v: `burst ${i}` }] })).tx);
      await done;
      row('burst-500', 500, performance.now() - t0, 1500);
    }
    a.sync.close();
    b.sync.close();
    // sustained ingest, 50 clients
    {
      const clients = Array.from({ length: 50 }, (_, i) => client(f.urls[i % f.urls.length]!));
      await Promise.all(clients.map((c) => c.sync.whenSynced()));
      const fan: number[] = [];
      for (const c of clients) c.replica.on('change', (ev) => ev.origin === 'remote' && ev.txs.forEach((tx) => fan.push(Date.now() - hlcMs(tx))));
      let acked = 0;
      for (const c of clients) c.replica.on('acked', () => acked++);
      const perClientHz = Number(process.env.SYNC_BENCH_HZ ?? 10);
      const stopAt = Date.now() + INGEST_S * 1000;
      const t0 = performance.now();
      await Promise.all(
        clients.map(async (c, i) => {
          await sleep((i * 1000) / perClientHz / clients.length);
          const e2 = c.replica.newEntity();
          let k = 0;
          while (Date.now() < stopAt) {
            await c.replica.localTransact({ ops: [{ op: 'add', e: e2, a: 'item/count', v: k++ }] });
            await sleep(1000 / perClientHz);
          }
        }),
      );
      await Promise.all(clients.map((c) => c.sync.whenSynced()));
      const secs = (performance.now() - t0) / 1000;
      rows.push({ suite, name: `ingest-50-tx-per-s/${kind}`, n: Math.round(acked / secs), dataloom_ms: null, peer, peer_ms: null, ratio: null });
      row('ingest-50-fanout-median', fan.length, pct(fan, 50), null);
      row('ingest-50-fanout-p99', fan.length, pct(fan, 99), null);
      for (const c of clients) c.sync.close();
    }
  } finally {
    a.sync.close();
    b.sync.close();
    await f.stop();
  }
  return rows;
}

/** A → B through the real client: transact at A, diff of a watched query at B. */
async function realClients(urls: string[], row: (name: string, n: number, ms: number, peerMs: number) => void): Promise<void> {
  const schema = { ':item/title': { ':db/valueType': ':db.type/string' }, ':item/count': { ':db/valueType': ':db.type/long' } };
  const mk = (url: string): Client =>
    createClient({ name: `bench-${process.pid}-${seq++}`, schema, storage: 'memory', tabs: false, url, WebSocket: WebSocket as unknown as SocketCtor });
  const a = mk(urls[0]!);
  const b = mk(urls[urls.length - 1]!);
  try {
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const res = await a.transact([{ ':db/id': 'x', ':item/title': 'latency', ':item/count': 0 }]);
    const eid = res.tempids.x!;
    const view = b.watch('[:find ?c . :where [?e :item/title "latency"] [?e :item/count ?c]]');
    await view.ready;
    let wake: (() => void) | null = null;
    view.subscribe(() => wake?.());
    const once = () => new Promise<void>((r) => (wake = r));
    for (let i = 1; i <= 20; i++) {
      const p = once();
      await a.transact([[':db/add', eid, ':item/count', i]]);
      await p;
    }
    const lat: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const p = once();
      const t0 = performance.now();
      await a.transact([[':db/add', eid, ':item/count', 1000 + i]]);
      await p;
      lat.push(performance.now() - t0);
    }
    row('client-a-to-b-diff-median', ROUNDS, pct(lat, 50), 450);
    row('client-a-to-b-diff-p99', ROUNDS, pct(lat, 99), 450);
    const count = b.watch('[:find (count ?e) . :where [?e :item/title "burst"]]');
    await count.ready;
    const done = new Promise<void>((r) => count.subscribe(() => count.result() === 500 && r()));
    const t0 = performance.now();
    const local: Array<Promise<unknown>> = [];
    for (let i = 0; i < 500; i++) local.push(a.transact([{ ':item/title': 'burst', ':item/count': i }]));
    await Promise.all(local);
    const tLocal = performance.now() - t0;
    await done;
    row('client-burst-500', 500, performance.now() - t0, 1500);
    // of which: A's 500 local transacts (replica + dataflow, before the network is involved)
    row('client-burst-500-local-part', 500, tLocal, 1500);
  } finally {
    await a.close();
    await b.close();
  }
}

const results: Row[] = [];
for (const kind of BACKENDS) {
  try {
    results.push(...(await runBackend(kind)));
  } catch (e) {
    process.stderr.write(`[sync bench] ${kind}: ${(e as Error).message}\n`);
  }
}
reportMeasuredRows(suite, `sync (loopback; peer = 3DF spike's published figures)`, results);

/** No synchronous harness rows: see the file comment. */
export function rows(): RowSpec[] {
  return [];
}
