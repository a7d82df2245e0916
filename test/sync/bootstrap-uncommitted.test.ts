/**
 * A bootstrap never sends what is not committed. The judge applies a batch to the server's state
 * before the store commits it; on PostgreSQL the commit is round trips away, and a connection's
 * bootstrap (bootstrap.ts) read the state in between — a fresh client received a transaction whose
 * commit then failed (or whose server was killed before COMMIT), and held ops no log has.
 *
 * Deterministic: the log table is locked from another connection (EXCLUSIVE: reads pass, the
 * append's INSERT waits), a fresh client connects while the judged batch waits, then the append's
 * backend is terminated, so the batch is never committed. Real server, real PostgreSQL, real WebSocket.
 * The terminated backend also made the pooled client emit `error` with no listener — an uncaught
 * exception that took the server down (`pg-transaction.ts`); the server goes on accepting writes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { cursorPos } from '@dataloom/protocol';
import { createServer } from '../../packages/server/src/index.js';
import { openStore } from '../../packages/server/src/storage/open.js';
import { PG_URL, TEST_SCHEMA, makeClient, pgNamespace, until } from './support/harness.js';
import { materialize } from './support/memory-replica.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('bootstrap and uncommitted batches (PostgreSQL)', () => {
  it('a fresh client connecting while a judged batch waits for its commit never receives it when the commit fails', async () => {
    const namespace = pgNamespace();
    const store = `${PG_URL}?namespace=${namespace}`;
    cleanups.push(async () => openStore(store).destroy());
    const server = await createServer({ store, port: 0, schema: TEST_SCHEMA, onError: () => {} });
    cleanups.push(() => server.close());
    const a = makeClient(server.url, 'uncommitted_a');
    cleanups.push(() => a.sync.close());
    await a.sync.whenSynced();

    const locker = new pg.Client({ connectionString: PG_URL });
    await locker.connect();
    cleanups.push(() => locker.end());
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE "${namespace}".log IN EXCLUSIVE MODE`);

    const e = a.replica.newEntity();
    const { tx } = await a.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/title', v: 'never committed' }] });
    // the append judged the batch (into the state) and waits on the lock with its INSERT
    const me = (await locker.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    let blocked = 0;
    await until(async () => {
      const r = await locker.query('SELECT pid, left(query, 60) AS q FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [me]);
      blocked = r.rows[0]?.pid ?? 0;
      return blocked > 0;
    }, 'the append waits on the lock');
    // A goes away: nobody re-pushes the transaction
    a.sync.close();

    const b = makeClient(server.url, 'uncommitted_b');
    cleanups.push(() => b.sync.close());
    await until(() => b.sync.status().online, 'B is welcomed');

    await locker.query('SELECT pg_terminate_backend($1)', [blocked]);
    await locker.query('ROLLBACK');
    await b.sync.whenSynced();
    await until(() => cursorPos(b.replica.cursor()) >= server.head(), 'B at the head');

    const log = await openStore(store);
    await log.open();
    const entries = await log.readSince(0, 1e9);
    await log.close();
    expect(entries.some((x) => x.env.tx === tx)).toBe(false);
    expect([...b.replica.ops.values()].filter((op) => op.tx === tx)).toEqual([]);
    expect(b.replica.snapshot()).toBe(materialize(entries.flatMap((x) => x.env.ops)));
    // the storage failure failed one append, not the server
    const after = await b.replica.localTransact({ ops: [{ op: 'add', e: b.replica.newEntity(), a: 'item/title', v: 'committed' }] });
    await until(() => b.replica.acked.has(after.tx), 'the next write is acknowledged');
  });
});
