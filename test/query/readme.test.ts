/**
 * DataScript's README examples (Clojure and JS), written as EDN strings, run verbatim on Dataloom
 * and compared with the datascript npm package — and with the results the README prints.
 */
import { describe, expect, it } from 'vitest';
import { createDb, kw, parseEdn, printEdn } from '@dataloom/core';
import { q } from '@dataloom/query';
import { canonical } from '../oracle/datascript.js';
import { DB, diff, diffVs, world } from './harness.js';

const range = (a: number, b: number) => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);

describe('DataScript README (Clojure)', () => {
  it('implicit join, multi-valued attribute', () => {
    const schema = '{:aka {:db/cardinality :db.cardinality/many}}';
    const tx = '[{:db/id -1 :name "Maksim" :age 45 :aka ["Max Otto von Stierlitz", "Jack Ryan"]}]';
    const query = `[ :find  ?n ?a
                     :where [?e :aka "Max Otto von Stierlitz"]
                            [?e :name ?n]
                            [?e :age  ?a] ]`;
    const w = world(schema, tx);
    expect(diff(w, query, DB)).toBeNull();
    expect(printEdn(q(query, createDb(schema).with(tx).dbAfter))).toBe('#{["Maksim" 45]}');
  });

  it('destructuring, function call, predicate call, query over collection', () => {
    const query = `[ :find  ?k ?x
                     :in    [[?k [?min ?max]] ...] ?range
                     :where [(?range ?min ?max) [?x ...]]
                            [(even? ?x)] ]`;
    const input = parseEdn('{ :a [1 7], :b [2 4] }');
    expect(diff(world('{}'), query, input, range)).toBeNull();
    expect(canonical(q(query, input, range))).toBe(canonical(parseEdn('#{ [:a 2] [:a 4] [:a 6] [:b 2] }')));
  });

  it('recursive rule over a collection source', () => {
    const query = `[ :find  ?u1 ?u2
                     :in    $ %
                     :where (follows ?u1 ?u2) ]`;
    const data = parseEdn('[ [1 :follows 2] [2 :follows 3] [3 :follows 4] ]');
    const rules = `[ [(follows ?e1 ?e2)
                      [?e1 :follows ?e2]]
                     [(follows ?e1 ?e2)
                      [?e1 :follows ?t]
                      (follows ?t ?e2)] ]`;
    expect(diff(world('{}'), query, data, parseEdn(rules))).toBeNull();
    expect(canonical(q(query, data, rules))).toBe(canonical(parseEdn('#{ [1 2] [1 3] [1 4] [2 3] [2 4] [3 4] }')));
  });

  it('aggregates', () => {
    const query = `[ :find ?color (max ?amount ?x) (min ?amount ?x)
                     :in   [[?color ?x]] ?amount ]`;
    const input = parseEdn('[[:red 10]  [:red 20] [:red 30] [:red 40] [:red 50] [:blue 7] [:blue 8]]');
    expect(diff(world('{}'), query, input, 4)).toBeNull();
    expect(canonical(q(query, input, 4), { unordered: 'top' })).toBe(
      canonical(parseEdn('[[:red [20 30 40 50] [10 20 30 40]] [:blue [7 8] [7 8]]]'), { unordered: 'top' }),
    );
  });
});

describe('DataScript README (JS)', () => {
  const schema = { aka: { ':db/cardinality': ':db.cardinality/many' } };
  const datoms = [
    { ':db/id': -1, name: 'Ivan', age: 18, aka: ['X', 'Y'] },
    { ':db/id': -2, name: 'Igor', aka: ['Grigory', 'Egor'] },
  ];
  it('query with string attributes and a scalar input', () => {
    const w = world(schema, datoms);
    const query = '[:find ?n :in $ ?a :where [?e "name" ?n] [?e "age" ?a]]';
    // A string in an attribute position is the keyword (docs/CONTRACTS.md), as in DataScript's JS API.
    expect(diffVs(w, query, query.replace(/"(name|age)"/g, ':$1'), DB, 18)).toBeNull();
    expect(q(query, w.ours, 18)).toEqual(new Set([['Ivan']]));
  });
  it('entity lookup by attribute', () => {
    const w = world(schema, datoms);
    expect(diffVs(w, '[:find ?e :in $ ?a :where [?e "aka" ?a]]', '[:find ?e :in $ ?a :where [?e :aka ?a]]', DB, 'Egor')).toBeNull();
    expect(q('[:find ?e . :in $ ?a :where [?e :aka ?a]]', w.ours, 'Egor')).toBe(2);
  });
});

describe('DataScript docs: query features', () => {
  const w = world(
    '{:friend {:db/valueType :db.type/ref} :email {:db/unique :db.unique/identity}}',
    '[{:db/id 1 :name "Ivan" :email "ivan@e" :age 30 :friend 2} {:db/id 2 :name "Petr" :email "petr@e" :age 20} {:db/id 3 :name "Oleg" :age 40}]',
  );
  const cases: [string, ...unknown[]][] = [
    ['[:find ?e ?name :keys id name :where [?e :name ?name]]'],
    ['[:find (pull ?e [:name {:friend [:name]}]) :where [?e :age 30]]'],
    ['[:find ?e ?a :in $ ?e :where [?e :age ?a]]', [kw('email'), 'petr@e']],
    ['[:find ?name ?fname :where [?e :name ?name] [(get-else $ ?e :friend "none") ?f] [(get-else $ ?f :name "nobody") ?fname]]'],
    ['[:find ?name :where [?e :name ?name] [(missing? $ ?e :friend)]]'],
    ['[:find ?e :where [?e :age ?a] [(ground [20 40]) [?a ...]]]'],
    ['[:find (count ?e) . :where [?e :name]]'],
    ['[:find ?e :where [?e :age ?a] (not [(> ?a 25)])]'],
  ];
  for (const [query, ...inputs] of cases) {
    it(query, () => expect(diff(w, query, DB, ...inputs)).toBeNull());
  }
});
