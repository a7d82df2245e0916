import { describe, expect, it } from 'vitest';
import { formatHlc } from '../hlc/hlc.js';
import type { Op, WireValue } from './types.js';
import { MergeState } from './state.js';
import { mergeSchemaOf } from './schema.js';
import { attrEntityId, dataMergeSchema, schemaAsData, schemaFromDatoms, schemaValueError, schemaWithData } from './schema-data.js';
import { wireValueHasType } from './value.js';

let n = 0;
function tx(ops: Array<Omit<Op, 'id' | 'tx'>>, ms = 1000 + n++): Op[] {
  const t = formatHlc({ ms, counter: 0, replica: 'ra' });
  return ops.map((o, i) => ({ id: `${t}/${i}`, tx: t, ...o }));
}
const kw = (k: string): WireValue => ({ kw: k });

describe('schema as data', () => {
  it('reads a schema in every input form with one reader (map, EDN, Datomic-style vector) and validates it', () => {
    const a = mergeSchemaOf({ 'p/friend': { 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/many' } });
    const b = mergeSchemaOf('{:p/friend {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many}}');
    const c = mergeSchemaOf([{ ':db/ident': ':p/friend', ':db/valueType': ':db.type/ref', ':db/cardinality': ':db.cardinality/many' }]);
    expect(a.get('p/friend')).toEqual(b.get('p/friend'));
    expect(c.get('p/friend')).toEqual(a.get('p/friend'));
    expect(a.sameAs(c)).toBe(true);
    expect(() => mergeSchemaOf({ 'p/x': { 'db/valueType': 'db.type/blob' } })).toThrowError(expect.objectContaining({ code: 'schema/validation' }));
    expect(() => mergeSchemaOf([{ ':db/valueType': ':db.type/long' }])).toThrowError(expect.objectContaining({ code: 'schema/validation' }));
  });

  it('writes a schema as data and reads the same schema back from the merged datoms', () => {
    const input = { 'p/name': { 'db/valueType': 'db.type/string', 'db/unique': 'db.unique/identity' }, 'p/tags': { 'db/cardinality': 'db.cardinality/many' }, 'p/home': { 'db/valueType': 'db.type/ref', 'db/isComponent': true } };
    const data = schemaAsData(input);
    expect([...data.get('p/name')!]).toEqual([
      ['db/valueType', kw('db.type/string')],
      ['db/cardinality', kw('db.cardinality/one')],
      ['db/unique', kw('db.unique/identity')],
      ['db/isComponent', false],
      ['db/index', false],
    ]);
    const ops: Array<Omit<Op, 'id' | 'tx'>> = [];
    for (const [ident, props] of data) {
      const e = attrEntityId(ident);
      ops.push({ e, op: 'add', a: 'db/ident', v: kw(ident) });
      for (const [a, v] of props) ops.push({ e, op: 'add', a, v });
    }
    const all = tx(ops);
    expect(dataMergeSchema(all).sameAs(mergeSchemaOf(input))).toBe(true);
    const s = new MergeState();
    s.apply(all);
    expect([...schemaFromDatoms(s.datoms()).keys()].sort()).toEqual(['p/home', 'p/name', 'p/tags']);
  });

  it('follows the merge rules: latest value wins, a tombstoned definition defines nothing, an invalid one is ignored', () => {
    const e = attrEntityId('q/n');
    const def = tx([
      { e, op: 'add', a: 'db/ident', v: kw('q/n') },
      { e, op: 'add', a: 'db/valueType', v: kw('db.type/long') },
    ]);
    const later = tx([{ e, op: 'add', a: 'db/cardinality', v: kw('db.cardinality/many') }]);
    expect(dataMergeSchema([...def, ...later]).get('q/n')).toMatchObject({ valueType: 'long', many: true });
    const gone = tx([{ e, op: 'retractEntity' }]);
    expect(dataMergeSchema([...def, ...later, ...gone]).get('q/n').valueType).toBe(null);
    const bad = tx([{ e, op: 'add', a: 'db/isComponent', v: true }]); // a component must be a ref
    expect(dataMergeSchema([...def, ...bad]).get('q/n').valueType).toBe(null);
    // the app schema extended with data: data replaces the app's definition of that attribute
    const ext = schemaWithData({ ':q/n': { ':db/valueType': ':db.type/string' }, ':q/other': {} }, [...def]) as Record<string, unknown>;
    expect(ext[':q/n']).toEqual({ ':db/valueType': ':db.type/long' });
    expect(ext[':q/other']).toEqual({});
    const plain = { ':q/x': {} };
    expect(schemaWithData(plain, tx([{ e: 'rb.1', op: 'add', a: 'q/x', v: 1 }]))).toBe(plain);
  });

  it('validates schema values with the schema reader', () => {
    expect(schemaValueError('db/valueType', kw('db.type/long'))).toBe(null);
    expect(schemaValueError('db/valueType', kw('db.type/blob'))).toMatch(/valueType/);
    expect(schemaValueError('db/cardinality', kw('db.cardinality/few'))).not.toBe(null);
    expect(schemaValueError('db/unique', kw('db.unique/value'))).toBe(null);
    expect(schemaValueError('db/isComponent', 'yes')).toBe('expected a boolean');
    expect(schemaValueError('db/ident', 'p/x')).toBe('expected a keyword');
    expect(schemaValueError('db/doc', 'about')).toBe(null);
    expect(attrEntityId('p/x')).toBe(attrEntityId('p/x'));
    expect(attrEntityId('p/x')).toMatch(/^attr\.[0-9a-z]+_[0-9a-z]+$/);
  });

  it('wire values against declared types', () => {
    expect(wireValueHasType(3, 'long')).toBe(true);
    expect(wireValueHasType(3.5, 'long')).toBe(false);
    expect(wireValueHasType(3.5, 'double')).toBe(true);
    expect(wireValueHasType('x', 'string')).toBe(true);
    expect(wireValueHasType({ ref: 'ra.1' }, 'ref')).toBe(true);
    expect(wireValueHasType({ ref: 'ra.1' }, null)).toBe(false);
    expect(wireValueHasType({ kw: 'a/b' }, null)).toBe(true);
    expect(wireValueHasType({ inst: 1 }, 'instant')).toBe(true);
    expect(wireValueHasType({ uuid: '6ba7b810-9dad-11d1-80b4-00c04fd430c8' }, 'uuid')).toBe(true);
    expect(wireValueHasType('x', 'tuple')).toBe(false);
  });
});
