import { describe, expect, it } from 'vitest';
import { DsHarness, rowsOf } from './ds-harness.js';
import * as chic from '../../examples/chicago/scenario.js';

describe('Chicago outfit on the engine (DataScript as oracle)', () => {
  it('initial results and -old/+new on an earnings change', () => {
    const h = new DsHarness({ 'thug/boss': { ':db/valueType': ':db.type/ref' }, 'thug/territory': { ':db/valueType': ':db.type/ref' } });
    h.transact(chic.initialData);
    h.settle();
    const terr = h.register('chic/territory-earnings', chic.territoryEarnings);
    const sub = h.register('chic/sub-earnings', chic.subEarnings, chic.rules);
    const total = h.register('chic/thug-total-earnings', chic.thugTotalEarnings);
    expect(rowsOf(terr)).toEqual(h.oracle(chic.territoryEarnings));
    expect(rowsOf(sub)).toEqual(h.oracle(chic.subEarnings, chic.rules));
    const totals = new Map(total.rows().map(([t]) => [t[1], t[2]]));
    expect([...totals.entries()].sort()).toEqual(
      [
        ['alfredo', 1720],
        ['bernado', 720],
        ['carlo', 120],
        ['cristiano', 100],
        ['aurora', 1600],
        ['berta', 700],
        ['carla', 125],
        ['corinna', 125],
      ].sort(),
    );
    h.transact([
      [':db/retract', 10, 'thug/earnings', 125],
      [':db/add', 10, 'thug/earnings', 550],
    ]);
    expect(terr.diffs.map(([t, w]) => [...t, w]).sort()).toEqual([
      ['east', 1600, -1],
      ['east', 2025, 1],
    ]);
    expect(rowsOf(sub)).toEqual(h.oracle(chic.subEarnings, chic.rules));
    expect(total.diffs.map(([t, w]) => [...t, w]).sort()).toEqual(
      [
        [10, 'corinna', 125, -1],
        [10, 'corinna', 550, 1],
        [7, 'aurora', 1600, -1],
        [7, 'aurora', 2025, 1],
        [8, 'berta', 700, -1],
        [8, 'berta', 1125, 1],
      ].sort(),
    );
    h.settle();
  });
});
