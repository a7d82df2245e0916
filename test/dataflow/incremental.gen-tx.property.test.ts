/**
 * Property test on the core engineer's transaction generator (`test/gen/transactions.ts`): its
 * schema (unique identity, components, card-many refs, keyword values) and its full transaction
 * language (nested maps, reverse refs, tempids, upserts, retractEntity, cas, deliberate errors).
 * After every transaction — including rejected ones, which must change nothing — every view's
 * result and integrated diffs equal one-shot `q` on the new database.
 *
 * `FUZZ_RUNS` scales the number of seeds (default 40), `FUZZ_SEED` replays one.
 */
import { describe, expect, it } from 'vitest';
import { printEdn, type Diff } from '@dataloom/core';
import { q } from '@dataloom/query';
import { createConn, type View } from '@dataloom/dataflow';
import { GEN_SCHEMA, genTx, mulberry32 } from '../gen/transactions.js';
import { canonRows, norm as normAt } from './canon.js';

const RUNS = Math.max(1, Math.round(Number(process.env.FUZZ_RUNS ?? 100) * 0.4));
const FIXED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : null;

const RULES = `[[(up ?a ?b) [?a :person/boss ?b]]
 [(up ?a ?b) [?a :person/boss ?x] (up ?x ?b)]
 [(knows ?a ?b) [?a :person/friend ?b]]
 [(knows ?a ?b) [?a :person/friend ?x] (knows ?x ?b)]]`;

const QUERIES: [string, unknown[]][] = [
  ['[:find ?e ?n :where [?e :person/name ?n]]', []],
  ['[:find ?n ?a :where [?e :person/name ?n] [?e :person/age ?a] [(> ?a 30)]]', []],
  ['[:find ?e ?f :where [?e :person/friend ?f] [?f :person/friend ?e]]', []],
  ['[:find ?s (count ?e) :where [?e :person/status ?s]]', []],
  ['[:find ?e :where [?e :person/name] (not [?e :person/pet])]', []],
  ['[:find ?t (count-distinct ?e) :where [?e :person/tag ?t]]', []],
  ['[:find ?e ?pn :where [?e :person/pet ?p] [?p :pet/name ?pn]]', []],
  ['[:find ?a ?b :in $ % :where (up ?a ?b)]', [RULES]],
  ['[:find ?a (count ?b) :in $ % :where (knows ?a ?b)]', [RULES]],
  ['[:find ?e ?n :in $ % :where [?e :person/name ?n] (not (knows ?e ?e))]', [RULES]],
  ['[:find (pull ?e [:person/name {:person/pet [:pet/name]}]) :where [?e :person/age ?a] [(< ?a 40)]]', []],
  ['[:find (pull ?e [*]) :where [?e :person/status _]]', []],
  ['[:find ?n (max ?a) (min ?a) (sum ?a) :with ?e :where [?e :person/boss ?b] [?b :person/name ?n] [?e :person/age ?a]]', []],
  ['[:find ?e ?x :where [?e :person/name _] [(get-else $ ?e :person/email "none") ?x]]', []],
];

const norm = (v: unknown): string => normAt(v, 10);
const canon = (r: unknown): string[] => canonRows(r, 10);

function runCase(seed: number): void {
  const rnd = mulberry32(seed);
  const conn = createConn(GEN_SCHEMA);
  const lives: { text: string; inputs: unknown[]; view: View; integrated: Map<string, number> }[] = [];
  const picks = QUERIES.filter(() => rnd() < 0.5);
  for (const [text, inputs] of picks.length > 0 ? picks : QUERIES.slice(0, 2)) {
    const view = conn.register(`g/${lives.length}`, text, ...inputs);
    const live = { text, inputs, view, integrated: new Map<string, number>() };
    view.subscribe((diffs: Diff[]) => {
      for (const [row, , m] of diffs) {
        const k = norm(row);
        const n = (live.integrated.get(k) ?? 0) + m;
        if (n === 0) live.integrated.delete(k);
        else live.integrated.set(k, n);
      }
    });
    lives.push(live);
  }
  for (let i = 0; i < 40; i++) {
    const tx = genTx(rnd, { maxEid: conn.db().maxEid, errorRate: 0.05 });
    try {
      conn.transact(tx);
    } catch (e) {
      if (!(e as { code?: string }).code) throw e;
    }
    for (const l of lives) {
      const expected = canon(q(l.text, conn.db(), ...l.inputs));
      const ctx = `seed ${seed} tx ${i} ${printEdn(tx as never)}\n${l.text}\nreplay with FUZZ_SEED=${seed}`;
      expect(canon(l.view.result()), ctx).toEqual(expected);
      const integ: string[] = [];
      for (const [k, n] of l.integrated) for (let j = 0; j < n; j++) integ.push(k);
      expect(integ.sort(), ctx).toEqual(expected);
    }
  }
}

describe('incremental maintenance on the core transaction generator (seeded)', () => {
  if (FIXED !== null) {
    it(`seed ${FIXED}`, () => runCase(FIXED));
    return;
  }
  it(`${RUNS} seeds × 40 transactions`, () => {
    for (let s = 1; s <= RUNS; s++) runCase(s * 104729);
  });
});
