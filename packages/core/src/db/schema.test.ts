import { describe, expect, it } from 'vitest';
import { kw } from '../edn/index.js';
import { parseSchema } from './schema.js';

describe('schema', () => {
  it('reads EDN strings, Maps and plain objects with or without colons', () => {
    const a = parseSchema('{:p/friend {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many :db/isComponent true}}');
    const b = parseSchema(new Map([[kw('p/friend'), new Map<unknown, unknown>([[kw('db/valueType'), kw('db.type/ref')], [kw('db/cardinality'), kw('db.cardinality/many')], [kw('db/isComponent'), true]])]]));
    const c = parseSchema({ ':p/friend': { ':db/valueType': ':db.type/ref', 'db/cardinality': 'db.cardinality/many', ':db/isComponent': true } });
    for (const s of [a, b, c]) {
      expect(s.isRef('p/friend')).toBe(true);
      expect(s.isMany(':p/friend')).toBe(true);
      expect(s.isComponent(kw('p/friend'))).toBe(true);
      expect(s.isUnique('p/friend')).toBe(false);
    }
  });

  it('knows every value type, unique identity/value, index, tuples', () => {
    const s = parseSchema({
      'a/s': { 'db/valueType': 'db.type/string' },
      'a/t': { 'db/valueType': 'db.type/text' },
      'a/l': { 'db/valueType': 'db.type/long', 'db/unique': 'db.unique/identity' },
      'a/d': { 'db/valueType': 'db.type/double', 'db/unique': 'db.unique/value' },
      'a/i': { 'db/valueType': 'db.type/instant', 'db/index': true },
      'a/k': { 'db/valueType': 'db.type/keyword' },
      'a/u': { 'db/valueType': 'db.type/uuid' },
      'a/b': { 'db/valueType': 'db.type/boolean' },
      'a/n': { 'db/valueType': 'db.type/number' },
      'a/tup': { 'db/valueType': 'db.type/tuple', 'db/tupleTypes': ['db.type/long', 'db.type/string'] },
    });
    expect(s.valueType('a/t')).toBe('text');
    expect(s.isUniqueIdentity('a/l')).toBe(true);
    expect(s.get('a/d')?.unique).toBe('value');
    expect(s.get('a/i')?.index).toBe(true);
    expect(s.get('a/tup')?.tupleTypes).toEqual(['long', 'string']);
    expect(s.isUniqueIdentity('db/ident')).toBe(true);
  });

  it('rejects bad schemas with schema/validation and the attribute', () => {
    const bad: unknown[] = [
      { 'a/x': { 'db/isComponent': true } },
      { 'a/x': { 'db/valueType': 'db.type/foo' } },
      { 'a/x': { 'db/cardinality': 'db.cardinality/lots' } },
      { 'a/x': { 'db/unique': 'db.unique/maybe' } },
      { 'a/x': { 'db/index': 'yes' } },
      { 'a/x': 5 },
      '[1 2]',
      { 'a/x': { 'db/tupleAttrs': ['a/y', 'a/z'], 'db/cardinality': 'db.cardinality/many' } },
      { 'a/m': { 'db/cardinality': 'db.cardinality/many' }, 'a/x': { 'db/tupleAttrs': ['a/m', 'a/z'] } },
    ];
    for (const s of bad) {
      expect(() => parseSchema(s as never), JSON.stringify(s)).toThrowError(expect.objectContaining({ code: 'schema/validation' }));
    }
    try {
      parseSchema({ 'a/x': { 'db/isComponent': true } });
    } catch (e) {
      expect((e as { data: { attribute: unknown } }).data.attribute).toBe(kw('a/x'));
    }
  });
});
