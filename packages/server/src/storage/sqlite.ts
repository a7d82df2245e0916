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
import { duplicateOutcome, type AppendOutcome, type AppendResult, type Judge, type LogEntry, type ServerStore } from './types.js';

export interface SqliteStoreOptions {
  /** Path of the database file (its directory is created if missing). */
  file: string;
}

export function createSqliteStore(opts: SqliteStoreOptions): ServerStore {
  return new SqliteStore(opts.file);
}

class SqliteStore implements ServerStore {
  readonly kind = 'sqlite' as const;
  private db: Database.Database | null = null;
  private readonly listeners = new Set<(head: number) => void>();
  private stmts!: {
    head: Database.Statement;
    findTx: Database.Statement;
    insert: Database.Statement;
    since: Database.Statement;
  };

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
      CREATE TABLE IF NOT EXISTS dataloom_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT OR IGNORE INTO dataloom_meta(key, value) VALUES ('format', '1');
    `);
    db.prepare(`INSERT OR IGNORE INTO dataloom_meta(key, value) VALUES ('log_id', ?)`).run(randomBytes(8).toString('hex'));
    this.stmts = {
      head: db.prepare('SELECT coalesce(max(pos), 0) AS head FROM dataloom_log'),
      findTx: db.prepare('SELECT pos, env FROM dataloom_log WHERE tx = ?'),
      insert: db.prepare('INSERT INTO dataloom_log(pos, tx, replica, env, at) VALUES (?, ?, ?, ?, ?)'),
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
      judge.catchUp(caught);
      let head = (this.stmts.head.get() as { head: number }).head;
      const outcomes: AppendOutcome[] = [];
      const appended: LogEntry[] = [];
      const inBatch = new Map<string, { pos: number; env: string }>();
      const now = Date.now();
      for (const env of envs) {
        const json = JSON.stringify(env);
        const prior = inBatch.get(env.tx) ?? (this.stmts.findTx.get(env.tx) as { pos: number; env: string } | undefined);
        if (prior !== undefined) {
          outcomes.push(duplicateOutcome(env.tx, prior.pos, prior.env, json));
          continue;
        }
        const verdict = judge.check(env);
        if (!verdict.ok) {
          outcomes.push({ tx: env.tx, status: 'rejected', code: verdict.code, message: verdict.message, data: verdict.data });
          continue;
        }
        head += 1;
        this.stmts.insert.run(head, env.tx, env.replica, json, now);
        inBatch.set(env.tx, { pos: head, env: json });
        outcomes.push({ tx: env.tx, status: 'appended', pos: head });
        appended.push({ pos: head, env });
      }
      return { outcomes, entries: [...caught, ...appended], head };
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

  async logId(): Promise<string> {
    return (this.conn.prepare(`SELECT value FROM dataloom_meta WHERE key = 'log_id'`).get() as { value: string }).value;
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
