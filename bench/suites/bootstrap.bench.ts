/**
 * First sync from a snapshot (issue 10, item 3): a fresh client whose scope is 1,000 entities of
 * a log of `BOOTSTRAP_BENCH_OPS` operations (default 1,000,000), against reading the whole log —
 * the old path of a fresh client, measured here as a client resuming at position 1 (a cursor at
 * or above the retention horizon with no scope still streams the log), in the same run.
 *
 * The log: 100 lists, 100,000 items (each `:item/list`, `:item/title`, `:item/count`), then
 * `:item/count` overwritten until the log holds the ops asked for, 10 ops a transaction. It is
 * built once with a bulk insert into a SQLite file under the OS temp directory and reused by
 * later runs (`BOOTSTRAP_BENCH_REBUILD=1` builds it again). The server runs in this process on a
 * copy-free open of that file; each client is a bare WebSocket that parses every frame it gets.
 *
 * | row | Dataloom | peer column |
 * |---|---|---|
 * | first-sync-scope-1k | hello with a scope (the items of one list: 1,000 entities) → its state received | the whole log streamed from position 1 |
 * | first-sync-all-snapshot | hello with no cursor and no scope → the state of everything | the whole log |
 * | snapshot-frames-scope-1k | the server's part alone: `bootstrapFrames` of the 1,000 entities (the scope query's registration not counted) | — |
 * | server-start-checkpoint | `createServer` → first hello answered, from the checkpoint and the log after it | full replay (no checkpoint) |
 * | server-start-read-log-only | reading the log alone (pages of 5,000, JSON parsed): the floor of a full replay | full replay |
 *
 * `n` is the number of ops received. Measured at import; writes `bench/results/bootstrap.json`.
 */
import Database from 'better-sqlite3';
import { existsSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { schemaAsData } from '@dataloom/core/internals';
import { createServer } from '../../packages/server/src/index.js';
import { SyncNode } from '../../packages/server/src/node/sync-node.js';
import { bootstrapFrames } from '../../packages/server/src/permissions/bootstrap.js';
import { EntryFilter } from '../../packages/server/src/permissions/partial.js';
import { createSqliteStore } from '../../packages/server/src/storage/sqlite.js';
import type { RowSpec } from '../harness/types.js';
import { reportMeasuredRows, type MeasuredRow } from '../harness/measured-rows.js';

export const suite = 'bootstrap';
export const peer = 'whole-log';

const OPS = Number(process.env.BOOTSTRAP_BENCH_OPS ?? 1_000_000);
const LISTS = 100;
const ITEMS = 100_000;
const OPS_PER_TX = 10;
const SCHEMA = {
  'list/name': { 'db/valueType': 'db.type/string', 'db/unique': 'db.unique/identity' },
  'item/list': { 'db/valueType': 'db.type/ref' },
  'item/title': { 'db/valueType': 'db.type/string' },
  'item/count': { 'db/valueType': 'db.type/long' },
};
const SCOPE = { query: '[:find ?i :in $ ?name :where [?l :list/name ?name] [?i :item/list ?l]]', inputs: ['list 7'] };

/** Builds the log with one bulk insert (no judging: the ops are valid by construction). */
async function buildLog(file: string): Promise<void> {
  rmSync(file, { force: true });
  const store = createSqliteStore({ file });
  await store.open();
  await store.close();
  const db = new Database(file);
  const insert = db.prepare('INSERT INTO dataloom_log(pos, tx, replica, env, at) VALUES (?, ?, ?, ?, ?)');
  const t0 = Date.now() - 3_600_000;
  let pos = 0;
  let ops: Array<Record<string, unknown>> = [];
  let total = 0;
  const flush = () => {
    if (ops.length === 0) return;
    pos++;
    const tx = `${(t0 + pos).toString(36).padStart(12, '0')}-0000-bulk`;
    const env = { tx, replica: 'bulk', ops: ops.map((o, i) => ({ id: `${tx}/${i}`, tx, ...o })) };
    insert.run(pos, tx, 'bulk', JSON.stringify(env), t0);
    ops = [];
  };
  const add = (o: Record<string, unknown>) => {
    ops.push(o);
    total++;
    if (ops.length === OPS_PER_TX) flush();
  };
  db.transaction(() => {
    for (let l = 0; l < LISTS; l++) add({ e: `bulk.l${l}`, op: 'add', a: 'list/name', v: `list ${l}` });
    for (let i = 0; i < ITEMS && total < OPS; i++) {
      add({ e: `bulk.i${i}`, op: 'add', a: 'item/list', v: { ref: `bulk.l${i % LISTS}` } });
      add({ e: `bulk.i${i}`, op: 'add', a: 'item/title', v: `item ${i}` });
      add({ e: `bulk.i${i}`, op: 'add', a: 'item/count', v: 0 });
    }
    for (let k = 0; total < OPS; k++) add({ e: `bulk.i${(k * 7919) % ITEMS}`, op: 'add', a: 'item/count', v: k + 1 });
    flush();
  })();
  db.close();
}

/** One first sync: wall time, CPU time of this process (server and client: less sensitive to a loaded machine), ops and bytes received. */
interface Sync {
  ms: number;
  cpuMs: number;
  ops: number;
  bytes: number;
}

/** Says hello and takes frames until the stream is at `head`; returns the time and the ops received. */
async function firstSync(url: string, hello: Record<string, unknown>, head: number): Promise<Sync> {
  const ws = new WebSocket(url, ['dataloom.v1']);
  await new Promise((r) => ws.once('open', r));
  let ops = 0;
  let bytes = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const done = new Promise<void>((resolve) => {
    ws.on('message', (d: Buffer) => {
      bytes += d.length;
      const m = JSON.parse(d.toString()) as { t: string; txs?: Array<{ env: { ops: unknown[] } }>; cursor?: string; more?: boolean };
      if (m.t !== 'ops') return;
      for (const x of m.txs!) ops += x.env.ops.length;
      if (!m.more && Number(m.cursor!.slice(m.cursor!.lastIndexOf(':') + 1)) >= head) resolve();
    });
  });
  ws.send(JSON.stringify({ t: 'hello', v: 1, replica: `bench${Math.floor(t0)}`, cursor: null, ...hello }));
  await done;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  ws.close();
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, ops, bytes };
}

const results: MeasuredRow[] = [];
const file = join(tmpdir(), `dataloom-bench-bootstrap-${OPS}-v1.sqlite`);
try {
  if (process.env.BOOTSTRAP_BENCH_REBUILD === '1' || !existsSync(file)) {
    const t = performance.now();
    await buildLog(file);
    process.stdout.write(`[bootstrap bench] built a ${OPS}-op log in ${((performance.now() - t) / 1000).toFixed(1)} s: ${file}\n`);
  }
  const tStart = performance.now();
  const server = await createServer({ store: `sqlite:${file}`, port: 0, schema: SCHEMA, onError: () => {} });
  process.stdout.write(`[bootstrap bench] server started on the ${OPS}-op log in ${((performance.now() - tStart) / 1000).toFixed(1)} s\n`);
  try {
    const head = server.head();
    // the old path: the whole log streamed (a cursor at position 1 of this log, no scope)
    const probe = new WebSocket(server.url, ['dataloom.v1']);
    await new Promise((r) => probe.once('open', r));
    const welcome = await new Promise<{ head: string }>((resolve) => {
      probe.once('message', (d: Buffer) => resolve(JSON.parse(d.toString())));
      probe.send(JSON.stringify({ t: 'hello', v: 1, replica: 'probe', cursor: null }));
    });
    probe.terminate();
    const log = welcome.head.slice(0, welcome.head.lastIndexOf(':'));
    const runs = Number(process.env.BOOTSTRAP_BENCH_RUNS ?? 5);
    const median = async (f: () => Promise<Sync>, k: number) => {
      const xs: Sync[] = [];
      for (let i = 0; i < k; i++) xs.push(await f());
      xs.sort((a, b) => a.ms - b.ms);
      return xs[Math.floor(xs.length / 2)]!;
    };
    const scoped = await median(() => firstSync(server.url, { scopes: [SCOPE] }, head), runs);
    const all = await median(() => firstSync(server.url, {}, head), Math.max(1, Math.ceil(runs / 2)));
    const whole = await firstSync(server.url, { cursor: `${log}:1` }, head);
    const mb = (b: number) => (b / 2 ** 20).toFixed(1);
    process.stdout.write(
      `[bootstrap bench] scope: ${scoped.ops} ops, ${mb(scoped.bytes)} MiB, CPU ${scoped.cpuMs.toFixed(0)} ms; snapshot of all: ${all.ops} ops, ${mb(all.bytes)} MiB, CPU ${all.cpuMs.toFixed(0)} ms; whole log: ${whole.ops} ops, ${mb(whole.bytes)} MiB, CPU ${whole.cpuMs.toFixed(0)} ms (load average ${loadavg()[0]!.toFixed(1)})\n`,
    );
    const row = (name: string, r: { ms: number; ops: number }): MeasuredRow => ({ suite, name, n: r.ops, dataloom_ms: +r.ms.toFixed(2), peer, peer_ms: +whole.ms.toFixed(2), ratio: +(r.ms / whole.ms).toFixed(4) });
    results.push(row(`first-sync-scope-1k-of-${OPS / 1e6}M-ops`, scoped));
    results.push(row(`first-sync-all-snapshot-${OPS / 1e6}M-ops`, all));
  } finally {
    await server.close();
  }
  // the snapshot's own share of the scoped first sync, on a node of its own (one state in memory at a time)
  const node = new SyncNode(createSqliteStore({ file }), { nodeId: 'bench', maxClockDriftMs: 60_000, schema: schemaAsData(SCHEMA) });
  await node.start();
  try {
    const m = node.state.merged;
    const list = m.lookup('list/name', 'list 7');
    const entities = new Set<string>();
    for (const d of m.datoms()) if (d.a === 'item/list' && (d.v as { ref: string }).ref === list) entities.add(d.e);
    const f = new EntryFilter(null, () => m, () => true);
    const xs: number[] = [];
    let ops = 0;
    for (let i = 0; i < 21; i++) {
      const t = performance.now();
      const frames = [...bootstrapFrames({ entities, attrs: new Map() }, f, () => node.state, false, 'L:0', `L:${node.head}`)];
      xs.push(performance.now() - t);
      ops = frames.reduce((n, fr) => n + (fr.match(/"op":/g)?.length ?? 0), 0);
    }
    xs.sort((a, b) => a - b);
    results.push({ suite, name: `snapshot-frames-scope-1k-of-${OPS / 1e6}M-ops`, n: ops, dataloom_ms: +xs[10]!.toFixed(2), peer, peer_ms: null, ratio: null });
  } finally {
    await node.stop();
  }
  // server start (createServer → first hello answered): from the checkpoint the earlier servers
  // wrote and the log after it, against a full replay of the log (checkpoint removed, none written)
  const startToHello = async (checkpointEvery?: number): Promise<number> => {
    const t = performance.now();
    const s = await createServer({ store: `sqlite:${file}`, port: 0, schema: SCHEMA, onError: () => {}, ...(checkpointEvery === undefined ? {} : { checkpointEvery }) });
    const ws = new WebSocket(s.url, ['dataloom.v1']);
    await new Promise((r) => ws.once('open', r));
    await new Promise<void>((resolve) => {
      ws.once('message', () => resolve());
      ws.send(JSON.stringify({ t: 'hello', v: 1, replica: 'start', cursor: null }));
    });
    const ms = performance.now() - t;
    ws.terminate();
    await s.close();
    return ms;
  };
  const fromCheckpoint = await startToHello();
  const raw = new Database(file);
  raw.prepare(`DELETE FROM dataloom_meta WHERE key = 'node:checkpoint'`).run();
  raw.close();
  const fullReplay = await startToHello(0);
  // the log read alone (pages of 5,000 entries, JSON parsed), the floor of a full replay
  const store = createSqliteStore({ file });
  await store.open();
  const tRead = performance.now();
  let entries = 0;
  for (let after = 0; ; ) {
    const page = await store.readSince(after, 5000);
    if (page.length === 0) break;
    entries += page.length;
    after = page[page.length - 1]!.pos;
  }
  const readMs = performance.now() - tRead;
  await store.close();
  await startToHello(); // writes the checkpoint again (at start: none), for the next run
  process.stdout.write(`[bootstrap bench] start to first hello: from a checkpoint ${fromCheckpoint.toFixed(0)} ms, full replay ${fullReplay.toFixed(0)} ms, reading the log alone (${entries} entries) ${readMs.toFixed(0)} ms (load average ${loadavg()[0]!.toFixed(1)})\n`);
  results.push({ suite, name: `server-start-checkpoint-${OPS / 1e6}M-ops`, n: OPS, dataloom_ms: +fromCheckpoint.toFixed(2), peer: 'full-replay', peer_ms: +fullReplay.toFixed(2), ratio: +(fromCheckpoint / fullReplay).toFixed(4) });
  results.push({ suite, name: `server-start-read-log-only-${OPS / 1e6}M-ops`, n: entries, dataloom_ms: +readMs.toFixed(2), peer: 'full-replay', peer_ms: +fullReplay.toFixed(2), ratio: +(readMs / fullReplay).toFixed(4) });
} catch (e) {
  process.stderr.write(`[bootstrap bench] ${(e as Error).stack}\n`);
}
reportMeasuredRows(suite, `first sync from a snapshot (peer = the whole ${OPS / 1e6}M-op log streamed, the old path of a fresh client)`, results);

/** No synchronous harness rows: see the file comment. */
export function rows(): RowSpec[] {
  return [];
}
