import { describe, expect, it } from 'vitest';
import { Arrangement } from './arrangement.js';
import { colsKey } from '@dataloom/core/internals';

const collect = (a: Arrangement, mask: number, sub: string | number, old: boolean) => {
  const out: unknown[][] = [];
  a.each(mask, sub, old, (t) => out.push(t));
  return out.map((t) => JSON.stringify(t)).sort();
};

describe('Arrangement', () => {
  it('answers lookups in the new and the old state from rows and delta', () => {
    const a = new Arrangement(2);
    a.insert([1, 'x']);
    a.insert([1, 'y']);
    a.insert([2, 'x']);
    expect(collect(a, 1, 1, false)).toEqual(['[1,"x"]', '[1,"y"]']);
    // transaction: remove [1 y], add [1 z]
    const k = a.keyOf([1, 'y']);
    const gone = a.remove(k)!;
    a.pushDelta(gone, -1, k);
    const z = [1, 'z'];
    a.insert(z);
    a.pushDelta(z, 1, a.keyOf(z));
    expect(collect(a, 1, 1, false)).toEqual(['[1,"x"]', '[1,"z"]']);
    expect(collect(a, 1, 1, true)).toEqual(['[1,"x"]', '[1,"y"]']);
    expect(collect(a, 2, '"x', true)).toEqual(['[1,"x"]', '[2,"x"]']);
    expect(collect(a, 0, 0, true)).toEqual(['[1,"x"]', '[1,"y"]', '[2,"x"]']);
    expect(a.contains(a.keyOf([1, 'y']), true)).toBe(true);
    expect(a.contains(a.keyOf([1, 'y']), false)).toBe(false);
    expect(a.contains(a.keyOf([1, 'z']), true)).toBe(false);
    a.clearDelta();
    expect(collect(a, 1, 1, true)).toEqual(['[1,"x"]', '[1,"z"]']);
  });

  it('keeps lazily built indexes in step with inserts and removes', () => {
    const a = new Arrangement(3);
    for (let i = 0; i < 50; i++) a.insert([i % 5, i % 7, i]);
    expect(collect(a, 0b011, colsKey([2, 3], [0, 1]), false)).toEqual(['[2,3,17]']);
    for (let i = 0; i < 50; i += 2) a.remove(a.keyOf([i % 5, i % 7, i]));
    expect(collect(a, 0b001, 2, false)).toEqual(['[2,0,7]', '[2,3,17]', '[2,6,27]', '[2,2,37]', '[2,5,47]'].sort());
  });

  it('keeps buckets right through one tuple, a short list, a map and back, and iterates a snapshot', () => {
    const a = new Arrangement(2);
    const keyed = (i: number) => [7, i];
    expect(collect(a, 1, 7, false)).toEqual([]);
    for (let i = 0; i < 40; i++) {
      a.insert(keyed(i));
      expect(collect(a, 1, 7, false).length).toBe(i + 1);
    }
    for (let i = 0; i < 40; i += 3) a.remove(a.keyOf(keyed(i)));
    const left = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 3 !== 0);
    expect(collect(a, 1, 7, false)).toEqual(left.map((i) => JSON.stringify([7, i])).sort());
    for (const i of left) a.remove(a.keyOf(keyed(i)));
    expect(collect(a, 1, 7, false)).toEqual([]);
    // A short list: removing and inserting under the same key while iterating visits the snapshot.
    for (let i = 0; i < 5; i++) a.insert(keyed(i));
    const seen: number[] = [];
    a.each(1, 7, false, (t) => {
      seen.push(t[1] as number);
      a.remove(a.keyOf(t));
      a.insert(keyed(100 + (t[1] as number)));
    });
    expect(seen.sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4]);
    expect(collect(a, 1, 7, false)).toEqual([100, 101, 102, 103, 104].map((i) => JSON.stringify([7, i])).sort());
  });

  it.each([false, true])('stores integer pairs under their first value and still answers every lookup with mixed rows (compact: %s)', (compact) => {
    const a = new Arrangement(2, compact);
    // Small integer pairs go to the pair store; a string, a negative, a large or fractional value does not.
    const rows: unknown[][] = [[1, 2], [1, 3], [1, 'x'], [1, -4], [1, 2 ** 27], [2.5, 1], [2, 1], [0, 0]];
    for (let i = 0; i < 70; i++) rows.push([9, i]); // past the short-list size of a pair bucket
    for (const t of rows) expect(a.insert(t)).toBe(true);
    expect(a.insertTuple([1, 2])).toBe(false);
    expect(a.insert([1, 3])).toBe(false);
    expect(a.size).toBe(rows.length);
    expect(collect(a, 1, 1, false)).toEqual(['[1,-4]', '[1,"x"]', '[1,134217728]', '[1,2]', '[1,3]'].sort());
    expect(collect(a, 2, 1, false)).toEqual(['[2,1]', '[2.5,1]', '[9,1]']);
    expect(collect(a, 3, a.keyOf([1, 'x']), false)).toEqual(['[1,"x"]']);
    expect(collect(a, 3, a.keyOf([9, 69]), false)).toEqual(['[9,69]']);
    expect(collect(a, 1, 9, false).length).toBe(70);
    const all = [...a.rows].map(([k, t]) => {
      expect(a.keyOf(t)).toBe(k);
      // A compact store hands out fresh tuples; the tuple store its own.
      if (compact) expect(a.rows.get(k)).toEqual(t);
      else expect(a.rows.get(k)).toBe(t);
      return JSON.stringify(t);
    });
    expect(all.sort()).toEqual(rows.map((t) => JSON.stringify(t)).sort());
    expect([...a.rows.values()].length).toBe(rows.length);
    // Removal from both stores, the old state through the delta.
    for (const t of [[1, 2], [1, 'x'], [9, 5]]) {
      const k = a.keyOf(t);
      a.pushDelta(a.remove(k)!, -1, k);
    }
    expect(a.remove(a.keyOf([1, 2]))).toBeUndefined();
    expect(collect(a, 1, 1, false)).toEqual(['[1,-4]', '[1,134217728]', '[1,3]'].sort());
    expect(collect(a, 1, 1, true)).toEqual(['[1,-4]', '[1,"x"]', '[1,134217728]', '[1,2]', '[1,3]'].sort());
    expect(a.contains(a.keyOf([9, 5]), true)).toBe(true);
    expect(a.contains(a.keyOf([9, 5]), false)).toBe(false);
    expect(a.size).toBe(rows.length - 3);
    expect(a.fanout(1)).toBeGreaterThan(1);
  });
});
