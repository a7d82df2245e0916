/**
 * Seeded property of the PostgreSQL source against the real PostgreSQL: several sessions
 * interleave transactions on one table — held open across steps (so commits land out of
 * transaction-id order and the change horizon moves), rolled back, several changes of one row in
 * one transaction, key changes, deletes and re-inserts — while the server following the table is
 * restarted in the middle. At the end the log's view of the table equals the table, row for row.
 * `FUZZ_RUNS` widens the hunt; `FUZZ_SEED` replays one (the seed is printed on failure).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import pg from 'pg';
import { createServer, createSqliteStore, type DataloomServer } from '../../packages/server/src/index.js';
import { mulberry32, pick, replayableAsync, seeds } from '../gen/prng.js';
import { PG_URL, tempDir } from './support/harness.js';
import { until as waitUntil } from './support/wait.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const until = (cond: () => boolean | Promise<boolean>, what: string, ms = 30_000) => waitUntil(cond, what, ms);

/** The rows the log holds for the source's table: key → [label, n], by the merge rule (greatest stamp wins; retractEntity hides older ops). */
async function logRows(file: string, replica: string): Promise<Map<number, [string, number]>> {
  const store = createSqliteStore({ file });
  await store.open();
  const reg = new Map<string, { tx: string; v: unknown }>();
  const tomb = new Map<string, string>();
  for (const { env } of await store.readSince(0, 1_000_000)) {
    for (const op of env.ops) {
      if (!op.e.startsWith(replica + '.')) continue;
      if (op.op === 'retractEntity') {
        if ((tomb.get(op.e) ?? '') < op.tx) tomb.set(op.e, op.tx);
        continue;
      }
      const k = op.e + ' ' + op.a;
      if ((reg.get(k)?.tx ?? '') < op.tx) reg.set(k, { tx: op.tx, v: op.op === 'add' ? op.v : undefined });
    }
  }
  await store.close();
  const rows = new Map<number, [string, number]>();
  const ents = new Set([...reg.keys()].map((k) => k.split(' ')[0]!));
  for (const e of ents) {
    const get = (a: string) => {
      const r = reg.get(e + ' ' + a);
      return r && r.tx > (tomb.get(e) ?? '') ? r.v : undefined;
    };
    const id = get('item/id');
    if (id === undefined) continue;
    rows.set(id as number, [get('item/label') as string, get('item/n') as number]);
  }
  return rows;
}

let run = 0;
describe('PostgreSQL source, interleaved sessions (property)', () => {
  for (const seed of seeds(2, 4100)) {
    it(`the log ends equal to the table (seed ${seed})`, { timeout: 120_000 }, async () => {
      await replayableAsync(seed, async () => {
        const rnd = mulberry32(seed);
        const id = `${process.pid}_${Date.now().toString(36)}_${run++}`;
        const schema = `dl_srcprop_${id}`;
        const name = `p${id}`;
        const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
        await admin.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.item (id int PRIMARY KEY, label text NOT NULL, n int NOT NULL)`);
        const sessions = await Promise.all([0, 1, 2].map(async () => {
          const c = new pg.Client({ connectionString: PG_URL });
          await c.connect();
          return { c, open: false, locked: new Set<number>() };
        }));
        cleanups.push(async () => {
          for (const s of sessions) await s.c.end().catch(() => {});
          await admin.query(`DROP SCHEMA ${schema} CASCADE; DROP TABLE IF EXISTS dataloom_src."changes_${name}"; DROP FUNCTION IF EXISTS dataloom_src."capture_${name}"()`);
          await admin.end();
        });
        const t = tempDir();
        cleanups.push(t.cleanup);
        const file = join(t.dir, 'prop.sqlite');
        const start = () => createServer({ store: `sqlite:${file}`, port: 0, pollMs: 20, sources: [{ name, postgres: PG_URL, pollMs: 20, rowsPerTx: 7, tables: { [`${schema}.item`]: true } }], onError: () => {} });
        let server: DataloomServer | null = await start();
        // the capture is installed once, before the app's transactions (a restart finds it in place)
        await until(() => server!.sources().every((x) => x.state === 'following' && x.caughtUp), 'source started');
        const lockedByOthers = (me: number) => new Set(sessions.flatMap((s, i) => (i === me ? [] : [...s.locked])));
        const STEPS = 160;
        for (let step = 0; step < STEPS; step++) {
          if (step === STEPS / 2) {
            await server!.close(); // restart in the middle, with transactions open
            server = await start();
          }
          const i = Math.floor(rnd() * sessions.length);
          const s = sessions[i]!;
          const free = Array.from({ length: 12 }, (_, k) => k + 1).filter((k) => !lockedByOthers(i).has(k));
          const r = rnd();
          if (!s.open && r < 0.3) {
            await s.c.query('BEGIN');
            s.open = true;
          } else if (s.open && r < 0.4) {
            await s.c.query(rnd() < 0.8 ? 'COMMIT' : 'ROLLBACK');
            s.open = false;
            s.locked.clear();
          } else if (free.length > 0) {
            const k = pick(rnd, free);
            const kind = rnd();
            if (kind < 0.5) await s.c.query(`INSERT INTO ${schema}.item VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET label = excluded.label, n = ${schema}.item.n + 1`, [k, `v${step}`, step]);
            else if (kind < 0.8) await s.c.query(`DELETE FROM ${schema}.item WHERE id = $1`, [k]);
            else {
              // a key change to a free key (skipped if taken)
              const to = pick(rnd, free);
              await s.c.query(`UPDATE ${schema}.item SET id = $2, label = label || '*' WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM ${schema}.item WHERE id = $2)`, [k, to]);
              if (s.open) s.locked.add(to);
            }
            if (s.open) s.locked.add(k);
          }
        }
        for (const s of sessions) if (s.open) await s.c.query('COMMIT');
        // every change is in the log once the source has pruned them all from the change table
        const pending = async () => (await admin.query(`SELECT count(*)::int AS n FROM dataloom_src."changes_${name}"`)).rows[0].n as number;
        for (let i = 0; i < 3000 && (await pending()) > 0; i++) await new Promise((r) => setTimeout(r, 10));
        expect(await pending()).toBe(0);
        await server!.close();
        server = null;
        const table = new Map<number, [string, number]>((await admin.query(`SELECT id, label, n FROM ${schema}.item`)).rows.map((r) => [r.id as number, [r.label as string, r.n as number]]));
        const log = await logRows(file, `src_${name}`);
        expect([...log.entries()].sort((a, b) => a[0] - b[0])).toEqual([...table.entries()].sort((a, b) => a[0] - b[0]));
      });
    });
  }
});
