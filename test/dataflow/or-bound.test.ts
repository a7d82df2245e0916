/**
 * A value bound by a function outside an `or` and used inside it: the engine evaluated the outer
 * body once for the branches' demand and once for the join back, so a value keyed by identity (a
 * fresh RegExp from `re-pattern` each time) never joined — the view was empty where `q` and
 * DataScript find rows. Regexes are keyed by flags and source (core edn/key.ts), and a body before
 * a call that calls a function is now evaluated once (a supplementary relation, see the second
 * block and packages/dataflow/DESIGN.md "Demand").
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

/**
 * The body before an `or`/`or-join`/`not-join`/rule call is evaluated once per binding (a
 * supplementary relation read by the call's demand and by the join back): a function returning a
 * fresh object per call joins with itself, and runs once per binding at registration and per
 * changed binding afterwards (it ran twice before). Retracting finds the asserted value again
 * (the engine keeps the first identity-keyed result per arguments).
 */
class Box {
  constructor(readonly x: unknown) {}
}
describe('a fresh object per call, bound before the call and used inside it: one evaluation', () => {
  const shapes: Record<string, { q: string; rules?: string; rows: string[] }> = {
    'or-join': {
      q: '[:find ?e ?y :in $ ?box ?unbox :where [?e :t ?x] [(?box ?x) ?b] (or-join [?e ?b] (and [?e :n ?n] [(< ?n 3)] [(some? ?b)]) (and [(identity ?b) ?c] [(= ?c ?b)] [?e :t "priv"])) [(?unbox ?b) ?y]]',
      rows: ['3\u0001"priv', '4\u0001"x'],
    },
    or: {
      q: '[:find ?e ?y :in $ ?box ?unbox :where [?e :t ?x] [(?box ?x) ?b] (or (and [?e :n 9] [(some? ?b)]) (and [(= ?b ?b)] [?e :n 1])) [(?unbox ?b) ?y]]',
      rows: ['2\u0001"pub-b', '4\u0001"x'],
    },
    'not-join': {
      q: '[:find ?e ?y :in $ ?box ?unbox :where [?e :t ?x] [(?box ?x) ?b] (not-join [?e ?b] [(identity ?b) ?c] [(= ?c ?b)] [?e :n ?n] [(> ?n 6)]) [(?unbox ?b) ?y]]',
      rows: ['1\u0001"pub-a', '4\u0001"x'],
    },
    'rule call': {
      q: '[:find ?e ?y :in $ % ?box ?unbox :where [?e :t ?x] [(?box ?x) ?b] (r ?e ?b) [(?unbox ?b) ?y]]',
      rules: '[[(r ?e ?b) [(identity ?b) ?c] [(= ?c ?b)] [?e :n 5]] [(r ?e ?b) [?e :n 1] [(some? ?b)]]]',
      rows: ['1\u0001"pub-a', '4\u0001"x'],
    },
  };
  for (const [name, { q, rules, rows }] of Object.entries(shapes)) {
    it(name, () => {
      let calls = 0;
      const box = (x: unknown) => {
        calls++;
        return new Box(x);
      };
      const plainBox = (x: unknown) => new Box(x);
      const unbox = (b: Box) => b.x;
      const h = new DsHarness();
      h.transact(data);
      h.settle();
      const pre = rules ? [rules] : [];
      const out = h.register(name, q, ...pre, box, unbox);
      expect(calls, 'registration: once per [?e :t ?x] binding').toBe(4);
      expect(rowsOf(out)).toEqual(h.oracle(q, ...pre, plainBox, unbox));
      expect(rowsOf(out)).toEqual(rows);
      calls = 0;
      h.transact([{ ':db/id': 5, t: 'pub-c', n: 1 }]);
      expect(calls, 'an inserted binding: once').toBe(1);
      expect(rowsOf(out)).toEqual(h.oracle(q, ...pre, plainBox, unbox));
      calls = 0;
      h.transact([[':db/retract', 4, 't', 'x']]);
      expect(calls, 'a retracted binding: once').toBe(1);
      expect(rowsOf(out)).toEqual(h.oracle(q, ...pre, plainBox, unbox));
      calls = 0;
      h.transact([[':db/add', 1, 'n', 9], [':db/add', 3, 'n', 1]]);
      expect(calls, 'a change inside the call only: no call').toBe(0);
      expect(rowsOf(out)).toEqual(h.oracle(q, ...pre, plainBox, unbox));
      h.settle();
    });
  }
});
