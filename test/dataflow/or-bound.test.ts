/**
 * A value bound by a function outside an `or` and used inside it: the engine evaluates the outer
 * body once for the branches' demand and once for the join back, so a value keyed by identity (a
 * fresh RegExp from `re-pattern` each time) never joined — the view was empty where `q` and
 * DataScript find rows. Regexes are now keyed by flags and source (core edn/key.ts).
 */
import { describe, expect, it } from 'vitest';
import { DsHarness, rowsOf } from './ds-harness.js';

const data = [
  { ':db/id': 1, t: 'pub-a', n: 5 }, { ':db/id': 2, t: 'pub-b', n: 9 }, { ':db/id': 3, t: 'priv', n: 7 }, { ':db/id': 4, t: 'x', n: 1 },
];
const cases: Record<string, string> = {
  rule: '[:find ?e :in $ % :where (r ?e)]',
  direct: '[:find ?e :where [?e :t] [(re-pattern "^pub") ?re] (or (and [?e :t ?x] [(re-find ?re ?x)]) (and [?e :n ?x] [(< ?x 3)] [(some? ?re)]))]',
  str: '[:find ?e :where [?e :t] [(str "pub") ?p] (or (and [?e :t ?x] [(clojure.string/starts-with? ?x ?p)]) (and [?e :n ?x] [(< ?x 3)] [(some? ?p)]))]',
  strfirst: '[:find ?e :where [?e :t] [(str "pub") ?p] (or (and [?e :t ?x] [(clojure.string/starts-with? ?x ?p)]) (and [?e :n ?x] [(< ?x 3)]))]',
};
const rules = '[[(r ?e) [?e :t] [(re-pattern "^pub") ?re] (or (and [?e :t ?x] [(re-find ?re ?x)]) (and [?e :n ?x] [(< ?x 3)] [(some? ?re)]))]]';
describe('a function-bound value used inside or (issue 12)', () => {
  for (const [name, q] of Object.entries(cases)) {
    it(name, () => {
      const h = new DsHarness();
      h.transact(data);
      h.settle();
      const args = name === 'rule' ? [rules] : [];
      const out = h.register(name, q, ...args);
      expect(rowsOf(out)).toEqual(h.oracle(q, ...args));
      expect(rowsOf(out)).toEqual(['1', '2', '4']);
      h.transact([{ ':db/id': 5, t: 'pub-c', n: 8 }, [':db/add', 3, 'n', 2], [':db/retract', 1, 't', 'pub-a']]);
      expect(rowsOf(out)).toEqual(h.oracle(q, ...args));
      h.settle();
    });
  }
});
