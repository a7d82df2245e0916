import { describe, expect, it } from 'vitest';
import { canonical, dsCreateDb, dsDatoms, dsWith } from '@dataloom/test/oracle/datascript.js';
import { kw, sym } from '../edn/index.js';
import { compareKeywords, compareValues } from './compare.js';
import { createDb } from './database.js';

describe('compareValues (DataScript value order)', () => {
  it('orders mixed-type values exactly like DataScript AVET', () => {
    const vals: unknown[] = [
      3, 'abc', true, false, new Date(5), 1.5, 'B', kw('b/x'), kw('a.b/a'), kw('z'), kw('a/b'), -7, new Date(1),
      [1, 2], [1], ['a'], kw('b/a'), '', Infinity, -Infinity, 'ä', 'a', 0, [0, 'z'], [0, 'a'],
    ];
    const tx = vals.map((v, i) => [kw('db/add'), i + 1, kw('v'), v]);
    const schema = '{:v {:db/index true}}';
    const ds = dsWith(dsCreateDb(schema), tx).db;
    const theirs = dsDatoms(ds, 'avet', kw('v')).map((d) => d.e);
    const ours = createDb(schema).with(tx).dbAfter.datoms('avet', 'v').map((d) => d.e);
    expect(ours).toEqual(theirs);
    const sorted = vals.map((v, i) => [v, i + 1] as const).sort((a, b) => compareValues(a[0], b[0]));
    expect(sorted.map(([, e]) => e)).toEqual(theirs);
    expect(canonical(ours)).toBe(canonical(theirs));
  });

  it('keywords: no namespace first, then namespace, then name', () => {
    const ks = [kw('b/a'), kw('a'), kw('a.b/a'), kw('a/z'), kw('a/b'), kw('z')];
    expect(ks.sort(compareKeywords).map(String)).toEqual([':a', ':z', ':a/b', ':a/z', ':a.b/a', ':b/a']);
  });

  it('is a total order consistent with equality', () => {
    expect(compareValues(new Date(3), new Date(3))).toBe(0);
    expect(compareValues([1, 'a'], [1, 'a'])).toBe(0);
    expect(compareValues(sym('x'), sym('y'))).toBeLessThan(0);
    expect(compareValues(kw('a'), true)).toBeLessThan(0); // keyword < boolean < date < symbol < number < string
    expect(compareValues(true, new Date(0))).toBeLessThan(0);
    expect(compareValues(new Date(0), sym('a'))).toBeLessThan(0);
    expect(compareValues(sym('a'), 0)).toBeLessThan(0);
    expect(compareValues(0, '')).toBeLessThan(0);
    expect(compareValues('', [])).toBeLessThan(0);
  });
});
