import { describe, expect, it } from 'vitest';
import { Keyword, kw, List, parseEdn, printEdn, sym, Uuid } from '@dataloom/core';
import {
  canonical,
  dsCreateDb,
  DsDb,
  dsDatoms,
  dsErrorCode,
  dsInitDb,
  dsPull,
  dsPullMany,
  dsQ,
  dsTry,
  dsWith,
  ds,
  fromCljs,
  withRaw,
  dsPrepareTx,
  toCljs,
} from './datascript.js';

const people = () =>
  dsWith(
    dsCreateDb('{:aka {:db/cardinality :db.cardinality/many} :friend {:db/valueType :db.type/ref} :email {:db/unique :db.unique/identity}}'),
    `[{:db/id -1 :name "Ivan" :age 18 :aka ["X" "Y"] :email "ivan@x"}
      {:db/id -2 :name "Igor" :age 25 :friend -1}
      {:db/id -3 :name "Petr" :age 25 :friend -2}]`,
  ).db;

describe('DataScript README examples', () => {
  it('implicit join, multi-valued attribute (Clojure README)', () => {
    const db0 = dsCreateDb('{:aka {:db/cardinality :db.cardinality/many}}');
    const { db } = dsWith(db0, '[{:db/id -1 :name "Maksim" :age 45 :aka ["Max Otto von Stierlitz", "Jack Ryan"]}]');
    const r = dsQ('[:find ?n ?a :where [?e :aka "Max Otto von Stierlitz"] [?e :name ?n] [?e :age ?a]]', db);
    expect(r).toEqual(new Set([['Maksim', 45]]));
  });

  it('destructuring, function call, predicate call, query over collection (Clojure README)', () => {
    const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
    const r = dsQ(
      '[:find ?k ?x :in [[?k [?min ?max]] ...] ?range :where [(?range ?min ?max) [?x ...]] [(even? ?x)]]',
      new Map([[kw('a'), [1, 7]], [kw('b'), [2, 4]]]),
      range,
    );
    expect(canonical(r)).toBe(canonical(parseEdn('#{[:a 2] [:a 4] [:a 6] [:b 2]}')));
    expect([...(r as Set<unknown[]>)].every((t) => t[0] instanceof Keyword)).toBe(true);
  });

  it('JS README: schema and entities as JS objects, string attributes', () => {
    const db0 = dsCreateDb({ aka: { ':db/cardinality': ':db.cardinality/many' } });
    const { db } = dsWith(db0, [
      { ':db/id': -1, name: 'Ivan', age: 18, aka: ['X', 'Y', 'Z'] },
      { ':db/id': -2, name: 'Igor', aka: ['Grigory', 'Egor'] },
    ]);
    // A string in an attribute position means the keyword (docs/CONTRACTS.md).
    const r = dsQ([kw('find'), sym('?n'), kw('in'), sym('$'), sym('?a'), kw('where'), [sym('?e'), 'name', sym('?n')], [sym('?e'), ':age', sym('?a')]], db, 18);
    expect(r).toEqual(new Set([['Ivan']]));
    expect(dsQ('[:find ?n :in $ ?a :where [?e :name ?n] [?e :age ?a]]', db, 18)).toEqual(new Set([['Ivan']]));
  });

  it('rules with recursion (%)', () => {
    const db = people();
    const rules = '[[(follows ?a ?b) [?a :friend ?b]] [(follows ?a ?b) [?a :friend ?x] (follows ?x ?b)]]';
    const r = dsQ('[:find ?n2 :in $ % ?n1 :where [?a :name ?n1] (follows ?a ?b) [?b :name ?n2]]', db, rules, 'Petr');
    expect(r).toEqual(new Set([['Igor'], ['Ivan']]));
    // Rules as data with a string attribute.
    const rulesData = [[new List([sym('follows'), sym('?a'), sym('?b')]), [sym('?a'), 'friend', sym('?b')]]];
    expect(dsQ('[:find ?b :in $ % :where [?a :name "Petr"] (follows ?a ?b)]', db, rulesData)).toEqual(new Set([[2]]));
  });
});

describe('result kinds follow DataScript', () => {
  const db = people();
  it('relation → Set of arrays; attributes come back as interned Keywords', () => {
    const r = dsQ('[:find ?a :where [1 ?a]]', db) as Set<unknown[]>;
    expect(r).toBeInstanceOf(Set);
    for (const [a] of r) expect(a).toBe(kw((a as Keyword).fqn));
    expect(new Set([...r].map(([a]) => (a as Keyword).fqn))).toEqual(new Set(['name', 'age', 'aka', 'email']));
  });
  it('collection, scalar, tuple finds', () => {
    expect((dsQ('[:find [?n ...] :where [_ :name ?n]]', db) as string[]).sort()).toEqual(['Igor', 'Ivan', 'Petr']);
    expect(dsQ('[:find ?n . :where [1 :name ?n]]', db)).toBe('Ivan');
    expect(dsQ('[:find ?n . :where [99 :name ?n]]', db)).toBe(null);
    expect(dsQ('[:find [?n ?a] :where [1 :name ?n] [1 :age ?a]]', db)).toEqual(['Ivan', 18]);
  });
  it(':with and aggregates → Array; aggregate over no rows', () => {
    expect(dsQ('[:find ?a :with ?e :where [?e :age ?a]]', db)).toEqual(expect.arrayContaining([[25], [25], [18]]));
    expect(dsQ('[:find ?a :with ?e :where [?e :age ?a]]', db)).toHaveLength(3);
    expect(canonical(dsQ('[:find ?a (count ?e) :where [?e :age ?a]]', db), { unordered: 'top' })).toBe('[[18 1] [25 2]]');
    // Without :with the aggregate sees the *set* of ?a values: 18 + 25.
    expect(dsQ('[:find (sum ?a) . :where [_ :age ?a]]', db)).toBe(43);
    expect(dsQ('[:find (sum ?a) . :with ?e :where [?e :age ?a]]', db)).toBe(68);
    expect(dsQ('[:find (count ?e) :where [?e :name "nobody"]]', db)).toEqual([]);
    expect(dsQ('[:find (distinct ?a) . :where [_ :age ?a]]', db)).toEqual(new Set([18, 25]));
  });
  it(':keys / :strs / :syms → Maps', () => {
    expect(dsQ('[:find ?n ?a :keys n a :where [?e :name ?n] [?e :age 18] [?e :age ?a]]', db)).toEqual(
      new Set([new Map<unknown, unknown>([[kw('n'), 'Ivan'], [kw('a'), 18]])]),
    );
    expect(dsQ('[:find ?n :strs n :where [1 :name ?n]]', db)).toEqual(new Set([new Map([['n', 'Ivan']])]));
    expect(dsQ('[:find ?n :syms n :where [1 :name ?n]]', db)).toEqual(new Set([new Map([[sym('n'), 'Ivan']])]));
  });
  it('pull in :find → Array of tuples of Maps', () => {
    const r = dsQ('[:find (pull ?e [:name {:friend [:name]}]) :where [?e :name "Igor"]]', db);
    expect(r).toEqual([[new Map<unknown, unknown>([[kw('name'), 'Igor'], [kw('friend'), new Map([[kw('name'), 'Ivan']])]])]]);
  });
});

describe('values round-trip exactly', () => {
  it('keywords, symbols, sets, lists, maps, uuid, inst, strings, numbers', () => {
    const edn =
      '[:a/b sym #{1 2} (1 "two") {:k [1 2.5]} #uuid "6f1c0b7a-9a54-4c39-9e2a-2d2b2f1e6a10" #inst "2020-01-01T00:00:00.000-00:00" "é\\n\\"q\\" \\\\" -7 1e21 true nil]';
    const v = parseEdn(edn);
    const back = fromCljs(toCljs(v));
    expect(printEdn(back)).toBe(printEdn(v));
    expect((back as unknown[])[5]).toBeInstanceOf(Uuid);
    expect((back as unknown[])[6]).toBeInstanceOf(Date);
    expect(dsQ('[:find ?x . :in ?x]', v)).toEqual(v);
  });
  it('user functions see our representation and their results are converted back', () => {
    const seen: unknown[] = [];
    const r = dsQ('[:find ?y :in ?f [?x ...] :where [(?f ?x) ?y]]', (x: unknown) => (seen.push(x), [x]), [kw('a/b'), 'x']);
    expect(seen).toContain(kw('a/b'));
    expect(r).toEqual(new Set([[[kw('a/b')]], [['x']]]));
  });
  it('a database passed to a user function arrives as a DsDb', () => {
    const db = people();
    const names = (src: DsDb) => dsQ('[:find (count ?e) . :where [?e :name]]', src);
    expect(dsQ('[:find ?n . :in $ ?f :where [(?f $) ?n]]', db, names)).toBe(3);
  });
});

describe('transactions', () => {
  it('report: tempids (number, string, current-tx) and tx data with retractions', () => {
    const db0 = dsCreateDb({ email: { 'db/unique': 'db.unique/identity' } });
    const r1 = dsWith(db0, [{ ':db/id': -1, name: 'Ivan' }, [':db/add', 'p', 'name', 'Petr'], ['db/add', 'p', 'email', 'p@x']]);
    expect(r1.tempids.get(-1)).toBe(1);
    expect(r1.tempids.get('p')).toBe(2);
    expect(r1.tempids.get(kw('db/current-tx'))).toBe(536870913);
    expect(r1.txData.map((d) => [d.e, (d.a as Keyword).fqn, d.v, d.tx, d.added])).toEqual([
      [1, 'name', 'Ivan', 536870913, true],
      [2, 'name', 'Petr', 536870913, true],
      [2, 'email', 'p@x', 536870913, true],
    ]);
    const r2 = dsWith(r1.db, '[[:db/retract 1 :name "Ivan"] {:email "p@x" :name "Pyotr"}]');
    expect(r2.txData.map((d) => printEdn([d.e, d.a, d.v, d.tx, d.added]))).toEqual([
      '[1 :name "Ivan" 536870914 false]',
      '[2 :name "Petr" 536870914 false]',
      '[2 :name "Pyotr" 536870914 true]',
    ]);
    // Immutability: the earlier db is unchanged.
    expect(dsQ('[:find ?n . :where [1 :name ?n]]', r1.db)).toBe('Ivan');
    expect(dsQ('[:find ?n . :where [1 :name ?n]]', r2.db)).toBe(null);
  });
  it('lookup refs, :db/id in nested maps, reverse refs, keyword values', () => {
    const db0 = dsCreateDb('{:email {:db/unique :db.unique/identity} :friend {:db/valueType :db.type/ref} :kind {}}');
    const { db } = dsWith(db0, '[{:db/id -1 :email "a@x" :kind :person/admin} {:email "b@x" :friend {:db/id -3 :email "c@x"}}]');
    const { db: db2 } = dsWith(db, [[':db/add', ['email', 'a@x'], 'friend', [':email', 'c@x']], { email: 'd@x', ':_friend': [':email', 'b@x'] }]);
    expect(dsQ('[:find ?k . :where [_ :kind ?k]]', db2)).toBe(kw('person/admin'));
    const friendsOf = (email: string) => dsQ('[:find [?fe ...] :in $ ?e :where [?p :email ?e] [?p :friend ?f] [?f :email ?fe]]', db2, email);
    expect(friendsOf('a@x')).toEqual(['c@x']);
    // :friend is cardinality one: the reverse-ref assertion replaced b's friend c by d.
    expect(friendsOf('b@x')).toEqual(['d@x']);
  });
  it('schema as EDN string, Map and plain object are equivalent', () => {
    const tx = '[{:db/id -1 :tags ["a" "b"]}]';
    const a = dsWith(dsCreateDb('{:tags {:db/cardinality :db.cardinality/many}}'), tx).db;
    const b = dsWith(dsCreateDb(new Map([[kw('tags'), new Map([[kw('db/cardinality'), kw('db.cardinality/many')]])]])), tx).db;
    const c = dsWith(dsCreateDb({ ':tags': { 'db/cardinality': 'db.cardinality/many' } }), tx).db;
    for (const db of [a, b, c]) expect(dsQ('[:find ?t :where [_ :tags ?t]]', db)).toEqual(new Set([['a'], ['b']]));
  });
  it('init-db from datoms', () => {
    const db = dsInitDb([[1, 'name', 'Ivan'], [2, kw('name'), 'Petr']], { name: { 'db/unique': 'db.unique/identity' } });
    expect(dsQ('[:find ?e . :where [?e :name "Petr"]]', db)).toBe(2);
    expect(dsDatoms(db, 'avet', 'name', 'Ivan').map((d) => d.e)).toEqual([1]);
  });
});

describe('pull', () => {
  const db = people();
  it('wildcard, nested, reverse', () => {
    expect(printEdn(dsPull(db, '[*]', 2))).toBe('{:db/id 2, :age 25, :friend {:db/id 1}, :name "Igor"}');
    expect(dsPull(db, [':name', { friend: ['name'] }], 3)).toEqual(
      new Map<unknown, unknown>([[kw('name'), 'Petr'], [kw('friend'), new Map([[kw('name'), 'Igor']])]]),
    );
    expect(canonical(dsPull(db, '[:name {:_friend [:name]}]', ['email', 'ivan@x']))).toBe('{:_friend [{:name "Igor"}], :name "Ivan"}');
  });
  it('pull-many keeps order; missing entities are nil', () => {
    expect(dsPullMany(db, '[:name]', [3, 99, 1]).map(printEdn)).toEqual(['{:name "Petr"}', 'nil', '{:name "Ivan"}']);
  });
});

describe('errors', () => {
  const db = people();
  it('captures message and ex-data, leaves no hook behind', () => {
    const o = dsTry(() => dsWith(db, '[[:db/add -1 :name nil]]'));
    expect(o.ok).toBe(false);
    expect(dsErrorCode(o)).toBe('transact/syntax');
    expect(o.ok === false && o.message).toMatch(/Cannot store nil/);
    const u = dsTry(() => dsQ('[:find ?x :where [?x :name] [(< ?y 1)]]', db));
    expect(dsErrorCode(u)).toBe('query/where');
    // Outside a capture DataScript's JS API converts as usual (clj->js turns :a/b into "b").
    expect(ds.q('[:find ?x . :where [(ground :a/b) ?x]]')).toBe('b');
    expect(ds.q('[:find ?x . :where [(ground #{1}) ?x]]')).toEqual([1]);
    // Other code may still use the hooked names as ordinary properties.
    const plain: Record<string, unknown> = {};
    plain.Pe = 1;
    plain.jf = 2;
    expect(plain).toEqual({ Pe: 1, jf: 2 });
    expect(({} as Record<string, unknown>).Pe).toBe(undefined);
    expect(dsTry(() => 42)).toEqual({ ok: true, value: 42 });
  });
});

describe('withRaw', () => {
  it('transacts prepared raw data without copying it', () => {
    const tx = dsPrepareTx('[{:db/id "a" :name "A" :tags #{:x}} {:db/id "b" :name "B" :friend "a"}]');
    const db = withRaw(dsCreateDb('{:friend {:db/valueType :db.type/ref}}').raw, [...tx]);
    expect(dsQ('[:find ?n . :where [?e :friend ?f] [?f :name ?n]]', new DsDb(db))).toBe('A');
    expect(dsQ('[:find ?t . :where [_ :tags ?t]]', new DsDb(db))).toEqual(new Set([kw('x')]));
  });
  it('builds the same database as the converting path', () => {
    const schema = '{:follows {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many} :alias {:db/cardinality :db.cardinality/many} :id {:db/unique :db.unique/identity}}';
    const tx = '[{:db/id "1" :id 1 :name "A" :alias ["x" "y"] :follows ["2" "3"]} {:db/id "2" :sex :male} {:db/id "3" :follows "2"} [:db/add "4" :name "D"]]';
    const a = withRaw(dsCreateDb(schema).raw, [...dsPrepareTx(tx)]);
    const b = dsWith(dsCreateDb(schema), tx).db;
    expect(canonical(dsDatoms(new DsDb(a)))).toBe(canonical(dsDatoms(b)));
    expect(dsDatoms(b)).toHaveLength(9);
  });
});

describe('dsDatoms', () => {
  it('lists the index in our representation', () => {
    const db = people();
    const eav = dsDatoms(db, 'eavt', 1);
    expect(eav.map((d) => (d.a as Keyword).fqn)).toEqual(['age', 'aka', 'aka', 'email', 'name']);
    expect(dsDatoms(db, 'aevt', 'friend').map((d) => [d.e, d.v])).toEqual([[2, 1], [3, 2]]);
  });
});

describe('canonical', () => {
  it('is independent of set and map order, keeps array order unless told', () => {
    expect(canonical(new Set([[2, 'b'], [1, 'a']]))).toBe(canonical(new Set([[1, 'a'], [2, 'b']])));
    expect(canonical(new Map([[kw('b'), 1], [kw('a'), 2]]))).toBe(canonical(new Map([[kw('a'), 2], [kw('b'), 1]])));
    expect(canonical([2, 1])).not.toBe(canonical([1, 2]));
    expect(canonical([[2], [1]], { unordered: 'top' })).toBe(canonical([[1], [2]], { unordered: 'top' }));
    expect(canonical([[1, 2]], { unordered: 'top' })).not.toBe(canonical([[2, 1]], { unordered: 'top' }));
  });
  it('normalizes numbers, treats lists like vectors (Clojure =)', () => {
    expect(canonical(0.1 + 0.2)).toBe(canonical(0.3));
    expect(canonical(-0)).toBe('0');
    expect(canonical(new List([1, 2]))).toBe(canonical([1, 2]));
    expect(canonical({ b: 1, a: kw('x') })).toBe('{:a :x, :b 1}');
  });
});
