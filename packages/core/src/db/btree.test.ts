import { describe, expect, it } from 'vitest';
import { PSet } from './btree.js';
import { mulberry32 } from '@dataloom/test/gen/prng.js';

const cmp = (a: number, b: number): number => a - b;
const seeds = process.env.FUZZ_SEED ? [Number(process.env.FUZZ_SEED)] : Array.from({ length: Number(process.env.FUZZ_RUNS ?? 8) }, (_, i) => i + 1);

describe('persistent B+tree', () => {
  for (const seed of seeds) {
    it(`random inserts/deletes match a sorted-array model, old versions intact (seed ${seed})`, () => {
      try {
        const rnd = mulberry32(seed);
        let set = rnd() < 0.5 ? PSet.empty(cmp) : PSet.fromSorted([...Array(500).keys()].map((x) => x * 2), cmp);
        let model = set.toArray();
        const versions: Array<[PSet<number>, number[]]> = [];
        for (let round = 0; round < 40; round++) {
          const t = set.transient();
          const m = new Set(model);
          const n = Math.floor(rnd() * 200);
          for (let i = 0; i < n; i++) {
            const k = Math.floor(rnd() * 2000);
            if (rnd() < 0.55) expect(t.add(k)).toBe(!m.has(k)), m.add(k);
            else expect(t.delete(k)).toBe(m.has(k)), m.delete(k);
          }
          versions.push([set, model]);
          set = t.persistent();
          model = [...m].sort(cmp);
          expect(set.size).toBe(model.length);
          expect(set.toArray()).toEqual(model);
          // range scans
          const lo = Math.floor(rnd() * 2000);
          const hi = lo + Math.floor(rnd() * 300);
          const probe = (k: number): number => (k < lo ? -1 : k > hi ? 1 : 0);
          expect(set.range(probe)).toEqual(model.filter((k) => k >= lo && k <= hi));
          expect([...set.iterateFrom((k) => k - lo)]).toEqual(model.filter((k) => k >= lo));
          const back: number[] = [];
          set.forEachBackFrom((k) => k - hi, (k) => void back.push(k));
          expect(back).toEqual(model.filter((k) => k <= hi).reverse());
          expect(set.first((k) => k - lo)).toBe(model.includes(lo) ? lo : undefined);
        }
        for (const [v, m] of versions) expect(v.toArray()).toEqual(m);
      } catch (e) {
        console.error(`replay with FUZZ_SEED=${seed}`);
        throw e;
      }
    });
  }

  it('fromSorted builds a valid tree for many sizes', () => {
    for (const n of [0, 1, 47, 48, 49, 64, 65, 100, 1000, 5000]) {
      const keys = [...Array(n).keys()];
      const s = PSet.fromSorted(keys, cmp);
      expect(s.toArray()).toEqual(keys);
      const t = s.transient();
      for (const k of keys) if (k % 3 === 0) t.delete(k);
      expect(t.persistent().toArray()).toEqual(keys.filter((k) => k % 3 !== 0));
      expect(s.toArray()).toEqual(keys);
    }
  });
});
