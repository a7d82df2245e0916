import { describe, expect, it } from 'vitest';
import { MirroredView } from './mirror.js';

describe('MirroredView', () => {
  it('a diff that overtakes the initial result still nets out', () => {
    const v = new MirroredView(() => {});
    v.apply({ tx: 't2', rows: [['a'], ['c']], mults: [-1, 1] });
    v.init({ kind: 'rel', asSet: true, rows: [['a'], ['b']] });
    expect(v.result()).toEqual(new Set([['b'], ['c']]));
  });
  it('shapes results by find kind', () => {
    const s = new MirroredView(() => {});
    s.init({ kind: 'scalar', asSet: false, rows: [[3]] });
    expect(s.result()).toBe(3);
    s.apply({ tx: 1, rows: [[3], [4]], mults: [-1, 1] });
    expect(s.result()).toBe(4);
    const c = new MirroredView(() => {});
    c.init({ kind: 'coll', asSet: false, rows: [['x'], ['y']] });
    expect(c.result()).toEqual(['x', 'y']);
    const a = new MirroredView(() => {});
    a.init({ kind: 'rel', asSet: false, rows: [[1], [1]] });
    expect(a.result()).toEqual([[1], [1]]);
  });
});
