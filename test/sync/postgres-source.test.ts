/**
 * The PostgreSQL source against the real PostgreSQL: mapped tables land as datoms (primary key →
 * identity, foreign key → ref, column types → value types); inserts, updates and deletes reach a
 * connected client's watched query as the right diffs; a restart resumes from the stored cursor
 * with nothing lost or doubled (changes made while the server was down included); 100k rows land.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import pg from 'pg';
import WebSocket from 'ws';
import { createClient, type Client } from '../../packages/client/src/index.js';
import type { SocketCtor } from '../../packages/client/src/sync/socket.js';
import { createServer, createSqliteStore, type DataloomServer, type SourceConfig } from '../../packages/server/src/index.js';
import { createPostgresStore } from '../../packages/server/src/storage/postgres.js';
import { PG_URL, pgNamespace, tempDir, within } from './support/harness.js';
import { until as waitUntil } from './support/wait.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

let n = 0;
/** A fresh PostgreSQL schema and source name; dropped (with the source's change capture) afterwards. */
async function fixture(): Promise<{ db: pg.Pool; schema: string; name: string }> {
  const id = `${process.pid}_${Date.now().toString(36)}_${n++}`;
  const schema = `dl_src_${id}`;
  const name = `t${id}`;
  const db = new pg.Pool({ connectionString: PG_URL, max: 2 });
  await db.query(`CREATE SCHEMA ${schema}`);
  cleanups.push(async () => {
    await db.query(`DROP SCHEMA ${schema} CASCADE`);
    await db.query(`DROP TABLE IF EXISTS dataloom_src."changes_${name}"; DROP FUNCTION IF EXISTS dataloom_src."capture_${name}"()`);
    await db.end();
  });
  return { db, schema, name };
}

function client(url: string): Client {
  const c = createClient({ name: `src-${process.pid}-${n++}`, schema: {}, storage: 'memory', tabs: false, url, WebSocket: WebSocket as unknown as SocketCtor });
  cleanups.push(() => c.close());
  return c;
}

const until = (cond: () => boolean | Promise<boolean>, what: string, ms = 15_000) => waitUntil(cond, what, ms);

async function caughtUp(server: DataloomServer, ms = 30_000): Promise<void> {
  await until(() => server.sources().every((s) => s.state === 'following' && s.caughtUp), `sources caught up: ${JSON.stringify(server.sources())}`, ms);
}

describe('PostgreSQL source', () => {
  it('snapshot, then inserts/updates/deletes reach a watched query; a restart resumes without loss or duplicates', { timeout: 60_000 }, async () => {
    const { db, schema, name } = await fixture();
    await db.query(`CREATE TABLE ${schema}.customers (id serial PRIMARY KEY, name text NOT NULL, vip boolean, joined timestamptz);
      CREATE TABLE ${schema}.orders (id bigint PRIMARY KEY, customer_id int REFERENCES ${schema}.customers(id), total numeric, note text);
      INSERT INTO ${schema}.customers(name, vip, joined) VALUES ('Ann', true, '2024-01-02T03:04:05Z'), ('Bob', false, NULL);
      INSERT INTO ${schema}.orders VALUES (10, 1, 25.5, 'first'), (11, 2, 7, NULL);`);
    const t = tempDir();
    cleanups.push(t.cleanup);
    const sources: SourceConfig[] = [{ name, postgres: PG_URL, pollMs: 50, tables: { [`${schema}.customers`]: true, [`${schema}.orders`]: { ns: 'order', columns: { customer_id: 'order/customer', total: true } } } }];
    const start = () => createServer({ store: `sqlite:${join(t.dir, 'src.sqlite')}`, port: 0, sources, onError: () => {} });
    let server = await start();
    await caughtUp(server);

    const c = client(server.url);
    await within(c.whenSynced(), 10_000, 'client synced');
    const Q = '[:find ?name ?total :where [?o :order/total ?total] [?o :order/customer ?c] [?c :customers/name ?name]]';
    const view = c.watch(Q);
    await view.ready;
    await until(() => (view.result() as Set<unknown>).size === 2, 'snapshot at the client');
    expect(view.result()).toEqual(new Set([['Ann', 25.5], ['Bob', 7]]));
    expect(await c.q('[:find ?v . :where [?c :customers/name "Ann"] [?c :customers/vip ?v]]')).toBe(true);
    expect(await c.q('[:find ?d . :where [?c :customers/name "Ann"] [?c :customers/joined ?d]]')).toEqual(new Date('2024-01-02T03:04:05Z'));
    expect(await c.q('[:find ?id . :where [?o :order/id 10] [?o :order/customer ?c] [?c :customers/id ?id]]')).toBe(1);
    expect(await c.q('[:find (count ?o) . :where [?o :order/note _]]')).toBeNull(); // note is not mapped

    const diffs: Array<[unknown, number]> = [];
    view.subscribe((d) => diffs.push(...d.map((x) => [(x as unknown[])[0], (x as unknown[])[2] as number] as [unknown, number])));
    const seen = (expected: Array<[unknown, number]>) => until(() => diffs.length >= expected.length, `diffs ${JSON.stringify(expected)}; got ${JSON.stringify(diffs)}`);
    const sorted = (d: Array<[unknown, number]>) => d.map((x) => JSON.stringify(x)).sort();

    await db.query(`INSERT INTO ${schema}.customers(name) VALUES ('Cy'); INSERT INTO ${schema}.orders VALUES (12, 3, 99, 'x')`);
    await seen([[['Cy', 99], 1]]);
    expect(diffs).toEqual([[['Cy', 99], 1]]);
    diffs.length = 0;
    await db.query(`UPDATE ${schema}.orders SET total = 30 WHERE id = 10`);
    await seen([[['Ann', 25.5], -1], [['Ann', 30], 1]]);
    expect(sorted(diffs)).toEqual(sorted([[['Ann', 25.5], -1], [['Ann', 30], 1]]));
    diffs.length = 0;
    await db.query(`DELETE FROM ${schema}.orders WHERE id = 11`);
    await seen([[['Bob', 7], -1]]);
    expect(diffs).toEqual([[['Bob', 7], -1]]);
    diffs.length = 0;
    // several changes of one row in one PostgreSQL transaction: one net change
    await db.query(`BEGIN; UPDATE ${schema}.orders SET total = 1 WHERE id = 12; UPDATE ${schema}.orders SET total = 2 WHERE id = 12; COMMIT`);
    await seen([[['Cy', 99], -1], [['Cy', 2], 1]]);
    expect(sorted(diffs)).toEqual(sorted([[['Cy', 99], -1], [['Cy', 2], 1]]));
    await caughtUp(server);
    const status = server.sources()[0]!;
    expect(status).toMatchObject({ name, kind: 'postgres', state: 'following', error: null });
    expect(status.lagMs).toBeGreaterThanOrEqual(0);

    // restart, with changes made while the server is down
    await server.close();
    await db.query(`UPDATE ${schema}.customers SET name = 'Ann B.' WHERE id = 1; INSERT INTO ${schema}.orders VALUES (13, 2, 5, NULL)`);
    server = await start();
    await caughtUp(server);
    const c2 = client(server.url);
    await within(c2.whenSynced(), 10_000, 'second client synced');
    expect(new Set(await c2.q(Q) as Iterable<unknown>)).toEqual(new Set([['Ann B.', 30], ['Bob', 5], ['Cy', 2]]));
    await server.close();

    // every source transaction is in the log once: the snapshot pieces plus one per change transaction
    const store = createSqliteStore({ file: join(t.dir, 'src.sqlite') });
    await store.open();
    const entries = await store.readSince(0, 100_000);
    await store.close();
    const fromSource = entries.filter((e) => e.env.replica === `src_${name}`);
    expect(new Set(fromSource.map((e) => e.env.tx)).size).toBe(fromSource.length);
    // 2 snapshot pieces (one per table) + 4 PostgreSQL transactions before the restart + 1 after
    // (a multi-statement query is one transaction)
    expect(fromSource.length).toBe(2 + 4 + 1);
    // an update writes only the columns it changed
    const update = fromSource.find((e) => e.env.ops.some((op) => op.a === 'order/total' && op.v === 30))!;
    expect(update.env.ops.map((op) => [op.op, op.a, op.v])).toEqual([['add', 'order/total', 30]]);
  });

  it('a transaction larger than one read lands whole, and many small ones in order (regression: reads ordered by the text of seq skipped changes)', { timeout: 60_000 }, async () => {
    const { db, schema, name } = await fixture();
    await db.query(`CREATE TABLE ${schema}.item (id int PRIMARY KEY, score bigint); INSERT INTO ${schema}.item SELECT i, 0 FROM generate_series(1, 1000) i`);
    const t = tempDir();
    cleanups.push(t.cleanup);
    // 50 rows a transaction: a read takes 200 changes, so one UPDATE of 1000 rows spans five reads
    const server = await createServer({ store: `sqlite:${join(t.dir, 'whole.sqlite')}`, port: 0, sources: [{ name, postgres: PG_URL, pollMs: 50, rowsPerTx: 50, tables: { [`${schema}.item`]: true } }], onError: () => {} });
    cleanups.push(() => server.close());
    await caughtUp(server);
    await db.query(`UPDATE ${schema}.item SET score = 1`);
    for (let i = 1; i <= 12; i++) await db.query(`UPDATE ${schema}.item SET score = score + 1 WHERE id = $1`, [i]);
    await until(() => server.sources()[0]!.rows >= 1000 + 1000 + 12, `all changes read: ${JSON.stringify(server.sources())}`);
    await caughtUp(server);
    expect(server.sources()[0]!.rows).toBe(2012);
    await server.close();
    // the final value of every row, by the merge rule (greatest stamp wins)
    const store = createSqliteStore({ file: join(t.dir, 'whole.sqlite') });
    await store.open();
    const last = new Map<string, { tx: string; v: unknown }>();
    for (const e of await store.readSince(0, 100_000)) {
      for (const op of e.env.ops) if (op.a === 'item/score' && (last.get(op.e)?.tx ?? '') < op.tx) last.set(op.e, { tx: op.tx, v: op.v });
    }
    await store.close();
    const scores = [...last.values()].map((x) => x.v as number);
    expect(scores).toHaveLength(1000);
    expect(scores.filter((v) => v === 2)).toHaveLength(12);
    expect(scores.filter((v) => v === 1)).toHaveLength(988);
  });

  it('two server processes on one PostgreSQL log: one follows the source, the other stands by and takes over', { timeout: 60_000 }, async () => {
    const { db, schema, name } = await fixture();
    await db.query(`CREATE TABLE ${schema}.item (id int PRIMARY KEY, label text); INSERT INTO ${schema}.item VALUES (1, 'one')`);
    const namespace = pgNamespace();
    cleanups.push(() => createPostgresStore({ url: PG_URL, namespace }).destroy());
    const sources: SourceConfig[] = [{ name, postgres: PG_URL, pollMs: 50, tables: { [`${schema}.item`]: true } }];
    const store = `${PG_URL}?namespace=${namespace}`;
    const a = await createServer({ store, port: 0, sources, onError: () => {} });
    cleanups.push(() => a.close());
    await caughtUp(a);
    const b = await createServer({ store, port: 0, sources, onError: () => {} });
    cleanups.push(() => b.close());
    await until(() => b.sources()[0]!.state === 'standby', 'b stands by');
    await db.query(`INSERT INTO ${schema}.item VALUES (2, 'two')`);
    await until(() => b.head() === a.head() && a.sources()[0]!.rows === 2, 'a follows, b sees it through the log');
    await a.close();
    await db.query(`INSERT INTO ${schema}.item VALUES (3, 'three')`);
    await until(() => b.sources()[0]!.state === 'following' && b.sources()[0]!.rows >= 1, `b took over: ${JSON.stringify(b.sources())}`);
    const c = client(b.url);
    await within(c.whenSynced(), 10_000, 'synced');
    await until(async () => ((await c.q('[:find (count ?e) . :where [?e :item/label _]]')) as number) === 3, 'three rows at the client');
    // nothing written twice: one snapshot piece and one transaction per insert
    const log = createPostgresStore({ url: PG_URL, namespace });
    await log.open();
    const fromSource = (await log.readSince(0, 1000)).filter((e) => e.env.replica === `src_${name}`);
    await log.close();
    expect(fromSource).toHaveLength(3);
  });

  it('a source whose table does not exist yet reports the error, then starts once it does', { timeout: 60_000 }, async () => {
    const { db, schema, name } = await fixture();
    const t = tempDir();
    cleanups.push(t.cleanup);
    const errors: unknown[] = [];
    const server = await createServer({ store: `sqlite:${join(t.dir, 'late.sqlite')}`, port: 0, sources: [{ name, postgres: PG_URL, pollMs: 50, tables: { [`${schema}.late`]: true } }], onError: (e) => errors.push(e) });
    cleanups.push(() => server.close());
    await until(() => server.sources()[0]!.state === 'error', 'error reported');
    expect(server.sources()[0]!.error).toMatchObject({ code: 'source/config', message: expect.stringContaining(`no table ${schema}.late`) });
    expect(errors.length).toBeGreaterThan(0);
    await db.query(`CREATE TABLE ${schema}.late (id int PRIMARY KEY, label text); INSERT INTO ${schema}.late VALUES (1, 'here')`);
    await caughtUp(server);
    expect(server.sources()[0]).toMatchObject({ rows: 1, error: null });
  });

  it('a 100k-row table lands as datoms', { timeout: 120_000 }, async () => {
    const { db, schema, name } = await fixture();
    await db.query(`CREATE TABLE ${schema}.big (id int PRIMARY KEY, label text, score double precision);
      INSERT INTO ${schema}.big SELECT i, 'row ' || i, i * 0.5 FROM generate_series(1, 100000) i`);
    const t = tempDir();
    cleanups.push(t.cleanup);
    const started = Date.now();
    const server = await createServer({ store: `sqlite:${join(t.dir, 'big.sqlite')}`, port: 0, sources: [{ name, postgres: PG_URL, tables: { [`${schema}.big`]: true } }], onError: () => {} });
    cleanups.push(() => server.close());
    await caughtUp(server, 100_000);
    const ms = Date.now() - started;
    expect(server.sources()[0]!.rows).toBe(100_000);
    await server.close();
    const store = createSqliteStore({ file: join(t.dir, 'big.sqlite') });
    await store.open();
    const ids = new Set<number>();
    let after = 0;
    for (;;) {
      const entries = await store.readSince(after, 5000);
      if (entries.length === 0) break;
      for (const e of entries) for (const op of e.env.ops) if (op.a === 'big/id') ids.add(op.v as number);
      after = entries[entries.length - 1]!.pos;
    }
    await store.close();
    expect(ids.size).toBe(100_000);
    console.log(`100k rows landed in ${ms} ms (${Math.round(100_000 / (ms / 1000))} rows/s)`);
  });
});
