import { bench, describe } from 'vitest';
import { RowSet } from './row-set.js';


/** Cost of applying one transaction's diffs to a cached hook result (what `useQuery` adds to a render). */
describe('RowSet.apply', () => {
  for (const n of [100, 100_000]) {
    const rows: unknown[][] = Array.from({ length: n }, (_, i) => [i, `name${i}`, i % 100]);
    const rs = new RowSet(rows);
    const value = rows.map((r) => r[2] as number);
    let k = 0;
    bench(`aggregate-style -old/+new pair, ${n} rows`, () => {
      const i = (k++ * 37) % n;
      const from = value[i]!;
      rs.apply([
        [[i, `name${i}`, from], k, -1],
        [[i, `name${i}`, from + 1], k, 1],
      ]);
      value[i] = from + 1;
    });
    const rs2 = new RowSet(rows);
    bench(`unrelated transaction (net-zero batch), ${n} rows`, () => {
      rs2.apply([[[-1], 0, 1], [[-1], 0, -1]]);
    });
  }
});
