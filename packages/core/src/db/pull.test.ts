import { describe, expect, it } from 'vitest';
import { canonical, dsCreateDb, dsPull, dsPullMany, dsTry, dsWith } from '@dataloom/test/oracle/datascript.js';
import { kw, parseEdn, sym } from '../edn/index.js';
import { createDb } from './database.js';
import { pull, pullMany } from './pull.js';

const SCHEMA = `{:name {:db/unique :db.unique/identity}
 :friend {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 :tags {:db/cardinality :db.cardinality/many}
 :kid {:db/valueType :db.type/ref :db/isComponent true :db/cardinality :db.cardinality/many}
 :boss {:db/valueType :db.type/ref}
 :pet {:db/valueType :db.type/ref :db/isComponent true}}`;
const TX = `[{:db/id 1 :name "a" :age 10 :tags [3 1 2] :friend [2 3] :kid [{:db/id 10 :name "k1" :kid {:db/id 11 :name "k2"}}] :pet {:db/id 12 :name "p"}}
 {:db/id 2 :name "b" :boss 1 :friend [1]}
 {:db/id 3 :name "c" :boss 2 :friend 2 :status :st/on}]`;

const PATTERNS = [
  '[*]', '[:name]', '[:db/id]', '[:nope]', '[:db/id :nope]', '[:kid]', '[:pet]', '[:_kid]', '[:_pet]',
  '[:_friend]', '[:_boss]', '[:friend]', '[{:friend [:name]}]', '[{:friend ...}]', '[:name {:friend 1}]',
  '[{:_boss ...} :name]', '[[:tags :limit 2]]', '[(limit :tags 1)]', '[[:nope :default 5]]', '[(default :nope 7)]',
  '[[:name :as "N"]]', '[[:name :as :n]]', '[{[:friend :limit 1] [:name]}]', '[{:boss [*]}]', '[:name {:kid [:name]}]',
  '[[:friend :limit nil]]', '[:db/id :name {:_friend [:name]}]', '[[:_friend :as :fr]]', '[{:friend [:db/id]}]',
  '[[:nope :default nil]]', '[{(:friend :limit 1) [:name]}]', '[{:kid ...}]', '[* {:friend [:name]}]', '[:name :name]',
  '[[:tags :limit 2 :as :t]]', '[{:_kid [:name]}]', '[:db/id {:friend [:name {:kid [:db/id]}]}]', '[{:_friend ...}]',
  '[{:friend 2}]', '[:name {:kid 1}]', '[:status]', '[{:boss [:name {:boss [:name]}]}]', '[{:friend [:nope]}]',
  '[{:_boss [:name]} :tags]', '[[:db/id :as :id] :name]',
];
const IDS: unknown[] = [1, 2, 3, 10, 11, 12, 99, '[:name "a"]', '[:name "zz"]'];

describe('pull vs DataScript', () => {
  const db = createDb(SCHEMA).with(TX).dbAfter;
  const ds = dsWith(dsCreateDb(SCHEMA), TX).db;
  for (const p of PATTERNS) {
    it(p, () => {
      for (const id of IDS) {
        const eid = typeof id === 'string' ? parseEdn(id) : id;
        const theirs = dsTry(() => dsPull(ds, p, eid));
        expect(theirs.ok, `DataScript failed on ${p} ${String(id)}`).toBe(true);
        const want = canonical(theirs.ok ? theirs.value : null);
        expect(canonical(pull(db, p, eid)), `${p} on ${String(id)}`).toBe(want);
        // the same pattern given as parsed data
        expect(canonical(pull(db, parseEdn(p), eid)), `${p} (data) on ${String(id)}`).toBe(want);
      }
    });
  }

  it('pullMany keeps order and nulls', () => {
    const ids = [3, 1, 99, 2];
    expect(canonical(pullMany(db, '[:name]', ids))).toBe(canonical(dsPullMany(ds, '[:name]', ids)));
  });

  it('accepts plain JS patterns with string attributes and the "*" wildcard', () => {
    expect(canonical(pull(db, ['name', { friend: ['name'] }], 1))).toBe(canonical(dsPull(ds, '[:name {:friend [:name]}]', 1)));
    expect(canonical(pull(db, ['*'], 3))).toBe(canonical(dsPull(ds, '[*]', 3)));
    expect(canonical(pull(db, [sym('*')], 3))).toBe(canonical(dsPull(ds, '[*]', 3)));
  });

  it('results are Maps keyed by keywords, card-many sorted', () => {
    const r = pull(db, '[:name :tags {:friend [:name]}]', 1)!;
    expect(r.get(kw('name'))).toBe('a');
    expect(r.get(kw('tags'))).toEqual([1, 2, 3]);
    expect(r.get(kw('friend'))).toEqual([new Map([[kw('name'), 'b']]), new Map([[kw('name'), 'c']])]);
  });

  it(':xform applies to the value', () => {
    const r = pull(db, [[kw('age'), kw('xform'), (x: unknown) => (x as number) * 2]], 1)!;
    expect(r.get(kw('age'))).toBe(20);
  });

  it('bad patterns throw pull/syntax', () => {
    for (const p of ['[{:friend 0}]', ':name', '[[:name :limit -1]]', '[[:name :bogus 1]]', '[5]']) {
      expect(() => pull(db, p, 1), p).toThrowError(expect.objectContaining({ code: 'pull/syntax' }));
    }
  });
});
