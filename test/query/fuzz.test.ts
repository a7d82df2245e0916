/**
 * Randomized differential test: random databases and queries (joins, predicates, functions,
 * not/not-join, or/or-join, recursive rules, aggregates, :with, errors) run on Dataloom and on the
 * datascript npm package; results or errors must agree.
 *
 * FUZZ_RUNS=n sets the number of cases (default 1000); FUZZ_SEED=s replays one case.
 */
import { describe, expect, it } from 'vitest';
import { genDb, genQuery, mulberry32, RULES } from '../gen/queries.js';
import { DB, diff, world } from './harness.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : null;
const QUERIES_PER_DB = 10;

describe('random queries agree with DataScript', () => {
  it(`${SEED !== null ? 'seed ' + SEED : RUNS + ' cases'}`, () => {
    const seeds = SEED !== null ? [SEED] : Array.from({ length: Math.ceil(RUNS / QUERIES_PER_DB) }, (_, i) => 1000 + i);
    let cases = 0;
    for (const seed of seeds) {
      const rng = mulberry32(seed);
      const g = genDb(rng);
      const w = world(g.schema, g.tx);
      for (let i = 0; i < QUERIES_PER_DB; i++) {
        const c = genQuery(rng, g);
        const d = c.rules ? diff(w, c.query, DB, RULES) : diff(w, c.query, DB);
        cases++;
        if (d !== null) {
          expect.fail(`${d}\n  database: ${g.tx}\n  replay with FUZZ_SEED=${seed} (query #${i})`);
        }
      }
    }
    expect(cases).toBeGreaterThan(0);
  });
});
