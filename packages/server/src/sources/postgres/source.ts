/**
 * A PostgreSQL source: chosen tables of an existing database appear as datoms and stay current.
 *
 * Start: read the catalog (`mapping.ts`), install the change capture (`capture.ts`), write the
 * attributes the mapping needs where the log does not define them yet, then
 * 1. **snapshot** every mapped table in primary-key order, `rowsPerTx` rows a transaction, then
 * 2. **follow** the change table.
 *
 * **Exactly once without a two-phase commit.** Every transaction the source writes has a stamp
 * that depends only on what it carries: snapshot piece *k* is `(S, k)` where `S` is the
 * PostgreSQL clock when the source first started on this log; a piece of changes is
 * `(max(change times, S + 1), last seq mod 36⁴)` of replica `src_<name>`. The cursor (in the
 * store's meta table, `source:<name>`, with the log id) is saved after each piece is durable; after a
 * crash between the two, the piece is made again with the same stamp and the log reports it as
 * already present. So a restart resumes with nothing lost and nothing doubled.
 *
 * **Last writer wins, in PostgreSQL's order.** A row changed by transaction T and later by U: U's
 * change happens after T commits (row lock), so its time — and its stamp — is greater. Changes of
 * transactions already visible in the initial snapshot are skipped; any other change is stamped
 * after `S`, so it wins over the snapshot's (possibly older) copy of the row.
 *
 * One process follows a source at a time (`pg_try_advisory_lock`); others stand by.
 *
 * Not followed: `TRUNCATE` (the rows it removes stay in the log until updated or deleted), and
 * changes to a mapped table's columns or keys (restart the server to map them again). A long
 * transaction anywhere in the cluster holds the change horizon back, and with it the source.
 */
import { DataloomError, formatHlc, type GlobalId, type Op, type TxEnvelope } from '@dataloom/core';
import { MAX_COUNTER, schemaAsData } from '@dataloom/core/internals';
import { checkEnvelope, type EnvelopeLimits } from '@dataloom/protocol';
import pg from 'pg';
import type { SyncNode } from '../../node/sync-node.js';
import { schemaBootstrapOps } from '../../state/bootstrap.js';
import { ChangeTable, type ChangeCursor, type ChangeRow } from './capture.js';
import type { RunningSource, SourceStatus } from '../status.js';
import { mapTables, quoteIdent, rowEntity, rowOps, schemaOf, type MappedTable, type PostgresTableMapping, type RowChange } from './mapping.js';

export interface PostgresSourceConfig {
  /** Source name (`[0-9A-Za-z_]`, default `postgres`): replica `src_<name>`, cursor `source:<name>`. */
  name?: string;
  /** Connection URL of the database to follow. */
  postgres: string;
  /** Table (or `schema.table`) → mapping (`true`: every column, default names). */
  tables: Readonly<Record<string, PostgresTableMapping | true>>;
  /** Poll the change table this often (ms, default 500); a NOTIFY wakes the follower sooner. */
  pollMs?: number;
  /**
   * The user the source writes as (as `authenticate` would return it): its transactions are then
   * judged by the write rules like that user's. Default: trusted (no rules apply).
   */
  as?: unknown;
  /** Rows per snapshot transaction and changes per change transaction (default: as many as the op limit allows, at most 500). */
  rowsPerTx?: number;
}


interface Cursor {
  logId: string;
  /** Source clock (ms) and `pg_current_snapshot()` when the snapshot began. */
  snapMs: number;
  snapshot: string;
  /** Next table to snapshot (== tables.length when done), the last key read in it, the next piece number. */
  table: number;
  after: unknown;
  piece: number;
  changes: ChangeCursor | null;
}

const SPAN = MAX_COUNTER + 1;
const WINDOW_PIECES = 4;

export class PostgresSource implements RunningSource {
  readonly name: string;
  readonly replica: string;
  private readonly status: SourceStatus;
  private pool: pg.Pool | null = null;
  private listener: pg.Client | null = null;
  private tables: MappedTable[] = [];
  private byKey = new Map<string, MappedTable>();
  private capture: ChangeTable;
  private cursor: Cursor | null = null;
  private perTx = 500;
  private stopped = false;
  /** `setup` completed: tables mapped, capture installed, attributes written. */
  private ready = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly node: SyncNode,
    private readonly cfg: PostgresSourceConfig,
    private readonly limits: EnvelopeLimits,
    private readonly onError: (e: unknown) => void,
  ) {
    this.name = cfg.name ?? 'postgres';
    if (!/^[0-9A-Za-z_]{1,50}$/.test(this.name)) throw new DataloomError('source/config', `source name ${JSON.stringify(this.name)}: use 1-50 of [0-9A-Za-z_]`, { source: this.name });
    if (typeof cfg.postgres !== 'string' || !/^postgres(ql)?:\/\//.test(cfg.postgres)) throw new DataloomError('source/config', `source ${this.name}: postgres must be a postgres:// URL`, { source: this.name });
    if (!cfg.tables || Object.keys(cfg.tables).length === 0) throw new DataloomError('source/config', `source ${this.name}: no tables`, { source: this.name });
    this.replica = 'src_' + this.name;
    this.capture = new ChangeTable(this.name);
    this.status = { name: this.name, kind: 'postgres', state: 'starting', transactions: 0, rows: 0, lagMs: null, caughtUp: false, error: null, errors: 0 };
  }

  snapshotStatus(): SourceStatus {
    return { ...this.status, error: this.status.error && { ...this.status.error } };
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Resolves once the source has caught up (snapshot done, change table drained) or rejects on stop. */
  async caughtUp(timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(this.status.caughtUp && this.status.state === 'following')) {
      if (this.stopped) throw new DataloomError('source/stopped', `source ${this.name} stopped`, {});
      if (Date.now() > end) throw new DataloomError('source/timeout', `source ${this.name} did not catch up in ${timeoutMs} ms (${this.status.error?.message ?? this.status.state})`, {});
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop?.catch(() => {});
    this.status.state = 'stopped';
    await this.listener?.end().catch(() => {});
    await this.pool?.end().catch(() => {});
  }

  private async run(): Promise<void> {
    let backoff = 250;
    while (!this.stopped) {
      try {
        if (!this.ready) await this.setup();
        if (!this.listener) {
          await this.acquire();
          if (!this.listener) {
            this.status.state = 'standby';
            await this.idle(2000);
            continue;
          }
        }
        const cur = this.cursor!;
        let progressed: boolean;
        if (cur.table < this.tables.length) {
          this.status.state = 'snapshot';
          progressed = await this.snapshotStep(cur);
        } else {
          this.status.state = 'following';
          progressed = await this.followStep(cur);
        }
        this.status.error = null;
        backoff = 250;
        if (!progressed) await this.idle(this.cfg.pollMs ?? 500);
      } catch (e) {
        if (this.stopped) break;
        const err = e as { code?: string; message?: string };
        this.status.state = 'error';
        this.status.errors++;
        this.status.error = { code: err.code ?? 'source/error', message: `source ${this.name}: ${err.message ?? String(e)}`, at: Date.now() };
        this.onError(new DataloomError(this.status.error.code, this.status.error.message, { source: this.name }));
        // A failed start-up (catalog, capture, schema) is redone from scratch.
        if (!this.ready || (err.code !== undefined && err.code.startsWith('source/config'))) await this.reset();
        await this.idle(backoff);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }

  private async reset(): Promise<void> {
    await this.listener?.end().catch(() => {});
    await this.pool?.end().catch(() => {});
    this.listener = null;
    this.pool = null;
    this.ready = false;
  }

  /** A notification arrived while the loop was busy: the next idle returns at once. */
  private woken = false;

  private idle(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
      this.wake = done;
    });
  }

  private async setup(): Promise<void> {
    const pool = new pg.Pool({ connectionString: this.cfg.postgres, max: 2 });
    pool.on('error', () => {});
    this.pool = pool;
    this.tables = await mapTables(pool, this.name, this.cfg.tables);
    this.byKey = new Map(this.tables.map((t) => [t.key, t]));
    const opsPerRow = Math.max(...this.tables.map((t) => t.columns.length + t.columns.filter((c) => c.valueType === 'ref').length));
    this.perTx = Math.max(1, Math.min(this.cfg.rowsPerTx ?? 500, Math.floor(this.limits.maxOpsPerTx / opsPerRow)));
    await this.capture.install(pool, this.tables);
    await this.writeSchema();
    this.ready = true;
  }

  /** Takes the source's lock and listens for change notifications; leaves `listener` null when another process holds it. */
  private async acquire(): Promise<void> {
    const c = new pg.Client({ connectionString: this.cfg.postgres });
    c.on('error', () => {});
    await c.connect();
    const got = (await c.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS ok`, ['dataloom_src:' + this.name])).rows[0].ok as boolean;
    if (!got) {
      await c.end().catch(() => {});
      return;
    }
    c.on('notification', () => {
      if (this.wake) this.wake();
      else this.woken = true;
    });
    await c.query(`LISTEN ${quoteIdent(this.capture.channel)}`);
    this.listener = c;
    this.cursor = await this.loadCursor();
  }

  private async writeSchema(): Promise<void> {
    const want = schemaAsData(schemaOf(this.tables));
    for (const ident of [...want.keys()]) if (this.node.state.attributeEntity(ident) !== null) want.delete(ident);
    if (want.size === 0) return;
    const tx = this.node.nextStamp();
    const ops = schemaBootstrapOps(want, this.node.state, tx);
    if (ops.length === 0) return;
    const o = await this.node.submit({ tx, replica: this.node.serverReplica, ops });
    if (o.status === 'rejected') throw new DataloomError('source/schema', `the log refused the source's attributes: ${o.code} ${o.message}`, { source: this.name });
  }

  private async loadCursor(): Promise<Cursor> {
    const logId = this.node.logId;
    const saved = await this.node.store.getMeta(`source:${this.name}`);
    if (saved !== null) {
      const c = JSON.parse(saved) as Cursor;
      if (c.logId === logId) return c;
    }
    const r = await this.pool!.query(`SELECT pg_current_snapshot()::text AS snap, (extract(epoch from clock_timestamp()) * 1000)::bigint::text AS ms`);
    const c: Cursor = { logId, snapMs: Number(r.rows[0].ms), snapshot: r.rows[0].snap as string, table: 0, after: null, piece: 0, changes: null };
    await this.saveCursor(c);
    return c;
  }

  private async saveCursor(c: Cursor): Promise<void> {
    await this.node.store.setMeta(`source:${this.name}`, JSON.stringify(c));
  }

  /** Appends one stamped piece; a stamp already in the log means an earlier run wrote it. */
  private async append(ms: number, counter: number, ops: Array<Omit<Op, 'id' | 'tx'>>): Promise<boolean> {
    if (ops.length === 0) return false;
    const tx = formatHlc({ ms, counter, replica: this.replica });
    const env: TxEnvelope = checkEnvelope({ tx, replica: this.replica, ops: ops.map((o, i) => ({ id: `${tx}/${i}`, tx, ...o })) }, this.limits);
    const o = await this.node.submit(env, this.cfg.as);
    if (o.status === 'rejected' && o.code !== 'sync/tx-conflict') {
      throw new DataloomError('source/rejected', `the log refused ${tx}: ${o.code}: ${o.message}`, { source: this.name, cause: o.code, ...(o.data ?? {}) });
    }
    if (o.status === 'appended') this.status.transactions++;
    return o.status === 'appended';
  }

  private async snapshotStep(cur: Cursor): Promise<boolean> {
    const t = this.tables[cur.table]!;
    const where = cur.after === null ? '' : `WHERE t.${quoteIdent(t.pk)} > $2::${t.pkType}`;
    const params: unknown[] = [this.perTx * WINDOW_PIECES];
    if (cur.after !== null) params.push(typeof cur.after === 'string' ? cur.after : JSON.stringify(cur.after));
    const r = await this.pool!.query(`SELECT to_jsonb(t) AS row FROM ${t.sql} t ${where} ORDER BY t.${quoteIdent(t.pk)} LIMIT $1`, params);
    const rows = r.rows.map((x) => x.row as Record<string, unknown>);
    if (rows.length === 0) {
      await this.saveCursor((this.cursor = { ...cur, table: cur.table + 1, after: null }));
      return true;
    }
    // Pieces go to the log together (one group commit), then the cursor moves past all of them.
    const pieces: Array<Promise<boolean>> = [];
    for (let i = 0, k = cur.piece; i < rows.length; i += this.perTx, k++) {
      const ops = this.piece(rows.slice(i, i + this.perTx).map((row) => ({ kind: 'upsert', table: t, row, fresh: true })));
      pieces.push(this.append(cur.snapMs, k, ops));
    }
    await Promise.all(pieces);
    this.status.rows += rows.length;
    await this.saveCursor((this.cursor = { ...cur, after: rows[rows.length - 1]![t.pk], piece: cur.piece + pieces.length }));
    return true;
  }

  /** Ops of a piece: each row's net change (later changes of a row replace earlier ones). */
  private piece(changes: RowChange[]): Array<Omit<Op, 'id' | 'tx'>> {
    const net = new Map<GlobalId, RowChange>();
    for (const c of changes) {
      const pk = c.kind === 'delete' ? c.pk : c.row[c.table.pk];
      const e = rowEntity(this.replica, c.table.key, pk);
      const prev = net.get(e);
      // Net change: an upsert after an upsert keeps the first one's before-image (and newness);
      // after a delete it must overwrite every column.
      if (prev && c.kind === 'upsert') net.set(e, prev.kind === 'upsert' ? { ...c, fresh: prev.fresh, old: prev.old } : { ...c, fresh: false, old: undefined });
      else net.set(e, c);
    }
    const writes = new Set<GlobalId>();
    for (const [e, c] of net) if (c.kind === 'upsert') writes.add(e);
    const stubs = new Set<GlobalId>();
    const ops: Array<Omit<Op, 'id' | 'tx'>> = [];
    for (const c of net.values()) ops.push(...rowOps(this.replica, c, writes, stubs, this.byKey));
    return ops;
  }

  private async followStep(cur: Cursor): Promise<boolean> {
    const window = this.perTx * WINDOW_PIECES;
    const rows = await this.capture.read(this.pool!, cur.changes, cur.snapshot, window);
    let usable = rows;
    if (rows.length === window) {
      // The last transaction may be cut by the limit: leave it for the next read (unless it is all there is).
      const lastXid = rows[rows.length - 1]!.xid;
      const first = rows.findIndex((r) => r.xid === lastXid);
      usable = first > 0 ? rows.slice(0, first) : rows;
    }
    this.status.caughtUp = rows.length < window;
    if (usable.length === 0) return false;
    // Pieces: runs of one transaction, cut every `perTx` changes from where the run starts here;
    // appended together (one group commit), then the cursor moves past all of them.
    const pieces: Array<Promise<void>> = [];
    let i = 0;
    while (i < usable.length) {
      const xid = usable[i]!.xid;
      let j = i;
      while (j < usable.length && usable[j]!.xid === xid && j - i < this.perTx) j++;
      pieces.push(this.applyPiece(cur, usable.slice(i, j)));
      i = j;
    }
    await Promise.all(pieces);
    const last = usable[usable.length - 1]!;
    await this.saveCursor((this.cursor = { ...this.cursor!, changes: { xid: last.xid, seq: last.seq } }));
    await this.capture.prune(this.pool!, this.cursor.changes!);
    return true;
  }

  private async applyPiece(cur: Cursor, rows: ChangeRow[]): Promise<void> {
    const changes: RowChange[] = [];
    let maxAt = 0;
    for (const r of rows) {
      maxAt = Math.max(maxAt, Number(r.at_ms));
      const t = this.byKey.get(r.tbl);
      if (!t) continue; // a table no longer mapped
      const newPk = r.new_row?.[t.pk];
      if (r.op === 'D' || (r.op === 'U' && JSON.stringify(r.old_pk) !== JSON.stringify(newPk))) changes.push({ kind: 'delete', table: t, pk: r.old_pk });
      const sameKey = r.op === 'U' && JSON.stringify(r.old_pk) === JSON.stringify(newPk);
      if (r.op !== 'D') changes.push({ kind: 'upsert', table: t, row: r.new_row!, fresh: r.op === 'I', ...(sameKey && r.old_row ? { old: r.old_row } : {}) });
    }
    const last = rows[rows.length - 1]!;
    const ms = Math.max(maxAt, cur.snapMs + 1);
    const appended = await this.append(ms, Number(BigInt(last.seq) % BigInt(SPAN)), this.piece(changes));
    this.status.rows += rows.length;
    if (appended) this.status.lagMs = Date.now() - maxAt;
  }
}
