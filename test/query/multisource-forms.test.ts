/**
 * Hand-written multi-source forms beyond the random generator of `multisource.test.ts`, each run
 * by `q` and by DataScript (1.8.1) on the same inputs: results equal or both throw. Forms: a
 * collection as the default source of `not`/`or`/rule calls, rules calling rules under another
 * source, `$` written inside a `$2` body, a user function given
 * a source, queries without `$`, collections of uneven tuples, lookup refs resolved against `$2`. (Required rule variables `[?e]` are left out: DataScript 1.8.1
 * returns a cross product for them, see `test/gen/multisource.ts`.)
 */
import { parseEdn } from '@dataloom/core';
import { describe, expect, it } from 'vitest';
import { DB, dbOf, diff, world } from './harness.js';

const SCHEMA = '{:ref {:db/valueType :db.type/ref} :name {:db/unique :db.unique/identity}}';
const w = world(SCHEMA, '[{:db/id 1 :name "a" :a 1 :ref 2} {:db/id 2 :name "b" :a 2 :ref 3} {:db/id 3 :name "c" :a 3 :b 1}]');
const w2 = world(SCHEMA, '[{:db/id 1 :name "c" :a 10 :ref 3} {:db/id 2 :name "b" :b 5} {:db/id 3 :name "a" :a 30 :ref 1}]');
const $2 = dbOf(w2);
const RULES = `[[(r ?a ?b) [?a :ref ?b]]
  [(r ?a ?b) [?a :ref ?x] (r ?x ?b)]
  [(via ?a ?b) (r ?a ?b)]
  [(mixed ?e) [?e :a _] ($ not [?e :b _])]
  [(pair ?x ?y) [?x ?y]]]`;

const cases: [string, string, ...unknown[]][] = [
  ['rule calling a rule under $2', '[:find ?a ?b :in $ $2 % :where ($2 via ?a ?b)]', DB, $2, RULES],
  ['$ written inside a rule called over $2', '[:find ?e :in $ $2 % :where ($2 mixed ?e)]', DB, $2, RULES],
  ['collection as the default source of not', '[:find ?e :in $ $c :where [?e :a ?v] ($c not [?e ?v])]', DB, [[1, 1], [2, 5]]],
  ['collection as the default source of or', '[:find ?e :in $ $c :where [?e :a _] ($c or [?e 1] [?e 3])]', DB, [[1, 1], [3, 3], [2, 7]]],
  ['collection as the default source of a rule', '[:find ?x ?y :in $ $c % :where ($c pair ?x ?y)]', DB, [[1, 2], [3, 4]], RULES],
  ['collection with uneven tuples', '[:find ?x ?y ?z :in $ $c :where [$c ?x ?y ?z]]', DB, [[1, 2, 3], [4, 5], [6, 7, 8, 9]]],
  ['no $ at all', '[:find ?n :in $2 :where [$2 ?e :name ?n]]', $2],
  ['a clause without source and no $', '[:find ?n :in $2 :where [?e :name ?n]]', $2],
  ['join $ and $2 on a value', '[:find ?e ?f :in $ $2 :where [?e :name ?n] [$2 ?f :name ?n]]', DB, $2],
  ['lookup ref resolved against $2', '[:find ?v :in $ $2 :where [$2 [:name "c"] :a ?v]]', DB, $2],
  ['lookup ref input used over $2', '[:find ?v :in $ $2 ?e :where [$2 ?e :a ?v]]', DB, $2, parseEdn('[:name "c"]')],
  ['not-join over $2 inside or over $', '[:find ?e :in $ $2 :where [?e :a _] (or [?e :b _] ($2 not-join [?e] [?e :a _]))]', DB, $2],
  ['get-else and missing? over $2', '[:find ?e ?x :in $ $2 :where [?e :a _] [(get-else $2 ?e :b 0) ?x] [(missing? $2 ?e :ref)]]', DB, $2],
  ['pull from $2 with a pattern input', '[:find (pull $2 ?e ?p) :in $ $2 ?p :where [?e :a 1]]', DB, $2, parseEdn('[:name :a]')],
  ['pull from $ and $2 side by side', '[:find (pull ?e [:name]) (pull $2 ?e [:name]) :in $ $2 :where [?e :a _] [$2 ?e :name _]]', DB, $2],
  ['a source passed to a user function', '[:find ?x :in $ $2 ?f :where [?e :a 1] [(?f $2 ?e) ?x]]', DB, $2, (db: unknown, e: unknown) => `${typeof db === 'object' && db !== null}:${String(e)}`],
  ['aggregate over a $2 join', '[:find (count ?f) . :in $ $2 :where [?e :name ?n] [$2 ?f :name ?n]]', DB, $2],
  ['unknown source', '[:find ?e :in $ :where [$9 ?e :a _]]', DB],
  ['source not given', '[:find ?e :in $ $2 :where [$2 ?e :a _]]', DB],
];

describe('hand-written multi-source forms agree with DataScript', () => {
  for (const [name, query, ...inputs] of cases) {
    it(name, () => {
      const d = diff(w, query, ...inputs);
      expect(d, d ?? '').toBeNull();
    });
  }
});
