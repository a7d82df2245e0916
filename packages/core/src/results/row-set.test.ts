import { valueKey, type ValueKey } from '../edn/key.js';
import { kw } from '../edn/types.js';
import { describe, expect, it } from 'vitest';
import { RowSet } from './row-set.js';
import { rowsOf } from './shape.js';
import type { Diff } from './shape.js';

type Row = readonly unknown[];
import { mulberry32 } from '@dataloom/test/gen/prng.js';


describe('RowSet', () => {
  it('keeps the snapshot identity when a batch has no net effect', () => {
    const rs = new RowSet([[1, 'a'], [2, 'b']]);
    const before = rs.snapshot;
    expect(rs.apply([[[3, 'c'], 1, 1], [[3, 'c'], 1, -1]])).toBe(false);
    expect(rs.apply([])).toBe(false);
    expect(rs.apply([[[9, 'z'], 1, -1]])).toBe(false); // removing an absent row
    expect(rs.snapshot).toBe(before);
  });

  it('changes identity on a real change and keeps unchanged rows identical', () => {
    const a: Row = [1, 'a'];
    const rs = new RowSet([a, [2, 'b']]);
    const before = rs.snapshot;
    expect(rs.apply([[[3, 'c'], 1, 1]])).toBe(true);
    expect(rs.snapshot).not.toBe(before);
    expect(rs.snapshot[0]).toBe(a);
    expect(rs.snapshot.map((r) => r[1])).toEqual(['a', 'b', 'c']);
  });

  it('puts an aggregate -old/+new pair in place', () => {
    const rs = new RowSet([['east', 1600], ['west', 1720]]);
    rs.apply([[['east', 1600], 2, -1], [['east', 1700], 2, 1]]);
    expect(rs.snapshot).toEqual([['east', 1700], ['west', 1720]]);
  });

  it('keeps bag multiplicities', () => {
    const rs = new RowSet([[1], [1], [2]]);
    rs.apply([[[1], 2, -1]]);
    expect(rs.snapshot).toEqual([[1], [2]]);
    rs.apply([[[2], 3, 2]]);
    expect(rs.snapshot).toEqual([[1], [2], [2], [2]]);
  });

  it('matches rows structurally (keywords, dates, maps)', () => {
    const rs = new RowSet([[kw('a/b'), new Date(5), new Map([[kw('x'), 1]])]]);
    expect(rs.apply([[[kw(':a/b'), new Date(5), new Map([[kw('x'), 1]])], 1, -1]])).toBe(true);
    expect(rs.snapshot).toEqual([]);
  });

  it('normalises result shapes', () => {
    expect(rowsOf(new Set([[1, 2]]), 'rel')).toEqual([[1, 2]]);
    expect(rowsOf([new Map([[kw('a'), 1]])], 'rel')).toEqual([new Map([[kw('a'), 1]])]);
    expect(rowsOf([3, 4], 'coll')).toEqual([[3], [4]]);
    expect(rowsOf([3, 4], 'tuple')).toEqual([[3, 4]]);
    expect(rowsOf(null, 'tuple')).toEqual([]);
    expect(rowsOf(7, 'scalar')).toEqual([[7]]);
    expect(rowsOf(null, 'scalar')).toEqual([]);
  });

  it('agrees with a multiset model under random batches', () => {
    const seed = Number(process.env.FUZZ_SEED ?? 0x5eed);
    const runs = Number(process.env.FUZZ_RUNS ?? 200);
    for (let run = 0; run < runs; run++) {
      const s = seed + run;
      const rnd = mulberry32(s);
      const model = new Map<ValueKey, number>();
      const rs = new RowSet();
      try {
        for (let step = 0; step < 30; step++) {
          const batch: Diff[] = [];
          const n = Math.floor(rnd() * 5);
          for (let i = 0; i < n; i++) {
            // Small domains give bag rows (count > 1); large ones keep every row once (fast path).
            const row: Row = [Math.floor(rnd() * (run % 2 === 0 ? 6 : 40))];
            const key = valueKey(row);
            const have = model.get(key) ?? 0;
            // Engines only retract what is there (counting within the batch).
            const mult = have > 0 && rnd() < (run % 2 === 0 ? 0.5 : 0.9) ? -1 : 1;
            model.set(key, have + mult);
            batch.push([row, step, mult]);
          }
          const before = rs.snapshot;
          const changed = rs.apply(batch);
          const counts = new Map<ValueKey, number>();
          for (const r of rs.snapshot) counts.set(valueKey(r), (counts.get(valueKey(r)) ?? 0) + 1);
          const expected = new Map([...model].filter(([, c]) => c > 0));
          expect(counts).toEqual(expected);
          expect([...rs.snapshot]).toEqual(rs.fromSlots());
          expect(changed).toBe(rs.snapshot !== before);
        }
      } catch (e) {
        console.error(`replay with FUZZ_SEED=${s} FUZZ_RUNS=1`);
        throw e;
      }
    }
  });
});
