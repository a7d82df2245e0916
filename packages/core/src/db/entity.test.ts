import { describe, expect, it } from 'vitest';
import { kw, printEdn } from '../edn/index.js';
import { createDb } from './database.js';
import { entity, isEntity } from './entity.js';
import type { Entity } from './types.js';

const db = createDb(`{:name {:db/unique :db.unique/identity}
 :friend {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 :pet {:db/valueType :db.type/ref :db/isComponent true}
 :tags {:db/cardinality :db.cardinality/many}}`).with(`[{:db/id 1 :name "a" :tags ["x" "y"] :friend [2] :pet {:db/id 3 :name "rex"}}
 {:db/id 2 :name "b" :friend 1}]`).dbAfter;

describe('entity', () => {
  it('reads attributes lazily: scalars, sets for many, entities for refs, reverse refs', () => {
    const e = entity(db, 1)!;
    expect(e.eid).toBe(1);
    expect(e.get('db/id')).toBe(1);
    expect(e.get(':name')).toBe('a');
    expect(e.get(kw('tags'))).toEqual(new Set(['x', 'y']));
    const friends = e.get('friend') as Set<Entity>;
    expect([...friends].map((f) => f.get('name'))).toEqual(['b']);
    expect(isEntity([...friends][0])).toBe(true);
    expect((e.get('pet') as Entity).get('name')).toBe('rex');
    expect([...(e.get('_friend') as Set<Entity>)].map((f) => f.eid)).toEqual([2]);
    expect((entity(db, 3)!.get('_pet') as Entity).eid).toBe(1);
    expect(e.get('nope')).toBeUndefined();
    expect(e.keys().map(String)).toEqual([':friend', ':name', ':pet', ':tags']);
  });

  it('resolves lookup refs; unknown lookup gives null; ids without datoms give empty entities like DataScript', () => {
    expect(entity(db, [kw('name'), 'b'])!.eid).toBe(2);
    expect(entity(db, ['name', 'zz'])).toBeNull();
    expect(entity(db, 99)!.keys()).toEqual([]);
  });

  it('toEdn touches the entity: refs as {:db/id}, components expanded', () => {
    expect(printEdn(entity(db, 1)!.toEdn())).toBe(
      '{:db/id 1, :friend #{{:db/id 2}}, :name "a", :pet {:db/id 3, :name "rex"}, :tags #{"x" "y"}}',
    );
  });
});

describe('printing entities', () => {
  it('printEdn(entity) prints the touched entity', () => {
    expect(printEdn([entity(db, 3)])).toBe('[{:db/id 3, :name "rex"}]');
  });
});
