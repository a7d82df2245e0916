/**
 * Randomized differential test: random databases and queries (joins, predicates, functions,
 * not/not-join, or/or-join, recursive rules, aggregates, :with, errors) run on Dataloom and on the
 * datascript npm package; results or errors must agree.
 *
 * FUZZ_RUNS=n sets the number of cases (default 1000), FUZZ_BASE=b the first seed (default 1000);
 * FUZZ_ENTITIES=m the maximum entities per database (default 16); FUZZ_SEED=s replays one database's cases.
 */
import { describe, expect, it } from 'vitest';
import { genDb, genQuery, genTx, mulberry32, RULES } from '../gen/queries.js';
import { dsWith } from '../oracle/datascript.js';
import { DB, diff, world } from './harness.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : null;
const ENTITIES = Number(process.env.FUZZ_ENTITIES ?? 16);
const BASE = Number(process.env.FUZZ_BASE ?? 1000);
const QUERIES_PER_DB = 10;
const DBS_PER_TEST = 20;

function runSeed(seed: number): void {
  const rng = mulberry32(seed);
  const g = genDb(rng, ENTITIES);
  let w = world(g.schema, g.tx);
  const txs: string[] = [];
  for (let i = 0; i < QUERIES_PER_DB; i++) {
    if (i === QUERIES_PER_DB / 2) {
      // Half the queries run after random retractions/updates.
      for (let j = 0; j < 2; j++) {
        const tx = genTx(rng, g);
        txs.push(tx);
        w = { ours: w.ours.with(tx).dbAfter, ds: dsWith(w.ds, tx).db };
      }
    }
    const c = genQuery(rng, g);
    const d = c.rules ? diff(w, c.query, DB, RULES, ...c.inputs) : diff(w, c.query, DB, ...c.inputs);
    if (d !== null) expect.fail(`${d}\n  database: ${g.tx}\n  then: ${i >= QUERIES_PER_DB / 2 ? txs.join(' ') : '-'}\n  replay with FUZZ_SEED=${seed} (query #${i})`);
  }
}

describe('random queries agree with DataScript', () => {
  if (SEED !== null) {
    it(`seed ${SEED}`, () => runSeed(SEED));
    return;
  }
  const seeds = Array.from({ length: Math.ceil(RUNS / QUERIES_PER_DB) }, (_, i) => BASE + i);
  for (let i = 0; i < seeds.length; i += DBS_PER_TEST) {
    const batch = seeds.slice(i, i + DBS_PER_TEST);
    it(`seeds ${batch[0]}–${batch[batch.length - 1]} (${batch.length * QUERIES_PER_DB} queries)`, () => {
      for (const s of batch) runSeed(s);
    });
  }
});
