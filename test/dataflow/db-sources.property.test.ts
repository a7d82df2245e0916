/**
 * Registered queries over other databases as sources (`:in $ $2 …` with `$2` another connection,
 * or a database value), seeded: queries from the multi-source generator (`test/gen/multisource.ts`:
 * `[$2 …]` patterns, `($2 not …)`/`($2 or …)`/`($2 rule …)`, rules naming `$2`, `$2` inside a
 * `$` body, functions over `$2`, collection sources, joins across `$` and `$2`) are registered on
 * one connection with `$2` a second connection; random transactions go to either connection, and
 * after each the view equals one-shot `q` over the two current databases, which equals DataScript's
 * `d/q` over the same two databases. A quarter of the registrations get `$2` as a database value
 * instead: the view then keeps reading that fixed value while the second connection moves on.
 *
 * FUZZ_RUNS databases (default 40, 10 queries each), FUZZ_SEED replays one.
 */
import { parseEdn } from '@dataloom/core';
import { createConn } from '@dataloom/dataflow';
import { q } from '@dataloom/query';
import { describe, expect, it } from 'vitest';
import { genMultiQuery, MS_RULES } from '../gen/multisource.js';
import { replayable, seeds } from '../gen/prng.js';
import { chance, genDb, genTx, mulberry32 } from '../gen/queries.js';
import { dsWith } from '../oracle/datascript.js';
import { DB, dbOf, diff, world, type World } from '../query/harness.js';
import { canonRows } from './canon.js';

const canon = (r: unknown): string[] => canonRows(r, 9);
let registered = 0;
let followed = 0;
let checkedTx2 = 0;

function runSeed(seed: number): void {
  const rng = mulberry32(seed);
  const g = genDb(rng, 10);
  const g2 = genDb(rng, 10);
  const gg = { ...g, n: Math.max(g.n, g2.n) };
  for (let i = 0; i < 10; i++) {
    const c = genMultiQuery(rng, gg);
    if (!c.ins.includes('$2')) continue;
    const conn = createConn(g.schema);
    conn.transact(g.tx);
    const conn2 = createConn(g2.schema);
    conn2.transact(g2.tx);
    const w: World = world(g.schema, g.tx);
    const w2: World = world(g2.schema, g2.tx);
    const fixed = chance(rng, 0.25);
    const fixedDb = conn2.db();
    const fixedW2: World = { ...w2 };
    const other = (name: string, db1: unknown, db2: unknown): unknown =>
      name === '$' ? db1 : name === '$2' ? db2 : name === '$c' ? parseEdn(c.coll) : name === '%' ? MS_RULES : parseEdn(c.pat);
    const qInputs = () => c.ins.map((n) => other(n, conn.db(), fixed ? fixedDb : conn2.db()));
    const dsInputs = () => c.ins.map((n) => other(n, DB, dbOf(fixed ? fixedW2 : w2)));
    let expected: string[];
    try {
      expected = canon(q(c.query, ...qInputs()));
    } catch {
      continue; // q (like DataScript, test/query/multisource.test.ts) rejects it
    }
    const ctx = () => `${c.query}\n  $: ${g.tx}\n  $2: ${g2.tx}${fixed ? ' (a fixed database value)' : ' (a connection)'}\n  replay with FUZZ_SEED=${seed} (query #${i})`;
    let view;
    try {
      view = conn.register('ms', c.query, ...c.ins.map((n) => other(n, conn.db(), fixed ? fixedDb : conn2)));
    } catch (e) {
      // Pulls from another source and database functions over a collection are refused, typed.
      const err = e as { code?: string; message?: string };
      expect(['dataflow/unsupported', 'query/unbound'], `${ctx()}\n${String(e)}`).toContain(err.code);
      if (err.code === 'dataflow/unsupported') expect(err.message).toMatch(/pull|\$c/);
      continue;
    }
    registered++;
    if (!fixed) followed++;
    expect(canon(view.result()), ctx()).toEqual(expected);
    for (let t = 0; t < 8; t++) {
      const second = chance(rng, 0.5);
      const tx = genTx(rng, second ? g2 : g);
      if (second) {
        conn2.transact(tx);
        w2.ours = conn2.db();
        w2.ds = dsWith(w2.ds, tx).db;
      } else {
        conn.transact(tx);
        w.ours = conn.db();
        w.ds = dsWith(w.ds, tx).db;
      }
      let want: string[];
      try {
        want = canon(q(c.query, ...qInputs()));
      } catch {
        break;
      }
      const where = `${ctx()}\n  after ${second ? '$2' : '$'} ${tx}`;
      expect(canon(view.result()), where).toEqual(want);
      // And q equals DataScript's d/q on the same two databases.
      const d = diff(w, c.query, ...dsInputs());
      if (d !== null) expect.fail(`${d}\n${where}`);
      if (second && !fixed) checkedTx2++;
    }
    view.close();
    // Once no view reads it, the second connection is no longer followed.
    conn2.transact(genTx(rng, g2));
  }
}

describe('registered queries over other databases equal q and DataScript (seeded)', () => {
  it('random databases × multi-source queries × transactions on both', () => {
    for (const s of seeds(40, 9100)) replayable(s, () => runSeed(s));
    if (!process.env.FUZZ_SEED) {
      expect(followed).toBeGreaterThan(20);
      expect(checkedTx2).toBeGreaterThan(50);
    }
    console.log(`registered ${registered} views over $2 (${followed} following a connection), ${checkedTx2} checks after a $2 transaction`);
  });
});
