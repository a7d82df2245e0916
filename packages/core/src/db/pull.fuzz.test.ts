/**
 * Differential fuzz of the Pull API: random databases (test/gen/transactions.ts) and random
 * patterns (wildcard, nested, reverse, component, limit, default, :as, recursion) pulled on every
 * entity by Dataloom and by the datascript npm package. FUZZ_RUNS widens, FUZZ_SEED replays.
 */
import { describe, expect, it } from 'vitest';
import { canonical, dsCreateDb, dsPull, dsTry, dsWith } from '@dataloom/test/oracle/datascript.js';
import { DS_GEN_SCHEMA, GEN_SCHEMA, genTx, mulberry32 } from '@dataloom/test/gen/transactions.js';
import { printEdn } from '../edn/index.js';
import { createDb } from './database.js';
import { pull } from './pull.js';

function seeds(n: number): number[] {
  if (process.env.FUZZ_SEED) return [Number(process.env.FUZZ_SEED)];
  const runs = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : n;
  return Array.from({ length: runs }, (_, i) => 5000 + i);
}

const PLAIN = [':person/name', ':person/age', ':person/tag', ':person/email', ':person/status', ':person/alias', ':pet/name', ':person/nick', ':db/id'];
const REFS = [':person/friend', ':person/boss', ':person/pet', ':person/likes'];
const REVERSE = [':person/_friend', ':person/_boss', ':person/_pet', ':person/_likes'];

function genPattern(rnd: () => number, depth: number): string {
  const pick = <T,>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const items: string[] = [];
  const n = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.1) items.push('*');
    else if (r < 0.4) items.push(pick(PLAIN));
    else if (r < 0.5) items.push(`[${pick(PLAIN.slice(0, 8))} :default ${Math.floor(rnd() * 9)}]`);
    else if (r < 0.55) items.push(`[${pick(PLAIN.slice(0, 8))} :as :x${i}]`);
    else if (r < 0.62) items.push(`[${pick([':person/tag', ':person/alias'])} :limit ${1 + Math.floor(rnd() * 2)}]`);
    else if (r < 0.72) items.push(pick([...REFS, ...REVERSE]));
    else if (r < 0.85 && depth < 2) items.push(`{${pick([...REFS, ...REVERSE])} ${genPattern(rnd, depth + 1)}}`);
    else items.push(`{${pick([':person/friend', ':person/boss', ':person/_friend', ':person/likes'])} ${pick(['...', '1', '2'])}}`);
  }
  return `[${items.join(' ')}]`;
}

describe('pull vs DataScript (random)', () => {
  for (const seed of seeds(12)) {
    it(`seed ${seed}`, () => {
      try {
        const rnd = mulberry32(seed);
        let db = createDb(GEN_SCHEMA);
        let ds = dsCreateDb(DS_GEN_SCHEMA);
        for (let i = 0; i < 25; i++) {
          const tx = genTx(rnd, { maxEid: db.maxEid, maxForms: 5, retractRate: 0.15 });
          const theirs = dsTry(() => dsWith(ds, tx));
          if (!theirs.ok) continue;
          db = db.with(tx).dbAfter;
          ds = theirs.value.db;
        }
        // Known divergences, not compared (see DESIGN.md): where DataScript 1.8.1 cuts a cycle that
        // runs through components — an entity that is its own component, or a reverse component
        // ref followed by a subpattern — differs in ways we did not reproduce.
        const selfComponent = ['person/pet', 'person/likes'].some((a) => db.datoms('aevt', a).some((d) => d.v === d.e));
        for (let k = 0; k < 15; k++) {
          const pattern = genPattern(rnd, 0);
          if (selfComponent || /\{:person\/_(pet|likes) /.test(pattern)) continue;
          for (let e = 1; e <= db.maxEid + 1; e++) {
            const want = dsTry(() => dsPull(ds, pattern, e));
            if (!want.ok) {
              // DataScript 1.8.1 rejects attribute options on reverse refs; everything else must agree
              continue;
            }
            expect(canonical(pull(db, pattern, e)), `${pattern} on ${e}: ${printEdn(want.value)}`).toBe(canonical(want.value));
          }
        }
      } catch (err) {
        console.error(`replay with FUZZ_SEED=${seed}`);
        throw err;
      }
    });
  }
});
