/**
 * The transaction language, case by case, checked against the datascript npm package: same
 * tx-data (as a set), tempids, resulting datoms, and errors (both must throw; codes compared where
 * DataScript has one).
 */
import { describe, expect, it } from 'vitest';
import { canonical, dsCreateDb, dsDatoms, dsErrorCode, dsTry, dsWith, type DsDb } from '@dataloom/test/oracle/datascript.js';
import { DataloomError } from '../errors.js';
import { kw, parseEdn } from '../edn/index.js';
import { createDb } from './database.js';
import type { Db } from './types.js';

const SCHEMA = `{:name {:db/unique :db.unique/identity}
 :email {:db/unique :db.unique/value}
 :friend {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 :tags {:db/cardinality :db.cardinality/many}
 :kid {:db/valueType :db.type/ref :db/isComponent true}
 :kids {:db/valueType :db.type/ref :db/isComponent true :db/cardinality :db.cardinality/many}
 :ref1 {:db/valueType :db.type/ref}
 :aliases {:db/unique :db.unique/identity :db/cardinality :db.cardinality/many}}`;

const key = (d: { e: number; a: unknown; v: unknown; tx: number; added: boolean }): string => canonical([d.e, d.a, d.v, d.tx, d.added]);

function both(setup: string[], tx: string): { ours: Db; ds: DsDb } {
  let ours = createDb(SCHEMA);
  let ds = dsCreateDb(SCHEMA);
  for (const s of setup) {
    ours = ours.with(s).dbAfter;
    ds = dsWith(ds, s).db;
  }
  void tx;
  return { ours, ds };
}

/** Runs `tx` after `setup` on both engines and compares everything. */
function check(setup: string[], tx: string): void {
  const { ours, ds } = both(setup, tx);
  const theirs = dsTry(() => dsWith(ds, tx));
  let mine: ReturnType<Db['with']> | null = null;
  let error: unknown = null;
  try {
    mine = ours.with(tx);
  } catch (e) {
    error = e;
  }
  if (!theirs.ok) {
    expect(error, `DataScript: ${theirs.message}`).toBeInstanceOf(DataloomError);
    const code = dsErrorCode(theirs);
    if (code !== null && code !== 'entity-id') expect((error as DataloomError).code).toBe(code);
    return;
  }
  if (error !== null) throw error;
  expect(canonical(mine!.tempids)).toBe(canonical(theirs.value.tempids));
  expect(canonical(new Set(mine!.txData.map(key)))).toBe(canonical(new Set(theirs.value.txData.map(key))));
  expect(mine!.dbAfter.datoms('eavt').map(key)).toEqual(dsDatoms(theirs.value.db, 'eavt').map(key));
  expect(mine!.dbAfter.maxTx).toBe(mine!.dbBefore.maxTx + 1);
}

const BASE = '[{:db/id 1 :name "a" :email "a@" :tags [1 2] :friend [2 3]} {:db/id 2 :name "b" :kid {:db/id 4 :name "k" :kid {:db/id 5 :name "kk"}}} {:db/id 3 :name "c" :ref1 2 :aliases ["c1" "c2"]}]';

const CASES: Array<[string, string[], string]> = [
  ['entity maps, tempids in order of first appearance', [], '[{:db/id -1 :name "a" :friend ["x" "y"]} {:db/id "x" :name "b"} {:name "c" :kid {:name "k"}} {:db/id "y" :tags [1 2]}]'],
  ['nested component map allocated before its parent', [], '[{:kid {:name "k"} :tags 1}]'],
  ['reverse refs with nested maps and tempids', [], '[{:name "p" :_friend [{:name "q"} -7]} {:db/id -7 :name "r"}]'],
  ['reverse ref inside a nested map is replaced by the parent link', [BASE], '[{:db/id 1 :friend {:db/id -2 :_friend 3 :name "z"}}]'],
  ['id 0 is rejected', [], '[[:db/add 0 :tags 1]]'],
  ['id above 2147483647 is rejected', [], '[[:db/add 2147483648 :tags 1]]'],
  ['explicit ids are honoured and advance max id', [], '[[:db/add 100 :tags 1] [:db/add -1 :tags 1]]'],
  ['ids past the tx range do not advance max id', [], '[[:db/add 2147483647 :tags 1] [:db/add -1 :tags 1]]'],
  ['a ref to an unknown id does not advance max id', [], '[[:db/add 1 :ref1 100] [:db/add -1 :tags 1]]'],
  ['tempid used only as a value', [], '[[:db/add 1 :friend -5]]'],
  ['tempid only as value is fine once used as entity', [], '[[:db/add 1 :friend -5] [:db/add -5 :name "x"]]'],
  [':db/current-tx and "datomic.tx"', [], '[[:db/add :db/current-tx :tags 1] {:db/id "datomic.tx" :tags 3}]'],
  ['ref to the current tx', [], '[[:db/add 1 :ref1 :db/current-tx]]'],
  ['retract through a missing lookup ref is a no-op', [BASE], '[[:db/retract [:name "zz"] :tags 1]]'],
  ['add through a missing lookup ref fails', [BASE], '[[:db/add [:name "zz"] :tags 1]]'],
  ['lookup ref on a non-unique attribute fails', [BASE], '[[:db/add [:tags 1] :tags 9]]'],
  ['nil values are rejected, nil forms skipped', [], '[nil [:db/add -1 :tags nil]]'],
  ['nil forms are skipped', [], '[nil [:db/add -1 :tags 1] nil]'],
  ['upsert by unique identity', [BASE], '[{:name "a" :tags 9}]'],
  ['upsert with tempid maps tempid to the existing entity', [BASE], '[{:db/id "t" :name "a" :tags 5} {:db/id -3 :friend "t"}]'],
  ['upsert with card-many identity values', [BASE], '[{:aliases ["c2" "new"] :tags 5}]'],
  ['conflicting upserts (two identities, two entities)', [BASE], '[{:name "a" :aliases "c1"}]'],
  ['conflicting upsert with explicit id', [BASE], '[{:db/id 2 :name "a"}]'],
  ['unique value violation', [BASE], '[{:name "z" :email "a@"}]'],
  ['unique identity violation by explicit id', [BASE], '[[:db/add 2 :name "a"]]'],
  ['upsert after the tempid was allocated retries the tx', [BASE], '[[:db/add "t" :tags 1] {:db/id "t" :name "a"}]'],
  ['tempid upserting to two entities', [BASE], '[[:db/add "t" :name "a"] [:db/add "t" :name "b"]]'],
  ['upsert inside one transaction', [], '[{:name "a"} {:name "a" :tags 3}]'],
  ['retract without value removes all values', [BASE], '[[:db/retract 1 :tags]]'],
  ['retract without value cascades components', [BASE], '[[:db/retract 2 :kid]]'],
  ['retract a wrong value does nothing', [BASE], '[[:db/retract 1 :tags 99]]'],
  ['retract a ref through a lookup ref', [BASE], '[[:db/retract 3 :ref1 [:name "b"]]]'],
  ['retract through a missing lookup ref value fails', [BASE], '[[:db/retract 3 :ref1 [:name "zz"]]]'],
  ['second value of a card-one attribute replaces the first in one tx', [], '[[:db/add 1 :x 1] [:db/add 1 :x 2]]'],
  ['redundant assertion', [BASE], '[[:db/add 1 :name "a"] [:db/add 1 :tags 1]]'],
  ['retractEntity removes refs to it and cascades components', [BASE], '[[:db/retractEntity 2]]'],
  ['retractEntity through a lookup ref', [BASE], '[[:db/retractEntity [:name "c"]]]'],
  ['retractEntity of self-referencing entity', ['[{:db/id 1 :name "a" :friend 1}]'], '[[:db/retractEntity 1]]'],
  ['retractAttribute', [BASE], '[[:db.fn/retractAttribute 2 :kid] [:db.fn/retractAttribute 1 :tags]]'],
  ['tempids only in :db/add', [], '[[:db/retract -1 :tags 1]]'],
  ['tempid in retractEntity', [], '[[:db/retractEntity "x"]]'],
  ['cas fails on wrong old value', ['[{:db/id 1 :x 1}]'], '[[:db/cas 1 :x 2 3]]'],
  ['cas succeeds, nil old value for absent attribute', ['[{:db/id 1 :x 1}]'], '[[:db.fn/cas 1 :x 1 3] [:db/cas 1 :y nil 3]]'],
  ['cas on cardinality many', [BASE], '[[:db/cas 1 :tags 2 7]]'],
  ['cas on a ref with lookup refs', [BASE], '[[:db/cas 3 :ref1 [:name "b"] [:name "a"]]]'],
  ['lookup ref vectors as card-many ref values', [BASE], '[{:name "d" :friend [:name "a"]} {:name "e" :friend [[:name "a"] [:name "b"]]}]'],
  ['set as card-many value', [], '[{:db/id 1 :tags #{1 2 3}}]'],
  ['unknown operation', [], '[[:db/foo 1 :tags 1]]'],
  ['bad entity type', [], '[5]'],
  ['reverse attribute on a non-ref', [], '[{:db/id 1 :_tags 2}]'],
  ['lookup ref as :db/id', [BASE], '[{:db/id [:name "a"] :tags 7}]'],
  ['lookup ref as :db/id that does not resolve', [BASE], '[{:db/id [:name "zz"] :tags 7}]'],
  ['ident resolution', ['[{:db/ident :foo :x 1}]'], '[[:db/add :foo :y 2] {:db/id :foo :z 3}]'],
  ['empty transaction still advances the tx', [BASE], '[]'],
  ['a map with only :db/id allocates its tempid', [], '[{:db/id "x"} [:db/add -1 :tags 1]]'],
  ['lists as forms', [], '[(:db/add -1 :name "l") (:db/add -1 :tags 1)]'],
];

describe('transactions vs DataScript (hand-written)', () => {
  for (const [name, setup, tx] of CASES) it(name, () => check(setup, tx));
});

describe('transactions: Dataloom specifics', () => {
  const db0 = createDb(SCHEMA).with(BASE).dbAfter;
  it('numbers new ids from the highest id', () => expect(db0.maxEid).toBe(5));

  it('a failed transaction leaves the database unchanged', () => {
    const before = db0.datoms('eavt').map(key);
    expect(() => db0.with('[[:db/add 1 :tags 9] [:db/retractEntity 2] {:name "z" :email "a@"}]')).toThrow(DataloomError);
    expect(db0.datoms('eavt').map(key)).toEqual(before);
    expect(db0.maxTx).toBe(536870913);
  });

  it('errors carry a code and the offending form', () => {
    try {
      db0.with([[kw('db/add'), -1, kw('tags'), null]]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DataloomError);
      expect((e as DataloomError).code).toBe('transact/syntax');
      expect((e as DataloomError).data.context).toEqual([kw('db/add'), 6, kw('tags'), null]);
    }
  });

  it('checks declared value types', () => {
    const db = createDb({ 'p/age': { 'db/valueType': 'db.type/long' }, 'p/at': { ':db/valueType': ':db.type/instant' } });
    expect(() => db.with([{ 'p/age': 'old' }])).toThrowError(expect.objectContaining({ code: 'transact/value-type' }));
    expect(() => db.with([{ 'p/age': 1.5 }])).toThrowError(expect.objectContaining({ code: 'transact/value-type' }));
    expect(() => db.with([{ 'p/at': 5 }])).toThrowError(expect.objectContaining({ code: 'transact/value-type' }));
    expect(db.with([{ 'p/age': 5, 'p/at': new Date(0) }]).dbAfter.size).toBe(2);
  });

  it('text values are strings to queries', () => {
    const db = createDb({ 'doc/body': { 'db/valueType': 'db.type/text' } }).with([{ 'doc/body': 'hello' }]).dbAfter;
    expect(db.value(1, 'doc/body')).toBe('hello');
  });

  it('tx functions: :db.fn/call and ident-named functions', () => {
    const inc = (db: Db, e: number, a: string): unknown[] => [[kw('db/add'), e, kw(a), ((db.value(e, a) as number) ?? 0) + 1]];
    let db = createDb().with([{ 'db/id': 1, n: 1 }]).dbAfter;
    db = db.with([[kw('db.fn/call'), inc, 1, 'n']]).dbAfter;
    expect(db.value(1, 'n')).toBe(2);
    db = db.with([{ 'db/ident': kw('inc'), 'db/fn': inc }]).dbAfter;
    db = db.with([[kw('inc'), 1, 'n']]).dbAfter;
    expect(db.value(1, 'n')).toBe(3);
    expect(() => db.with([[kw('nope'), 1]])).toThrowError(expect.objectContaining({ code: 'transact/syntax' }));
  });

  it('a tx function may keep the db it was given: later edits of the transaction do not change it', () => {
    let kept: Db | null = null;
    const keep = (db: Db): unknown[] => {
      kept = db;
      return [];
    };
    const r = createDb().with([{ 'db/id': 1, n: 1 }, [kw('db.fn/call'), keep], [kw('db/add'), 1, kw('n'), 2], [kw('db/add'), 2, kw('n'), 3]]);
    expect(kept!.value(1, 'n')).toBe(1);
    expect(kept!.size).toBe(1);
    expect(r.dbAfter.value(1, 'n')).toBe(2);
    expect(r.dbAfter.size).toBe(2);
  });

  it('Datom objects in tx data', () => {
    const r = db0.with(db0.datoms('eavt', 1, 'tags').map((d) => ({ ...d, added: false }) as never));
    void r;
    const d = db0.datoms('eavt', 1, 'tags')[0]!;
    const r2 = db0.with([new (d.constructor as typeof import('./types.js').Datom)(d.e, d.a, d.v, d.tx, false)]);
    expect(r2.dbAfter.values(1, 'tags')).toEqual([2]);
  });

  it('accepts plain objects with or without colons, and EDN strings', () => {
    const a = createDb(SCHEMA).with([{ ':db/id': -1, name: 'x', ':tags': [1, 2] }]);
    const b = createDb(SCHEMA).with('[{:db/id -1 :name "x" :tags [1 2]}]');
    expect(a.dbAfter.datoms('eavt').map(key)).toEqual(b.dbAfter.datoms('eavt').map(key));
    expect(a.tempids.get(-1)).toBe(1);
    expect(a.tempids.get(kw('db/current-tx'))).toBe(536870913);
    expect(parseEdn('1')).toBe(1);
  });
});

describe('composite tuples vs DataScript', () => {
  const TSCHEMA = `{:a {} :b {} :c {:db/valueType :db.type/ref}
 :a+b {:db/valueType :db.type/tuple :db/tupleAttrs [:a :b] :db/unique :db.unique/identity}
 :a+c {:db/valueType :db.type/tuple :db/tupleAttrs [:a :c]}}`;
  const cases: Array<[string, string[], string]> = [
    ['tuple follows its sources', [], '[{:db/id 1 :a "x" :b 2} {:db/id 2 :a "y"} [:db/add 3 :b 5]]'],
    ['tuple updates and retracts', ['[{:db/id 1 :a "x" :b 2 :c 1}]'], '[[:db/add 1 :a "z"] [:db/retract 1 :b 2]]'],
    ['all sources gone retracts the tuple', ['[{:db/id 1 :a "x" :b 2}]'], '[[:db/retract 1 :a "x"] [:db/retract 1 :b 2]]'],
    ['retractEntity removes tuples', ['[{:db/id 1 :a "x" :b 2 :c 1}]'], '[[:db/retractEntity 1]]'],
    ['writing a tuple directly fails', [], '[[:db/add 1 :a+b ["x" 2]]]'],
    ['writing a matching tuple is a no-op', ['[{:db/id 1 :a "x" :b 2}]'], '[[:db/add 1 :a+b ["x" 2]]]'],
    ['unique tuple conflict', ['[{:db/id 1 :a "x" :b 2}]'], '[{:db/id 2 :a "x" :b 2}]'],
    ['several forms, one flush each', [], '[[:db/add 1 :a "x"] [:db/add 1 :b 1] [:db/add 1 :b 2]]'],
  ];
  for (const [name, setup, tx] of cases) {
    it(name, () => {
      let ours = createDb(TSCHEMA);
      let ds = dsCreateDb(TSCHEMA);
      for (const s of setup) {
        ours = ours.with(s).dbAfter;
        ds = dsWith(ds, s).db;
      }
      const theirs = dsTry(() => dsWith(ds, tx));
      let mine: ReturnType<Db['with']> | null = null;
      let error: unknown = null;
      try {
        mine = ours.with(tx);
      } catch (e) {
        error = e;
      }
      if (!theirs.ok) {
        expect(error, theirs.message).toBeInstanceOf(DataloomError);
        return;
      }
      if (error !== null) throw error;
      expect(canonical(new Set(mine!.txData.map(key)))).toBe(canonical(new Set(theirs.value.txData.map(key))));
      expect(mine!.dbAfter.datoms('eavt').map(key)).toEqual(dsDatoms(theirs.value.db, 'eavt').map(key));
    });
  }
});
