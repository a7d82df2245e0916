import { describe, expect, it } from 'vitest';
import { DsHarness, rowsOf } from './ds-harness.js';

describe('engine smoke', () => {
  it('join, then incremental change', () => {
    const h = new DsHarness();
    h.transact([{ ':db/id': 1, name: 'Ivan', age: 15 }, { ':db/id': 2, name: 'Petr', age: 37 }]);
    h.settle();
    const q = '[:find ?n ?a :where [?e :name ?n] [?e :age ?a]]';
    const out = h.register('q', q);
    expect(rowsOf(out)).toEqual(h.oracle(q));
    h.transact([[':db/add', 1, 'age', 16], { ':db/id': 3, name: 'Oleg', age: 20 }]);
    expect(rowsOf(out)).toEqual(h.oracle(q));
    expect(out.diffs.length).toBe(3);
    h.settle();
  });
});
