/**
 * The trigger-fed change table of a PostgreSQL source (works on any PostgreSQL ≥ 14, no logical
 * replication needed). In schema `dataloom_src`, per source `<name>`:
 *
 * - table `changes_<name>(seq, xid, at_ms, tbl, op, old_pk, old_row, new_row)`: one row per row change,
 *   written by an `AFTER INSERT OR UPDATE OR DELETE … FOR EACH ROW` trigger on every mapped table,
 *   in the writing transaction (so it commits or aborts with it); `xid` is the writer's
 *   transaction id, `at_ms` its `clock_timestamp()`, `old_pk` the key before an update or delete,
 *   `old_row` the row before an update (so only the columns that changed are written),
 *   `new_row` the row after an insert or update (`to_jsonb`).
 * - `pg_notify('dataloom_src_<name>')` wakes the follower at once (it also polls).
 *
 * Reading without gaps: changes are read in `(xid, seq)` order, and only those of transactions
 * older than the oldest one still running (`xid < pg_snapshot_xmin(pg_current_snapshot())`). Every
 * change that becomes visible later belongs to a transaction at or above that horizon, so it sorts
 * after everything already read: a cursor `(xid, seq)` never skips a change that commits late.
 */
import type pg from 'pg';
import { inTransaction } from '../../storage/pg-transaction.js';
import { quoteIdent, type MappedTable } from './mapping.js';

/** Marks the installed trigger function's version (a different one is replaced at start). */
const CAPTURE_VERSION = 'dataloom capture 2';
/** Longest wait for a lock while installing the capture. */
const LOCK_TIMEOUT = '3s';

export interface ChangeRow {
  seq: string;
  xid: string;
  at_ms: string;
  tbl: string;
  op: 'I' | 'U' | 'D';
  old_pk: unknown;
  old_row: Record<string, unknown> | null;
  new_row: Record<string, unknown> | null;
}

export interface ChangeCursor {
  xid: string;
  seq: string;
}

export class ChangeTable {
  readonly table: string;
  readonly channel: string;
  private readonly fn: string;
  private readonly trigger: string;

  constructor(readonly name: string) {
    this.table = `dataloom_src.${quoteIdent('changes_' + name)}`;
    this.fn = `dataloom_src.${quoteIdent('capture_' + name)}`;
    this.trigger = quoteIdent('dataloom_src_' + name);
    this.channel = 'dataloom_src_' + name;
  }

  /**
   * Creates the table, the trigger function and a trigger on every mapped table — only what is
   * missing: a restart finds everything in place and takes no lock (DDL would queue the app's
   * writes behind its open transactions). The DDL waits at most `LOCK_TIMEOUT` for a lock, then
   * fails (the source retries later) rather than stall the app's writes.
   */
  async install(db: pg.Pool, tables: readonly MappedTable[]): Promise<void> {
    const lit = (s: string) => "'" + s.replace(/'/g, "''") + "'";
    const args = (t: MappedTable) => `${lit(t.key)}, ${lit(t.pk)}`;
    const fnOk = await db.query(`SELECT obj_description(to_regprocedure($1), 'pg_proc') = $2 AS ok`, [`${this.fn}()`, CAPTURE_VERSION]).catch(() => ({ rows: [{ ok: false }] }));
    const tableOk = (await db.query(`SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'old_row' AND NOT attisdropped`, [this.table])).rows[0].n === 1;
    const missing: MappedTable[] = [];
    for (const t of tables) {
      const r = await db.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = $1 AND tgname = $2 AND NOT tgisinternal`, [t.oid, 'dataloom_src_' + this.name]);
      if (r.rows[0].n !== 1) missing.push(t);
    }
    if (fnOk.rows[0]?.ok === true && tableOk && missing.length === 0) return;
    await inTransaction(db, async (c) => {
      await c.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      // One installer at a time (several server processes may start the same source).
      await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [this.table]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS dataloom_src`);
      if (!tableOk) {
        await c.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
          seq bigserial PRIMARY KEY,
          xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
          at_ms bigint NOT NULL DEFAULT (extract(epoch from clock_timestamp()) * 1000)::bigint,
          tbl text NOT NULL,
          op char(1) NOT NULL,
          old_pk jsonb,
          new_row jsonb)`);
        await c.query(`ALTER TABLE ${this.table} ADD COLUMN IF NOT EXISTS old_row jsonb`);
        await c.query(`CREATE INDEX IF NOT EXISTS ${quoteIdent('changes_' + this.name + '_xid')} ON ${this.table} (xid, seq)`);
      }
      if (fnOk.rows[0]?.ok !== true) {
        await c.query(`CREATE OR REPLACE FUNCTION ${this.fn}() RETURNS trigger LANGUAGE plpgsql AS $f$
          BEGIN
            IF TG_OP = 'DELETE' THEN
              INSERT INTO ${this.table}(tbl, op, old_pk) VALUES (TG_ARGV[0], 'D', to_jsonb(OLD) -> TG_ARGV[1]);
            ELSIF TG_OP = 'UPDATE' THEN
              INSERT INTO ${this.table}(tbl, op, old_pk, old_row, new_row) VALUES (TG_ARGV[0], 'U', to_jsonb(OLD) -> TG_ARGV[1], to_jsonb(OLD), to_jsonb(NEW));
            ELSE
              INSERT INTO ${this.table}(tbl, op, new_row) VALUES (TG_ARGV[0], 'I', to_jsonb(NEW));
            END IF;
            PERFORM pg_notify('${this.channel}', '');
            RETURN NULL;
          END $f$`);
        await c.query(`COMMENT ON FUNCTION ${this.fn}() IS ${lit(CAPTURE_VERSION)}`);
      }
      for (const t of missing) {
        await c.query(`CREATE OR REPLACE TRIGGER ${this.trigger} AFTER INSERT OR UPDATE OR DELETE ON ${t.sql} FOR EACH ROW EXECUTE FUNCTION ${this.fn}(${args(t)})`);
      }
    });
  }

  /**
   * Changes after `after` (every change when null) of finished transactions, in `(xid, seq)` order,
   * leaving out those of transactions visible in `snapshot` (already in the initial snapshot).
   */
  async read(db: pg.Pool, after: ChangeCursor | null, snapshot: string, limit: number): Promise<ChangeRow[]> {
    const r = await db.query(
      // Ordered by the columns themselves (c.xid, c.seq): the output names are their text forms.
      `SELECT c.seq::text AS seq, c.xid::text AS xid, c.at_ms::text AS at_ms, c.tbl, c.op, c.old_pk, c.old_row, c.new_row FROM ${this.table} c
        WHERE c.xid < pg_snapshot_xmin(pg_current_snapshot())
          AND ($1::xid8 IS NULL OR (c.xid, c.seq) > ($1::xid8, $2::bigint))
          AND NOT pg_visible_in_snapshot(c.xid, $3::pg_snapshot)
        ORDER BY c.xid, c.seq LIMIT $4`,
      [after?.xid ?? null, after?.seq ?? null, snapshot, limit],
    );
    return r.rows as ChangeRow[];
  }

  /** Changes not yet read (for lag reporting). */
  async pending(db: pg.Pool, after: ChangeCursor | null): Promise<number> {
    const r = await db.query(`SELECT count(*)::int AS n FROM ${this.table} WHERE $1::xid8 IS NULL OR (xid, seq) > ($1::xid8, $2::bigint)`, [after?.xid ?? null, after?.seq ?? null]);
    return r.rows[0].n as number;
  }

  /** Drops changes up to `upTo` (already in the log). */
  async prune(db: pg.Pool, upTo: ChangeCursor): Promise<void> {
    await db.query(`DELETE FROM ${this.table} WHERE (xid, seq) <= ($1::xid8, $2::bigint)`, [upTo.xid, upTo.seq]);
  }
}
