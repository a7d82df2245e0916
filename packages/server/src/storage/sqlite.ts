/**
 * SQLite store (better-sqlite3): the embedded, zero set-up default. WAL journal,
 * `synchronous=FULL` (every commit is fsynced before `append` resolves) and
 * `locking_mode=EXCLUSIVE`, so exactly one server process owns the file — SQLite has no way to
 * fan new operations out across processes; use PostgreSQL for that.
 *
 * better-sqlite3 is synchronous: an append is one `BEGIN IMMEDIATE … COMMIT` that runs to
 * completion on the event loop, which is the writer lock.
 */
import Database from 'better-sqlite3';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TxEnvelope } from '@dataloom/core';
import { KEEP_REJECTED_MS, PRUNE_REJECTED_EVERY_MS, envelopeDigest, judgeBatch, type RejectedRow, type StoredTx } from './append-loop.js';
import type { AppendResult, Judge, LogEntry, ServerStore } from './types.js';

export interface SqliteStoreOptions {
  /** Path of the database file (its directory is created if missing). */
  file: string;
}

export function createSqliteStore(opts: SqliteStoreOptions): ServerStore {
  return new SqliteStore(opts.file);
}

/**
 * The position retention by age keeps from (`positionAt`): the last entry in `at` order at or
 * before a time, found on the `at` index (a seek, not a scan of the log). Commit times follow
 * positions; where a clock went back they do not, and the entry found is then at or below the
 * highest one written by that time — retention keeps more, never less.
 */
export const SQLITE_POSITION_AT = 'SELECT pos FROM dataloom_log WHERE at <= ? ORDER BY at DESC, pos DESC LIMIT 1';

class SqliteStore implements ServerStore {
  readonly kind = 'sqlite' as const;
  private db: Database.Database | null = null;
  private readonly listeners = new Set<(head: number) => void>();
  private stmts!: {
    head: Database.Statement;
    findTx: Database.Statement;
    findRejected: Database.Statement;
    insert: Database.Statement;
    insertRejected: Database.Statement;
    pruneRejected: Database.Statement;
    since: Database.Statement;
  };

  /** When recorded rejections were last pruned (ms). */
  private pruned = 0;

  constructor(private readonly file: string) {}

  async open(): Promise<void> {
    if (this.db) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const db = new Database(this.file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec(`
      CREATE TABLE IF NOT EXISTS dataloom_log (
        pos INTEGER PRIMARY KEY,
        tx TEXT NOT NULL UNIQUE,
        replica TEXT NOT NULL,
        env TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS dataloom_rejected (
        tx TEXT NOT NULL,
        digest TEXT NOT NULL,
        verdict TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (tx, digest)
      );
      CREATE TABLE IF NOT EXISTS dataloom_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT OR IGNORE INTO dataloom_meta(key, value) VALUES ('format', '1');
    `);
    db.prepare(`INSERT OR IGNORE INTO dataloom_meta(key, value) VALUES ('log_id', ?)`).run(randomBytes(8).toString('hex'));
    // compaction (types.ts invariant 5): the digest of a rewritten entry's original envelope
    const cols = db.prepare('PRAGMA table_info(dataloom_log)').all() as Array<{ name: string }>;
    if (!cols.some((c) => c.name === 'digest')) db.exec('ALTER TABLE dataloom_log ADD COLUMN digest TEXT');
    // retention by age (positionAt): made on first open of an older file too
    db.exec('CREATE INDEX IF NOT EXISTS dataloom_log_at ON dataloom_log(at)');
    this.stmts = {
      head: db.prepare('SELECT coalesce(max(pos), 0) AS head FROM dataloom_log'),
      findTx: db.prepare('SELECT pos, env, digest FROM dataloom_log WHERE tx = ?'),
      insert: db.prepare('INSERT INTO dataloom_log(pos, tx, replica, env, at) VALUES (?, ?, ?, ?, ?)'),
      findRejected: db.prepare('SELECT tx, digest, verdict FROM dataloom_rejected WHERE tx = ?'),
      insertRejected: db.prepare('INSERT OR IGNORE INTO dataloom_rejected(tx, digest, verdict, at) VALUES (?, ?, ?, ?)'),
      pruneRejected: db.prepare('DELETE FROM dataloom_rejected WHERE at < ?'),
      since: db.prepare('SELECT pos, env FROM dataloom_log WHERE pos > ? ORDER BY pos LIMIT ?'),
    };
    this.db = db;
  }

  private get conn(): Database.Database {
    if (!this.db) throw new Error('sqlite store is not open');
    return this.db;
  }

  async append(envs: readonly TxEnvelope[], knownHead: number, judge: Judge): Promise<AppendResult> {
    const db = this.conn;
    const run = db.transaction(() => {
      const caught = this.readSync(knownHead, Number.MAX_SAFE_INTEGER);
      const { rows, rejections, result } = judgeBatch(
        envs,
        knownHead,
        caught,
        (tx) => this.stmts.findTx.get(tx) as StoredTx | undefined,
        judge,
        (tx) => this.stmts.findRejected.all(tx) as RejectedRow[],
      );
      const now = Date.now();
      for (const r of rows) this.stmts.insert.run(r.pos, r.tx, r.replica, r.json, now);
      for (const r of rejections) this.stmts.insertRejected.run(r.tx, r.digest, r.verdict, now);
      if (rejections.length > 0 && now - this.pruned > PRUNE_REJECTED_EVERY_MS) {
        this.stmts.pruneRejected.run(now - KEEP_REJECTED_MS);
        this.pruned = now;
      }
      return result;
    });
    const result = run.immediate();
    if (result.entries.length > 0) for (const fn of this.listeners) fn(result.head);
    return result;
  }

  private readSync(after: number, limit: number): LogEntry[] {
    const rows = this.stmts.since.all(after, limit) as Array<{ pos: number; env: string }>;
    return rows.map((r) => ({ pos: r.pos, env: JSON.parse(r.env) as TxEnvelope }));
  }

  async readSince(after: number, limit: number): Promise<LogEntry[]> {
    this.conn;
    return this.readSync(after, limit);
  }

  async head(): Promise<number> {
    this.conn;
    return (this.stmts.head.get() as { head: number }).head;
  }

  async horizon(): Promise<number> {
    return Number((await this.getMeta('horizon')) ?? 0);
  }

  async compact(horizon: number, entries: readonly LogEntry[]): Promise<void> {
    const db = this.conn;
    const rewrite = db.prepare('UPDATE dataloom_log SET digest = coalesce(digest, ?), env = ? WHERE pos = ? AND pos <= ?');
    const original = db.prepare('SELECT env, digest FROM dataloom_log WHERE pos = ?');
    const setHorizon = db.prepare(
      `INSERT INTO dataloom_meta(key, value) VALUES ('horizon', ?) ON CONFLICT(key) DO UPDATE SET value = CASE WHEN CAST(value AS INTEGER) < CAST(excluded.value AS INTEGER) THEN excluded.value ELSE value END`,
    );
    db.transaction(() => {
      for (const e of entries) {
        const row = original.get(e.pos) as { env: string; digest: string | null } | undefined;
        if (!row) continue;
        rewrite.run(row.digest ?? envelopeDigest(row.env), JSON.stringify(e.env), e.pos, horizon);
      }
      setHorizon.run(String(horizon));
    }).immediate();
  }

  async positionAt(ms: number): Promise<number> {
    return (this.conn.prepare(SQLITE_POSITION_AT).get(ms) as { pos: number } | undefined)?.pos ?? 0;
  }

  async logId(): Promise<string> {
    return (this.conn.prepare(`SELECT value FROM dataloom_meta WHERE key = 'log_id'`).get() as { value: string }).value;
  }

  async getMeta(key: string): Promise<string | null> {
    const row = this.conn.prepare('SELECT value FROM dataloom_meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  async setMeta(key: string, value: string): Promise<void> {
    if (key === 'format' || key === 'log_id' || key === 'horizon') throw new Error(`meta key ${key} belongs to the store`);
    this.conn.prepare('INSERT INTO dataloom_meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  onAppend(fn: (head: number) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = null;
  }

  async destroy(): Promise<void> {
    await this.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(this.file + suffix, { force: true });
  }
}
