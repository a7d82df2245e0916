/**
 * Registered queries over collection sources (`:in $ $c … [$c ?e ?v]`), seeded: queries from the
 * multi-source generator (`test/gen/multisource.ts`) are registered with `$` a connection's
 * database and `$c` a collection of tuples; after registration and after every random
 * transaction the view's result equals one-shot `q` (itself checked against DataScript by
 * `test/query/multisource.test.ts`; `$2` is a database value here, `db-sources.property.test.ts`
 * follows a second connection). Forms the dataflow engine refuses (pull from another source,
 * database functions over a collection) must be refused with a typed `dataflow/unsupported`.
 *
 * FUZZ_RUNS databases (default 40, 10 queries each), FUZZ_SEED replays one.
 */
import { parseEdn } from '@dataloom/core';
import { createConn } from '@dataloom/dataflow';
import { q } from '@dataloom/query';
import { describe, expect, it } from 'vitest';
import { genMultiQuery, MS_RULES } from '../gen/multisource.js';
import { replayable, seeds } from '../gen/prng.js';
import { genDb, genTx, mulberry32 } from '../gen/queries.js';
import { canonRows } from './canon.js';

const canon = (r: unknown): string[] => canonRows(r, 9);
let registered = 0;
let withCollection = 0;

function runSeed(seed: number): void {
  const rng = mulberry32(seed);
  const g = genDb(rng, 10);
  for (let i = 0; i < 10; i++) {
    const c = genMultiQuery(rng, g);
    const conn = createConn(g.schema);
    conn.transact(g.tx);
    const rest = c.ins.filter((n) => n !== '$').map((n) => (n === '$c' ? parseEdn(c.coll) : n === '%' ? MS_RULES : n === '?pat' ? parseEdn(c.pat) : conn.db()));
    const withDb = (db: unknown) => c.ins.map((n) => (n === '$' ? db : rest[c.ins.filter((x) => x !== '$').indexOf(n)]));
    let expected: string[];
    try {
      expected = canon(q(c.query, ...withDb(conn.db())));
    } catch {
      continue; // q (like DataScript) rejects it
    }
    const ctx = `${c.query}\n  $: ${g.tx}\n  $c: ${c.coll}\n  replay with FUZZ_SEED=${seed} (query #${i})`;
    let view;
    try {
      view = conn.register('ms', c.query, ...withDb(conn.db()));
    } catch (e) {
      const err = e as { code?: string; message?: string };
      expect(['dataflow/unsupported', 'query/unbound'], `${ctx}\n${String(e)}`).toContain(err.code);
      if (err.code === 'dataflow/unsupported' && c.ins.includes('$2')) expect(err.message).toMatch(/\$2|source|pull/);
      continue;
    }
    registered++;
    if (c.query.includes('$c')) withCollection++;
    expect(canon(view.result()), ctx).toEqual(expected);
    for (let t = 0; t < 6; t++) {
      const tx = genTx(rng, g);
      conn.transact(tx);
      let want: string[];
      try {
        want = canon(q(c.query, ...withDb(conn.db())));
      } catch {
        break;
      }
      expect(canon(view.result()), `${ctx}\n  after ${tx}`).toEqual(want);
    }
  }
}

describe('registered queries over collection sources equal q (seeded)', () => {
  it('random databases × multi-source queries × transactions', () => {
    for (const s of seeds(40, 7000)) replayable(s, () => runSeed(s));
    // The generator must actually reach the engine, not only its refusals.
    if (!process.env.FUZZ_SEED) expect(withCollection).toBeGreaterThan(20);
    console.log(`registered ${registered} views, ${withCollection} reading a collection source`);
  });
});
