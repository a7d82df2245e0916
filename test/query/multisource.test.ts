/**
 * Seeded differential test of multi-source queries (`$2`, collection sources, sources on
 * `not`/`or`/`not-join`/`or-join`, rules over other sources, pull with a source or a pattern input,
 * functions with source arguments): Dataloom and the datascript npm package must agree on results or
 * both throw. Generator: `test/gen/multisource.ts`.
 *
 * FUZZ_RUNS=n databases (default 60, 10 queries each), FUZZ_SEED=s replays one database's queries.
 */
import { parseEdn } from '@dataloom/core';
import { q } from '@dataloom/query';
import { describe, expect, it } from 'vitest';
import { genMultiQuery, MS_RULES } from '../gen/multisource.js';
import { seeds } from '../gen/prng.js';
import { genDb, mulberry32 } from '../gen/queries.js';
import { DB, dbOf, diff, world } from './harness.js';

const QUERIES_PER_DB = 10;

function runSeed(seed: number): void {
  const rng = mulberry32(seed);
  const g = genDb(rng, 10);
  const g2 = genDb(rng, 10);
  const w = world(g.schema, g.tx);
  const w2 = world(g2.schema, g2.tx);
  for (let i = 0; i < QUERIES_PER_DB; i++) {
    const c = genMultiQuery(rng, { ...g, n: Math.max(g.n, g2.n) });
    const inputs = c.ins.map((name) => {
      if (name === '$') return DB;
      if (name === '$2') return dbOf(w2);
      if (name === '$c') return parseEdn(c.coll);
      if (name === '%') return MS_RULES;
      return parseEdn(c.pat);
    });
    const d = diff(w, c.query, ...inputs);
    if (d !== null) {
      expect.fail(
        `${d}\n  $: ${g.tx}\n  $2: ${g2.tx}\n  $c: ${c.coll}\n  ?pat: ${c.pat}\n  replay with FUZZ_SEED=${seed} (query #${i})`,
      );
    }
  }
}

describe('random multi-source queries agree with DataScript', () => {
  const all = seeds(60, 5000);
  for (let i = 0; i < all.length; i += 20) {
    const batch = all.slice(i, i + 20);
    it(`seeds ${batch[0]}–${batch[batch.length - 1]}`, () => {
      for (const s of batch) runSeed(s);
    });
  }
});

describe('typed errors for sources that cannot serve a clause', () => {
  const w = world('{}', '[{:db/id 1 :a 1}]');
  const codeOf = (query: string, ...inputs: unknown[]): { code?: string; message?: string } => {
    try {
      q(query, ...inputs);
    } catch (e) {
      return e as { code?: string; message?: string };
    }
    return {};
  };
  it('a database function over a collection source says which function and which source', () => {
    const e = codeOf('[:find ?v :in $ $c :where [?e :a _] [(get-else $c ?e :b 0) ?v]]', w.ours, [[1, 2]]);
    expect(e.code).toBe('query/source');
    expect(e.message).toContain('get-else');
    expect(e.message).toContain('$c');
  });
  it('pull over a collection source says which source', () => {
    const e = codeOf('[:find (pull $c ?e [:a]) :in $ $c :where [?e :a _]]', w.ours, [[1, 2]]);
    expect(e.code).toBe('query/source');
    expect(e.message).toContain('$c');
  });
});
