/**
 * Retention by age (`positionAt`, `createServer({ retention: { ms } })`, `--retain-ms`) seeks the
 * log's `at` index instead of scanning the log, on both stores — and a log written before the index
 * existed gets it when a store opens it. Real SQLite file, real PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { SQLITE_POSITION_AT, createSqliteStore } from './sqlite.js';
import { createPostgresStore, pgPositionAt } from './postgres.js';

const PG = process.env.DATALOOM_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Commit times of a log whose clock went back once (entry 3 before entry 2). */
const AT = [1_000, 2_000, 1_500, 3_000, 4_000];
const env = (i: number) => JSON.stringify({ tx: `tx${i}`, replica: 'r', ops: [] });

describe('retention by age on an index', () => {
  it('SQLite: an older file gets the index at open; positionAt seeks it, keeping more where the clock went back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataloom-retain-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'old.sqlite');
    // the log as stores wrote it before the index
    const raw = new Database(file);
    raw.exec(`CREATE TABLE dataloom_log (pos INTEGER PRIMARY KEY, tx TEXT NOT NULL UNIQUE, replica TEXT NOT NULL, env TEXT NOT NULL, at INTEGER NOT NULL, digest TEXT);
      CREATE TABLE dataloom_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO dataloom_meta(key, value) VALUES ('format', '1'), ('log_id', 'feedfeedfeedfeed');`);
    AT.forEach((at, i) => raw.prepare('INSERT INTO dataloom_log(pos, tx, replica, env, at) VALUES (?, ?, ?, ?, ?)').run(i + 1, `tx${i + 1}`, 'r', env(i + 1), at));
    raw.close();
    const s = createSqliteStore({ file });
    await s.open();
    expect(await s.positionAt(999)).toBe(0);
    expect(await s.positionAt(1_000)).toBe(1);
    expect(await s.positionAt(1_600)).toBe(3);
    // entries 1–3 were written by 2,000 (exactly: 3); the seek finds entry 2 — keeps entry 3 too
    expect(await s.positionAt(2_500)).toBe(2);
    expect(await s.positionAt(10_000)).toBe(5);
    expect(await s.logId()).toBe('feedfeedfeedfeed');
    await s.close();
    const check = new Database(file, { readonly: true });
    try {
      const plan = (check.prepare(`EXPLAIN QUERY PLAN ${SQLITE_POSITION_AT}`).all(0) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
      expect(plan).toMatch(/USING (COVERING )?INDEX dataloom_log_at/);
      expect(plan).not.toMatch(/SCAN|TEMP B-TREE/);
    } finally {
      check.close();
    }
  });

  it('PostgreSQL: an older log gets the index at open; positionAt uses it', async () => {
    const namespace = `dl_retain_${process.pid}_${Date.now().toString(36)}`;
    const client = new pg.Client({ connectionString: PG });
    await client.connect();
    cleanups.push(() => client.end(), () => createPostgresStore({ url: PG, namespace }).destroy());
    await client.query(`CREATE SCHEMA "${namespace}"`);
    await client.query(`CREATE TABLE "${namespace}".log (pos bigint PRIMARY KEY, tx text NOT NULL UNIQUE, replica text NOT NULL, env text NOT NULL, at timestamptz NOT NULL DEFAULT now())`);
    for (const [i, at] of AT.entries()) {
      await client.query(`INSERT INTO "${namespace}".log(pos, tx, replica, env, at) VALUES ($1, $2, 'r', $3, to_timestamp($4::double precision / 1000))`, [i + 1, `tx${i + 1}`, env(i + 1), at]);
    }
    const s = createPostgresStore({ url: PG, namespace });
    await s.open();
    try {
      expect(await s.positionAt(999)).toBe(0);
      expect(await s.positionAt(1_600)).toBe(3);
      expect(await s.positionAt(2_500)).toBe(2);
      expect(await s.positionAt(10_000)).toBe(5);
    } finally {
      await s.close();
    }
    // the plan of the store's query, with sequential scans priced out: an index must serve it
    await client.query('BEGIN');
    await client.query('SET LOCAL enable_seqscan = off');
    const plan = (await client.query(`EXPLAIN ${pgPositionAt(`"${namespace}".log`)}`, [2_500])).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    await client.query('ROLLBACK');
    expect(plan).toMatch(/Index (Only )?Scan Backward using log_at/);
  });
});
