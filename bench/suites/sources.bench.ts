/**
 * Source benchmarks (issue 13), on loopback against the real PostgreSQL, server in process:
 *
 * | row                       | what is timed                                                              |
 * |---------------------------|----------------------------------------------------------------------------|
 * | pg-lag median / p99       | `UPDATE` of one row in PostgreSQL (from sending it) → a connected client's watched query emits the diff |
 * | pg-snapshot               | a source's first start over a table of `n` rows → caught up (rows/s printed) |
 * | pg-changes                | one `UPDATE` of `n` rows → the source has them all in the log (rows/s printed) |
 * | datascript-lag median/p99 | `d.transact` on a live `datascript` connection → the client's diff          |
 *
 * No peer is re-measured here (peer columns are null). Like `sync.bench.ts`, the suite measures at
 * import and writes `bench/results/sources.json` itself. Env: `SOURCES_BENCH_ROUNDS` (default 100),
 * `SOURCES_BENCH_ROWS` (default 100000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import WebSocket from 'ws';
import { createClient, type Client } from '../../packages/client/src/index.js';
import type { SocketCtor } from '../../packages/client/src/sync/socket.js';
import { createServer, type DataloomServer, type DataScriptApi } from '../../packages/server/src/index.js';
import { writeResultsAtExit } from '../harness/measured-rows.js';
import type { ResultRow, RowSpec } from '../harness/types.js';

export const suite = 'sources';
export const peer = 'none';


const ROUNDS = Number(process.env.SOURCES_BENCH_ROUNDS ?? 100);
const ROWS = Number(process.env.SOURCES_BENCH_ROWS ?? 100_000);
const PG_URL = process.env.DATALOOM_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const results: ResultRow[] = [];
const row = (name: string, n: number, ms: number) => results.push({ suite, name, n, dataloom_ms: Math.round(ms * 1000) / 1000, peer, peer_ms: null, ratio: null });
const until = async (cond: () => boolean, what: string, ms = 600_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};
const caughtUp = (s: DataloomServer) => until(() => s.sources().every((x) => x.state === 'following' && x.caughtUp), 'caught up');

let clients = 0;
function client(url: string): Client {
  return createClient({ name: `srcbench-${process.pid}-${clients++}`, schema: {}, storage: 'memory', tabs: false, url, WebSocket: WebSocket as unknown as SocketCtor });
}

/** Resolves with the time from `act()` being called to the watched scalar becoming `want`. */
async function lag(view: { result(): unknown; subscribe(fn: () => void): () => void }, want: unknown, act: () => unknown): Promise<number> {
  let off = () => {};
  const seen = new Promise<void>((r) => {
    off = view.subscribe(() => view.result() === want && r());
  });
  const t0 = performance.now();
  await act();
  await seen;
  off();
  return performance.now() - t0;
}

/** A PostgreSQL table of `rows` rows and a server following it; `fn` runs with both, then all is dropped. */
async function withPgSource(rows: number, fn: (db: pg.Pool, table: string, server: DataloomServer, startMs: number) => Promise<void>): Promise<void> {
  const db = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const schema = `dl_srcbench_${process.pid}_${rows}`;
  const name = `bench${process.pid}_${rows}`;
  const dir = mkdtempSync(join(tmpdir(), 'dataloom-srcbench-'));
  let server: DataloomServer | null = null;
  try {
    await db.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.item (id int PRIMARY KEY, label text, score double precision);
      INSERT INTO ${schema}.item SELECT i, 'row ' || i, i * 0.5 FROM generate_series(1, ${rows}) i`);
    const t0 = performance.now();
    server = await createServer({ store: `sqlite:${join(dir, 'src.sqlite')}`, port: 0, sources: [{ name, postgres: PG_URL, pollMs: 1000, tables: { [`${schema}.item`]: true } }] });
    await fn(db, `${schema}.item`, server, t0);
  } finally {
    await server?.close();
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP TABLE IF EXISTS dataloom_src."changes_${name}"; DROP FUNCTION IF EXISTS dataloom_src."capture_${name}"()`).catch(() => {});
    await db.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgresRows(): Promise<void> {
  // throughput: the snapshot of a large table, then one UPDATE of every row
  await withPgSource(ROWS, async (db, table, server, t0) => {
    await caughtUp(server);
    const snapMs = performance.now() - t0;
    row('pg-snapshot', ROWS, snapMs);
    process.stderr.write(`[sources bench] snapshot: ${ROWS} rows in ${snapMs.toFixed(0)} ms (${Math.round(ROWS / (snapMs / 1000))} rows/s)\n`);
    const before = server.sources()[0]!.rows;
    const t1 = performance.now();
    await db.query(`UPDATE ${table} SET score = score + 1`);
    await until(() => server.sources()[0]!.rows - before >= ROWS && server.sources()[0]!.caughtUp, 'bulk update in the log');
    const bulkMs = performance.now() - t1;
    row('pg-changes', ROWS, bulkMs);
    process.stderr.write(`[sources bench] changes: ${ROWS} row updates in ${bulkMs.toFixed(0)} ms (${Math.round(ROWS / (bulkMs / 1000))} rows/s)\n`);
  });
  // lag: one row change to a connected client's diff (a small table, so the client syncs at once)
  await withPgSource(100, async (db, table, server) => {
    await caughtUp(server);
    const c = client(server.url);
    try {
      await c.whenSynced();
      const view = c.watch('[:find ?s . :where [?e :item/id 1] [?e :item/score ?s]]');
      await view.ready;
      const lags: number[] = [];
      for (let i = 0; i < ROUNDS; i++) lags.push(await lag(view, 1_000_000 + i, () => db.query(`UPDATE ${table} SET score = $1 WHERE id = 1`, [1_000_000 + i])));
      row('pg-lag median', ROUNDS, pct(lags, 50));
      row('pg-lag p99', ROUNDS, pct(lags, 99));
    } finally {
      await c.close();
    }
  });
}

async function datascriptRows(): Promise<void> {
  const d = createRequire(import.meta.url)('datascript') as DataScriptApi & { create_conn(s: object): unknown; transact(c: unknown, tx: unknown[]): unknown };
  const conn = d.create_conn({});
  d.transact(conn, [{ ':db/id': -1, 'item/id': 1, 'item/score': 0 }]);
  const dir = mkdtempSync(join(tmpdir(), 'dataloom-srcbench-'));
  const server = await createServer({ store: `sqlite:${join(dir, 'ds.sqlite')}`, port: 0, schema: { 'item/score': { 'db/valueType': 'db.type/long' } }, sources: [{ name: 'ds', datascript: { conn, api: d } }] });
  const c = client(server.url);
  try {
    await caughtUp(server);
    await c.whenSynced();
    const view = c.watch('[:find ?s . :where [?e :item/id 1] [?e :item/score ?s]]');
    await view.ready;
    const lags: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) lags.push(await lag(view, i, () => d.transact(conn, [[':db/add', 1, 'item/score', i]])));
    row('datascript-lag median', ROUNDS, pct(lags, 50));
    row('datascript-lag p99', ROUNDS, pct(lags, 99));
  } finally {
    await c.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const [what, fn] of [['postgres', postgresRows], ['datascript', datascriptRows]] as const) {
  try {
    await fn();
  } catch (e) {
    process.stderr.write(`[sources bench] ${what}: ${(e as Error).message}\n`);
  }
}
process.stdout.write(`\n## sources (loopback, server in process; no peer)\n`);
for (const r of results) {
  const rate = r.name === 'pg-snapshot' || r.name === 'pg-changes' ? `  (${Math.round(r.n / ((r.dataloom_ms ?? 1) / 1000))} rows/s)` : '';
  process.stdout.write(`${r.name.padEnd(28)} ${String(r.n).padStart(7)} ${r.dataloom_ms === null ? '      —' : r.dataloom_ms.toFixed(2).padStart(10) + ' ms'}${rate}\n`);
}
writeResultsAtExit('sources.json', results);

/** No synchronous harness rows: see the file comment. */
export function rows(): RowSpec[] {
  return [];
}
