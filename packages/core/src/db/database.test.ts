import { describe, expect, it } from 'vitest';
import { canonical, dsCreateDb, dsDatoms, dsInitDb, dsWith } from '@dataloom/test/oracle/datascript.js';
import { DataloomError } from '../errors.js';
import { kw } from '../edn/index.js';
import { applyDatoms, createDb, initDb } from './index.js';
import { Datom } from './types.js';

const SCHEMA = `{:name {:db/unique :db.unique/identity}
 :age {:db/index true}
 :friend {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 :tags {:db/cardinality :db.cardinality/many}}`;
const TX = `[{:db/id 1 :name "a" :age 30 :tags ["x" "y"] :friend [2 3]}
 {:db/id 2 :name "b" :age 20 :friend 3}
 {:db/id 3 :name "c" :age 40 :tags "x"}]`;
const key = (d: { e: number; a: unknown; v: unknown; tx: number }): string => canonical([d.e, d.a, d.v, d.tx]);

describe('database values', () => {
  const db = createDb(SCHEMA).with(TX).dbAfter;
  const ds = dsWith(dsCreateDb(SCHEMA), TX).db;

  it('datoms by index and prefix match DataScript', () => {
    const cases: Array<['eavt' | 'aevt' | 'avet', unknown[]]> = [
      ['eavt', []],
      ['eavt', [1]],
      ['eavt', [1, kw('tags')]],
      ['eavt', [1, kw('tags'), 'y']],
      ['aevt', []],
      ['aevt', [kw('friend')]],
      ['aevt', [kw('friend'), 1]],
      ['avet', [kw('age')]],
      ['avet', [kw('age'), 20]],
      ['avet', [kw('name'), 'c', 3]],
    ];
    for (const [index, comps] of cases) {
      expect(db.datoms(index, ...comps).map(key), `${index} ${canonical(comps)}`).toEqual(dsDatoms(ds, index, ...comps).map(key));
    }
  });

  it('lookup refs and string attributes in components', () => {
    expect(db.datoms('eavt', [kw('name'), 'b'], 'age').map((d) => d.v)).toEqual([20]);
    expect(() => db.datoms('eavt', ['name', 'zz'])).toThrowError(expect.objectContaining({ code: 'entity-id/missing' }));
    expect(db.datoms('avet', ':age').map((d) => d.v)).toEqual([20, 30, 40]);
  });

  it('AVET covers every attribute, VAET covers refs', () => {
    expect(db.datoms('avet', 'tags', 'x').map((d) => d.e)).toEqual([1, 3]);
    expect(db.datoms('vaet', 3).map((d) => [d.e, d.a.fqn])).toEqual([
      [1, 'friend'],
      [2, 'friend'],
    ]);
    expect(db.refsTo(3, 'friend').map((d) => d.e)).toEqual([1, 2]);
  });

  it('seekDatoms / rseekDatoms / indexRange', () => {
    expect([...db.seekDatoms('eavt', 2)].map((d) => d.e)).toEqual([2, 2, 2, 3, 3, 3]);
    expect([...db.seekDatoms('avet', 'age', 25)].slice(0, 2).map((d) => d.v)).toEqual([30, 40]);
    expect([...db.rseekDatoms('eavt', 1, 'name')].map((d) => d.a.fqn)).toEqual(['name', 'friend', 'friend', 'age']);
    expect(db.indexRange('age', 25, 40).map((d) => d.e)).toEqual([1, 3]);
    expect(db.indexRange('age', undefined, 30).map((d) => d.e)).toEqual([2, 1]);
  });

  it('fast primitives', () => {
    expect(db.values(1, 'tags')).toEqual(['x', 'y']);
    expect(db.value(2, 'age')).toBe(20);
    expect(db.value(2, 'nope')).toBeUndefined();
    expect(db.has(1, 'tags', 'y')).toBe(true);
    expect(db.has(1, 'tags', 'z')).toBe(false);
    expect(db.entitiesWithAttr('tags')).toEqual([1, 3]);
    expect(db.entitiesWith('name', 'b')).toEqual([2]);
    const seen: Array<[number, unknown]> = [];
    db.forEachOfAttr('age', (e, v) => seen.push([e, v]));
    expect(seen).toEqual([
      [1, 30],
      [2, 20],
      [3, 40],
    ]);
    expect(db.countAttr('friend')).toBe(3);
    expect(db.attrs().map(String)).toEqual([':age', ':friend', ':name', ':tags']);
    expect(db.size).toBe(12);
    expect(db.entityDatoms(3).length).toBe(3);
  });

  it('entid resolves ints, lookup refs and idents; errors are typed', () => {
    const d2 = db.with([{ 'db/ident': kw('the/one'), name: 'z' }]).dbAfter;
    expect(d2.entid(kw('the/one'))).toBe(4);
    expect(d2.entid([kw('name'), 'a'])).toBe(1);
    expect(d2.entid(['name', 'zz'])).toBeNull();
    expect(() => d2.entidStrict(['name', 'zz'])).toThrowError(expect.objectContaining({ code: 'entity-id/missing' }));
    expect(() => d2.entid(['tags', 'x'])).toThrowError(expect.objectContaining({ code: 'lookup-ref/unique' }));
    expect(() => d2.entid(['name'])).toThrowError(expect.objectContaining({ code: 'lookup-ref/syntax' }));
    expect(() => d2.entid(0)).toThrowError(expect.objectContaining({ code: 'entity-id/syntax' }));
    expect(() => d2.entid(2 ** 31)).toThrowError(expect.objectContaining({ code: 'entity-id/range' }));
  });

  it('schema predicates', () => {
    expect(db.isRef('friend')).toBe(true);
    expect(db.isMany(kw('tags'))).toBe(true);
    expect(db.isUnique(':name')).toBe(true);
    expect(db.isComponent('friend')).toBe(false);
    expect(db.valueType('friend')).toBe('ref');
    expect(db.maxEid).toBe(3);
    expect(db.maxTx).toBe(536870913);
  });

  it('old values are untouched by later transactions (structural sharing)', () => {
    const before = db.datoms('eavt').map(key);
    let cur = db;
    for (let i = 0; i < 200; i++) cur = cur.with([[kw('db/add'), -1, kw('age'), i]]).dbAfter;
    cur = cur.with('[[:db/retractEntity 1]]').dbAfter;
    expect(db.datoms('eavt').map(key)).toEqual(before);
    expect(cur.size).toBe(12 - 6 + 200);
  });

  it('unknown index is a typed error', () => {
    expect(() => db.datoms('xyz' as never)).toThrow(DataloomError);
  });
});

describe('initDb and applyDatoms', () => {
  const datoms = [
    new Datom(3, kw('name'), 'c', 536870915),
    new Datom(1, kw('name'), 'a', 536870913),
    new Datom(1, kw('friend'), 3, 536870913),
    new Datom(2, kw('tags'), 'x', 536870914),
    new Datom(2, kw('tags'), 'w', 536870914),
  ];

  it('initDb matches DataScript init-db', () => {
    const db = initDb(datoms, SCHEMA);
    const ds = dsInitDb(datoms.map((d) => [d.e, d.a, d.v, d.tx]), SCHEMA);
    for (const index of ['eavt', 'aevt'] as const) {
      expect(db.datoms(index).map(key)).toEqual(dsDatoms(ds, index).map(key));
    }
    // DataScript's AVET holds only :db/index, unique and ref attributes; ours holds all
    const indexed = new Set([kw('name'), kw('age'), kw('friend')]);
    expect(db.datoms('avet').filter((d) => indexed.has(d.a)).map(key)).toEqual(dsDatoms(ds, 'avet').map(key));
    expect(db.maxEid).toBe(3);
    expect(db.maxTx).toBe(536870915);
    expect(db.refsTo(3).map((d) => d.e)).toEqual([1]);
    // transacting on top numbers from max id and max tx
    const r = db.with([{ name: 'd' }]);
    expect(r.tempids.get(kw('db/current-tx'))).toBe(536870916);
    expect(r.dbAfter.entid([kw('name'), 'd'])).toBe(4);
  });

  it('initDb at scale equals transacting the same datoms', () => {
    const ds: Datom[] = [];
    for (let e = 1; e <= 3000; e++) {
      ds.push(new Datom(e, kw('name'), `n${e}`, 536870913));
      ds.push(new Datom(e, kw('age'), e % 70, 536870913));
      if (e > 1) ds.push(new Datom(e, kw('friend'), e - 1, 536870913));
    }
    const a = initDb(ds, SCHEMA);
    const b = createDb(SCHEMA).with(ds.map((d) => [kw('db/add'), d.e, d.a, d.v])).dbAfter;
    for (const index of ['eavt', 'aevt', 'avet', 'vaet'] as const) expect(a.datoms(index).map(key)).toEqual(b.datoms(index).map(key));
  });

  it('applyDatoms asserts, replaces card-one values, retracts, skips no-ops', () => {
    const db = initDb(datoms, SCHEMA);
    const { db: db2, changes } = applyDatoms(db, [
      new Datom(1, kw('name'), 'A', 536870920),
      new Datom(2, kw('tags'), 'x', 536870920, false),
      new Datom(2, kw('tags'), 'zz', 536870920, false),
      new Datom(3, kw('name'), 'c', 536870920),
      new Datom(5, kw('friend'), 1, 536870920),
    ]);
    expect(changes.map((d) => [d.e, d.a.fqn, d.v, d.added])).toEqual([
      [1, 'name', 'a', false],
      [1, 'name', 'A', true],
      [2, 'tags', 'x', false],
      [5, 'friend', 1, true],
    ]);
    expect(db2.value(1, 'name')).toBe('A');
    expect(db2.values(2, 'tags')).toEqual(['w']);
    expect(db2.refsTo(1).map((d) => d.e)).toEqual([5]);
    expect(db2.maxEid).toBe(5);
    expect(db2.maxTx).toBe(536870920);
    expect(db.value(1, 'name')).toBe('a');
  });
});
