/**
 * Property test for a value bound by a function before an `or`/`or-join`/`not-join`/rule call and
 * used inside it (a body before the call that calls an input function is evaluated once, as a
 * supplementary relation read by both the call's demand and the join back; one calling only
 * built-ins is evaluated again, an identity-keyed result remembered). Random databases (test/gen/queries.ts), a
 * random prefix binding `?b` through a function — a fresh class instance per call from an `:in`
 * function, a vector, a string — then a random call shape reading `?b`, then random transactions;
 * after each the view equals one-shot `q` on the new database.
 *
 * `FUZZ_RUNS` scales the number of cases, `FUZZ_SEED` replays one.
 */
import { describe, expect, it } from 'vitest';
import { q } from '@dataloom/query';
import { createConn } from '@dataloom/dataflow';
import { ATTRS, genDb, genTx, int, type Rng } from '../gen/queries.js';
import { mulberry32, pick, replayable, seeds } from '../gen/prng.js';
import { canonRows } from './canon.js';

class Box {
  constructor(readonly x: unknown) {}
}
const box = (x: unknown): Box => new Box(x);
const unbox = (b: unknown): unknown => (b instanceof Box ? b.x : b);

const PLAIN = ATTRS.filter((a) => a.kind !== 'ref').map((a) => a.name);
const cst = (rng: Rng, a: string): string => (a === ':s' ? pick(rng, ['"x"', '"y"', '"z"']) : a === ':k' ? pick(rng, [':k/a', ':k/b', ':c']) : String(int(rng, 0, 5)));

function genCase(rng: Rng): { query: string; rules: string | null } {
  const a1 = pick(rng, PLAIN);
  const prefix = [`[?e ${a1} ?v]`];
  if (rng() < 0.3) prefix.push(`[?e ${pick(rng, PLAIN)} _]`);
  prefix.push(pick(rng, ['[(?box ?v) ?b]', '[(vector ?v ?e) ?b]', '[(str ?v "!") ?b]', '[(?box ?v) ?b]']));
  if (rng() < 0.3) prefix.push(`[(some? ?v)]`);
  const a2 = pick(rng, PLAIN);
  const a3 = pick(rng, PLAIN);
  const useB = '[(identity ?b) ?c] [(= ?c ?b)]';
  let call: string;
  let rules: string | null = null;
  switch (int(rng, 0, 4)) {
    case 0:
      call = `(or (and [?e ${a2} ${cst(rng, a2)}] [(some? ?b)]) (and [(= ?b ?b)] [?e ${a3} _]))`;
      break;
    case 1:
      call = `(or-join [?e ?b] (and [?e ${a2} ?w] [(some? ?b)]) (and ${useB} [?e ${a3} ${cst(rng, a3)}]))`;
      break;
    case 2:
      call = `(not-join [?e ?b] ${useB} [?e ${a2} ${cst(rng, a2)}])`;
      break;
    case 3:
      call = `(or-join [?e ?b] (not-join [?e ?b] ${useB} [?e ${a2} _]) (and [?e ${a3} ?w] [(some? ?b)]))`;
      break;
    default:
      call = '(r ?e ?b)';
      rules = `[[(r ?e ?b) ${useB} [?e ${a2} _]] [(r ?e ?b) [?e ${a3} ${cst(rng, a3)}] [(some? ?b)]]]`;
  }
  const after = rng() < 0.5 ? ` [?e ${pick(rng, PLAIN)} _]` : '';
  const query = `[:find ?e ?y :in $ ${rules ? '% ' : ''}?box ?unbox :where ${prefix.join(' ')} ${call}${after} [(?unbox ?b) ?y]]`;
  return { query, rules };
}

function runCase(seed: number): void {
  const rng = mulberry32(seed);
  const db = genDb(rng, 8);
  const { query, rules } = genCase(rng);
  const inputs = [...(rules ? [rules] : []), box, unbox];
  const conn = createConn(db.schema);
  conn.transact(db.tx);
  const canon = (r: unknown) => canonRows(r, 9);
  const ctx0 = `seed ${seed}: ${query} ${rules ?? ''}`;
  const view = conn.register('or-bound', query, ...inputs);
  expect(canon(view.result()), ctx0).toEqual(canon(q(query, conn.db(), ...inputs)));
  for (let i = 0; i < 10; i++) {
    const tx = genTx(rng, db);
    conn.transact(tx);
    expect(canon(view.result()), `${ctx0}\nafter tx ${i} ${tx}`).toEqual(canon(q(query, conn.db(), ...inputs)));
  }
  view.close();
}

describe('a function-bound value used inside or / or-join / not-join / a rule (seeded)', () => {
  const ss = seeds(150, 7001);
  it(`${ss.length} random databases × call shapes × 10 transactions (seeds ${ss[0]}…)`, () => {
    for (const s of ss) replayable(s, () => runCase(s));
  });
});
