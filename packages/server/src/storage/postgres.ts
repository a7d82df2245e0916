/**
 * PostgreSQL store: one shared log for several server processes.
 *
 * ## Total order across processes
 * A sequence alone is not enough: with `nextval()` two writers can take positions 7 and 8 and
 * commit 8 first; a reader that sees 8 advances its cursor past 7 and never sees it. So every
 * append runs in one transaction that first takes `pg_advisory_xact_lock(<namespace key>)`. Under
 * that lock it reads the entries it has not seen, judges the batch, assigns positions
 * `max(pos)+1, …` and commits. The lock is released only after the commit is visible, so
 * positions are assigned and become visible in the same order: whoever sees position N sees all
 * positions below it. The primary key on `pos` backs this up (a bug would fail loudly, not fork
 * the order). Writers are serialized; batching (group commit in the server) keeps throughput up.
 *
 * ## Fan-out
 * The appending transaction runs `pg_notify('<channel>', head)`; PostgreSQL delivers it at commit
 * to every process LISTENing, which then reads the log after its own head. Notifications may be
 * coalesced or (if a listener connection drops) missed, so they are only a wake-up: readers always
 * read by position, and the server also polls `head()` as a safety net.
 */
import pg from 'pg';
import { inTransaction } from './pg-transaction.js';
import { randomBytes } from 'node:crypto';
import type { TxEnvelope } from '@dataloom/core';
import { KEEP_REJECTED_MS, PRUNE_REJECTED_EVERY_MS, envelopeDigest, judgeBatch, type RejectedRow, type StoredTx } from './append-loop.js';
import type { AppendResult, Judge, LogEntry, ServerStore } from './types.js';

export interface PostgresStoreOptions {
  /** `postgres://…` connection string. A `namespace` query parameter selects the schema. */
  url: string;
  /** PostgreSQL schema holding the tables (default `dataloom`, or the URL's `namespace` param). */
  namespace?: string;
  /** Pool size for reads and appends (default 4). */
  poolSize?: number;
}

const NAMESPACE_RE = /^[a-z_][a-z0-9_]{0,40}$/;

export function createPostgresStore(opts: PostgresStoreOptions): ServerStore {
  const u = new URL(opts.url);
  const fromUrl = u.searchParams.get('namespace');
  u.searchParams.delete('namespace');
  const namespace = opts.namespace ?? fromUrl ?? 'dataloom';
  if (!NAMESPACE_RE.test(namespace)) throw new TypeError(`invalid PostgreSQL namespace ${JSON.stringify(namespace)}: use [a-z_][a-z0-9_]*`);
  return new PostgresStore(u.toString(), namespace, opts.poolSize ?? 4);
}

/**
 * The position retention by age keeps from (`positionAt`) in log table `t`: the last entry in
 * commit-time order at or before `$1` (epoch ms), a seek on the `at` index, as on SQLite
 * (`SQLITE_POSITION_AT`). `at` is the appending transaction's start, so the entry found may be
 * below the highest one committed by then — retention keeps more, never less.
 */
export const pgPositionAt = (t: string): string => `SELECT pos FROM ${t} WHERE at <= to_timestamp($1::double precision / 1000) ORDER BY at DESC, pos DESC LIMIT 1`;

class PostgresStore implements ServerStore {
  readonly kind = 'postgres' as const;
  private pool: pg.Pool | null = null;
  private listener: pg.Client | null = null;
  private readonly listeners = new Set<(head: number) => void>();
  private closed = false;
  /** When recorded rejections were last pruned (ms). */
  private pruned = 0;
  private readonly t: string;
  /** Rejected envelopes and their verdicts (invariant 5 of `types.ts`). */
  private readonly rj: string;
  private readonly channel: string;

  constructor(private readonly url: string, private readonly ns: string, private readonly poolSize: number) {
    this.t = `"${ns}".log`;
    this.rj = `"${ns}".rejected`;
    this.channel = `dataloom_${ns}`;
  }

  async open(): Promise<void> {
    if (this.pool) return;
    this.closed = false;
    const pool = new pg.Pool({ connectionString: this.url, max: this.poolSize });
    pool.on('error', () => {
      /* idle client errors (e.g. server restart) are retried on next use */
    });
    await inTransaction(pool, async (c) => {
      // Concurrent first opens by several processes: serialize DDL with an advisory lock.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`dataloom-ddl-${this.ns}`]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS "${this.ns}"`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${this.t} (
        pos bigint PRIMARY KEY,
        tx text NOT NULL UNIQUE,
        replica text NOT NULL,
        env text NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      )`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${this.rj} (
        tx text NOT NULL,
        digest text NOT NULL,
        verdict text NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tx, digest)
      )`);
      // compaction (types.ts invariant 5): the digest of a rewritten entry's original envelope
      await c.query(`ALTER TABLE ${this.t} ADD COLUMN IF NOT EXISTS digest text`);
      // retention by age (positionAt): made on first open of an older log too
      await c.query(`CREATE INDEX IF NOT EXISTS log_at ON ${this.t} (at, pos)`);
      await c.query(`CREATE TABLE IF NOT EXISTS "${this.ns}".meta (key text PRIMARY KEY, value text NOT NULL)`);
      await c.query(`INSERT INTO "${this.ns}".meta(key, value) VALUES ('log_id', $1) ON CONFLICT (key) DO NOTHING`, [randomBytes(8).toString('hex')]);
    });
    this.pool = pool;
    await this.listen();
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (n) => {
      const head = Number(n.payload);
      for (const fn of this.listeners) fn(head);
    });
    client.on('error', () => {
      if (this.listener === client) this.listener = null;
      client.end().catch(() => {});
      // Reconnect; on success wake everyone so they catch up on what they may have missed.
      setTimeout(() => {
        this.listen().then(
          () => this.head().then((h) => this.listeners.forEach((fn) => fn(h))),
          () => {},
        );
      }, 500).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${this.channel}`);
    this.listener = client;
  }

  private get db(): pg.Pool {
    if (!this.pool) throw new Error('postgres store is not open');
    return this.pool;
  }

  async append(envs: readonly TxEnvelope[], knownHead: number, judge: Judge): Promise<AppendResult> {
    // One round trip each where possible: the lock is taken in the BEGIN query (the namespace is
    // validated to [a-z0-9_], so inlining it is safe); synchronous_commit is forced on for this
    // transaction whatever the server default.
    const begin = `BEGIN; SET LOCAL synchronous_commit = on; SELECT pg_advisory_xact_lock(hashtext('dataloom-log-${this.ns}'))`;
    return inTransaction(this.db, async (c) => {
      const caught = rowsToEntries((await c.query(`SELECT pos, env FROM ${this.t} WHERE pos > $1 ORDER BY pos`, [knownHead])).rows);
      const stored = new Map<string, StoredTx>();
      // the batch's tx ids already stored (kind 0) and the rejections recorded for them (kind 1), in one round trip
      const rejected = new Map<string, RejectedRow[]>();
      const prior = await c.query(
        `SELECT 0 AS kind, tx, pos, env, digest FROM ${this.t} WHERE tx = ANY($1::text[])
         UNION ALL SELECT 1, tx, NULL, verdict, digest FROM ${this.rj} WHERE tx = ANY($1::text[])`,
        [envs.map((e) => e.tx)],
      );
      for (const r of prior.rows) {
        const tx = r.tx as string;
        if (r.kind === 0) stored.set(tx, { pos: Number(r.pos), env: r.env as string, digest: r.digest as string | null });
        else rejected.set(tx, [...(rejected.get(tx) ?? []), { tx, digest: r.digest as string, verdict: r.env as string }]);
      }
      const { rows, rejections, result } = judgeBatch(envs, knownHead, caught, (tx) => stored.get(tx), judge, (tx) => rejected.get(tx));
      if (rejections.length > 0) {
        await c.query(`INSERT INTO ${this.rj}(tx, digest, verdict) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`, [
          rejections.map((r) => r.tx),
          rejections.map((r) => r.digest),
          rejections.map((r) => r.verdict),
        ]);
        if (Date.now() - this.pruned > PRUNE_REJECTED_EVERY_MS) {
          await c.query(`DELETE FROM ${this.rj} WHERE at < now() - make_interval(secs => $1)`, [KEEP_REJECTED_MS / 1000]);
          this.pruned = Date.now();
        }
      }
      if (rows.length > 0) {
        await c.query(
          `WITH ins AS (INSERT INTO ${this.t}(pos, tx, replica, env) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) RETURNING 1)
           SELECT pg_notify($5, $6) FROM (SELECT count(*) FROM ins) AS n`,
          [rows.map((r) => r.pos), rows.map((r) => r.tx), rows.map((r) => r.replica), rows.map((r) => r.json), this.channel, String(result.head)],
        );
      }
      return result;
    }, begin);
  }

  async readSince(after: number, limit: number): Promise<LogEntry[]> {
    const r = await this.db.query(`SELECT pos, env FROM ${this.t} WHERE pos > $1 ORDER BY pos LIMIT $2`, [after, limit]);
    return rowsToEntries(r.rows);
  }

  async head(): Promise<number> {
    const r = await this.db.query(`SELECT coalesce(max(pos), 0) AS head FROM ${this.t}`);
    return Number(r.rows[0].head);
  }

  async horizon(): Promise<number> {
    return Number((await this.getMeta('horizon')) ?? 0);
  }

  async compact(horizon: number, entries: readonly LogEntry[]): Promise<void> {
    await inTransaction(this.db, async (c) => {
      if (entries.length > 0) {
        // the first rewrite keeps the digest of the original
        const originals = (await c.query(`SELECT pos, env, digest FROM ${this.t} WHERE pos = ANY($1::bigint[]) FOR UPDATE`, [entries.map((e) => e.pos)])).rows;
        const digests = new Map(originals.map((r) => [Number(r.pos), (r.digest as string | null) ?? envelopeDigest(r.env as string)]));
        const kept = entries.filter((e) => digests.has(e.pos));
        await c.query(
          `UPDATE ${this.t} AS l SET digest = u.digest, env = u.env FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(pos, env, digest) WHERE l.pos = u.pos AND l.pos <= $4`,
          [kept.map((e) => e.pos), kept.map((e) => JSON.stringify(e.env)), kept.map((e) => digests.get(e.pos)!), horizon],
        );
      }
      await c.query(
        `INSERT INTO "${this.ns}".meta AS m (key, value) VALUES ('horizon', $1) ON CONFLICT (key) DO UPDATE SET value = greatest(m.value::bigint, excluded.value::bigint)::text`,
        [String(horizon)],
      );
    });
  }

  async positionAt(ms: number): Promise<number> {
    const r = await this.db.query(pgPositionAt(this.t), [ms]);
    return r.rows.length > 0 ? Number(r.rows[0].pos) : 0;
  }

  async logId(): Promise<string> {
    return (await this.db.query(`SELECT value FROM "${this.ns}".meta WHERE key = 'log_id'`)).rows[0].value as string;
  }

  async getMeta(key: string): Promise<string | null> {
    const r = await this.db.query(`SELECT value FROM "${this.ns}".meta WHERE key = $1`, [key]);
    return r.rows.length > 0 ? (r.rows[0].value as string) : null;
  }

  async setMeta(key: string, value: string): Promise<void> {
    if (key === 'format' || key === 'log_id' || key === 'horizon') throw new Error(`meta key ${key} belongs to the store`);
    await this.db.query(`INSERT INTO "${this.ns}".meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [key, value]);
  }

  onAppend(fn: (head: number) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    const l = this.listener;
    this.listener = null;
    await l?.end().catch(() => {});
    const p = this.pool;
    this.pool = null;
    await p?.end();
  }

  async destroy(): Promise<void> {
    const pool = new pg.Pool({ connectionString: this.url, max: 1 });
    try {
      await pool.query(`DROP SCHEMA IF EXISTS "${this.ns}" CASCADE`);
    } finally {
      await pool.end();
    }
    await this.close();
  }
}

function rowsToEntries(rows: Array<{ pos: string | number; env: string }>): LogEntry[] {
  return rows.map((r) => ({ pos: Number(r.pos), env: JSON.parse(r.env) as TxEnvelope }));
}
