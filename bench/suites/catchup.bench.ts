/**
 * Catch-up isolation (issue 9): while one client reads a large log from scratch, how long does
 * another client's `transact` → ack take? The server runs in its own process on SQLite holding a
 * prebuilt log of `CATCHUP_BENCH_MB` MiB (default 100) of 200 KiB envelopes; the reader counts the
 * bytes it receives; the honest client (the `test/sync` in-memory replica over `SyncClient`) makes
 * one transaction after another and times each until its ack.
 *
 * | row | what |
 * |---|---|
 * | ack-during-catchup p50 / p99 / max | honest round trips while the reader is behind; peer column: the same with no reader |
 * | catchup-total | time until the reader has the whole log (`n` = entries) |
 *
 * Measured at import (like `sync.bench.ts`); writes `bench/results/catchup.json` at exit.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { SyncClient } from '../../packages/client/src/sync/index.js';
import type { SocketCtor } from '../../packages/client/src/sync/socket.js';
import { createSqliteStore } from '../../packages/server/src/storage/sqlite.js';
import { ServerState } from '../../packages/server/src/state/server-state.js';
import { MemoryReplica } from '@dataloom/test/sync/support/memory-replica.js';
import { freePort, startChild } from '@dataloom/test/sync/support/child.js';
import type { RowSpec } from '../harness/types.js';
import { reportMeasuredRows, type MeasuredRow } from '../harness/measured-rows.js';

export const suite = 'catchup';
export const peer = 'no-reader';

const MB = Number(process.env.CATCHUP_BENCH_MB ?? 100);
const SCHEMA = { 'item/title': { 'db/valueType': 'db.type/string' } };
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

type Row = MeasuredRow;

async function buildLog(file: string): Promise<number> {
  const store = createSqliteStore({ file });
  await store.open();
  const judge = new ServerState({ maxClockDriftMs: 60_000 });
  const count = Math.ceil((MB * 1024) / 200);
  const value = 'x'.repeat(200 * 1024);
  let head = 0;
  let n = 0;
  for (let i = 0; i < count; i += 20) {
    const envs = Array.from({ length: Math.min(20, count - i) }, () => {
      const tx = `${(Date.now() - 10_000).toString(36).padStart(12, '0')}-${(n++).toString(36).padStart(4, '0')}-bulk`;
      return { tx, replica: 'bulk', ops: [{ id: `${tx}/0`, tx, e: `bulk.${n.toString(36)}`, op: 'add' as const, a: 'item/title', v: value + n }] };
    });
    head = (await store.append(envs, head, judge)).head;
  }
  await store.close();
  return count;
}

/** An honest client, synced to the head before it is timed. */
async function honestClient(url: string) {
  const replica = new MemoryReplica(`honest${process.pid}`);
  const sync = new SyncClient({ url, replica, WebSocket: WebSocket as unknown as SocketCtor, backoff: { initialMs: 20, maxMs: 500 } });
  await sync.whenSynced();
  /** Round trips (transact → ack, ms) until `until()` or `max` of them. */
  const roundTrips = async (until: () => boolean, max: number): Promise<number[]> => {
    const out: number[] = [];
    while (!until() && out.length < max) {
      const t = performance.now();
      const r = await replica.localTransact({ ops: [{ op: 'add', e: replica.newEntity(), a: 'item/title', v: `r${out.length}` }] });
      await sync.waitForTx(r.tx);
      out.push(performance.now() - t);
    }
    return out;
  };
  return { roundTrips, close: () => sync.close() };
}

const results: Row[] = [];
const dir = join(tmpdir(), `dataloom-catchup-${process.pid}`);
mkdirSync(dir, { recursive: true });
try {
  const file = join(dir, 'log.sqlite');
  const entries = await buildLog(file);
  const port = await freePort();
  const child = await startChild({ store: `sqlite:${file}`, port, schema: SCHEMA });
  try {
    const honest = await honestClient(child.url);
    const idle = await honest.roundTrips(() => false, 200);
    let received = 0;
    let done = false;
    const reader = new WebSocket(child.url, ['dataloom.v1']);
    reader.on('message', (d: Buffer) => {
      received += d.length;
      if (d.includes('"more":false')) done = true;
    });
    await new Promise((r) => reader.once('open', r));
    const t0 = performance.now();
    reader.send(JSON.stringify({ t: 'hello', v: 1, replica: 'reader', cursor: null }));
    while (received === 0) await new Promise((r) => setTimeout(r, 1));
    const during = await honest.roundTrips(() => done, 100_000);
    honest.close();
    while (!done) await new Promise((r) => setTimeout(r, 5));
    const total = performance.now() - t0;
    reader.close();
    const row = (name: string, n: number, ms: number, peerMs: number | null): Row => ({ suite, name, n, dataloom_ms: +ms.toFixed(2), peer, peer_ms: peerMs === null ? null : +peerMs.toFixed(2), ratio: peerMs ? +(ms / peerMs).toFixed(2) : null });
    results.push(row(`ack-during-catchup-${MB}MB p50`, during.length, pct(during, 50), pct(idle, 50)));
    results.push(row(`ack-during-catchup-${MB}MB p99`, during.length, pct(during, 99), pct(idle, 99)));
    results.push(row(`ack-during-catchup-${MB}MB max`, during.length, Math.max(...during), Math.max(...idle)));
    results.push(row(`catchup-total-${MB}MB`, entries, total, null));
  } finally {
    await child.kill('SIGTERM');
  }
} catch (e) {
  process.stderr.write(`[catchup bench] ${(e as Error).stack}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
reportMeasuredRows(suite, `catch-up isolation (server in its own process; peer = the same round trips with no reader)`, results);

/** No synchronous harness rows: see the file comment. */
export function rows(): RowSpec[] {
  return [];
}
