import { describe, expect, it } from 'vitest';
import { mulberry32, pick } from '@dataloom/test/gen/prng.js';
import { colsKey, keyedByIdentity, pairKey, tupleKey, valueEquals, valueKey } from './key.js';
import { List, Tagged, Uuid, kw, sym } from './types.js';

const same = (a: unknown, b: unknown) => expect(valueKey(a) === valueKey(b), `${String(valueKey(a))} === ${String(valueKey(b))}`).toBe(true);
const differ = (a: unknown, b: unknown) => expect(valueKey(a)).not.toBe(valueKey(b));

describe('valueKey: equal keys exactly when DataScript = holds', () => {
  it('keys numbers by themselves and tags every other type', () => {
    expect(valueKey(42)).toBe(42);
    same(-0, 0);
    differ(1, '1');
    differ('T', true);
    differ('N', null);
    differ(':a', kw('a'));
    differ("'a", sym('a'));
    differ(kw('a'), sym('a'));
    same(null, undefined);
    same(new Date(5), new Date(5));
    differ(new Date(5), 5);
    same(new Uuid('0000'), new Uuid('0000'));
    differ(new Uuid('0000'), '0000');
  });

  it('vectors equal lists of the same elements, element-wise and nested', () => {
    same([1, 'a', kw('k')], new List([1, 'a', kw('k')]));
    same([[1, 2], [3]], [new List([1, 2]), [3]]);
    differ([[1, 2], [3]], [[1], [2, 3]]);
    differ([1, 2], [1, 2, null]);
    differ(['a\u0001"b'], ['a', 'b']);
    differ([['a'], 'b'], [['a', 'b']]);
  });

  it('sets, maps and plain objects by content, whatever the insertion order', () => {
    same(new Set([1, 2, 3]), new Set([3, 1, 2]));
    differ(new Set([1, 2]), new Set([1, 2, 3]));
    same(new Map<unknown, unknown>([[kw('a'), 1], ['b', [2]]]), new Map<unknown, unknown>([['b', new List([2])], [kw('a'), 1]]));
    differ(new Map([[1, 2]]), new Map([[2, 1]]));
    same({ a: 1, b: [2] }, { b: [2], a: 1 });
    differ({ a: 1 }, { a: '1' });
    differ({ a: 1 }, new Map([['a', 1]]));
    same(new Tagged('x', [1]), new Tagged('x', [1]));
    same(new Uint8Array([1, 2]), new Uint8Array([1, 2]));
  });

  it('keys functions and class instances by identity', () => {
    const f = () => 1;
    const g = () => 1;
    same(f, f);
    differ(f, g);
    class Db {}
    const d = new Db();
    same(d, d);
    differ(d, new Db());
  });

  it('tuple keys agree with each other and pack small integer pairs into a number', () => {
    expect(pairKey(3, 4)).toBe(tupleKey([3, 4]));
    expect(typeof pairKey(3, 4)).toBe('number');
    expect(tupleKey([1, 'a', kw('b')])).toBe(colsKey([kw('b'), 1, 'x', 'a'], [1, 3, 0]));
    expect(tupleKey(['a\u0001', 'b'])).not.toBe(tupleKey(['a', '\u0001b']));
    expect(tupleKey([1, '2'])).not.toBe(tupleKey(['1', 2]));
    expect(tupleKey([])).toBe('');
  });

  it('valueEquals agrees with comparing keys (seeded random values)', () => {
    const seed = 8;
    const rnd = mulberry32(seed);
    const atoms: unknown[] = [0, -0, 1, 1.5, '1', 'a', '', true, false, null, undefined, kw('a'), kw('b/a'), sym('a'), new Date(1), new Date(2), new Uuid('u')];
    const gen = (depth: number): unknown => {
      const r = rnd();
      if (depth > 2 || r < 0.6) return pick(rnd, atoms);
      const xs = Array.from({ length: Math.floor(rnd() * 3) }, () => gen(depth + 1));
      if (r < 0.7) return xs;
      if (r < 0.8) return new List(xs as never);
      if (r < 0.9) return new Set(xs);
      return new Map(xs.map((x, i) => [i % 2, x]));
    };
    for (let i = 0; i < 3000; i++) {
      const a = gen(0);
      const b = rnd() < 0.3 ? a : gen(0);
      expect(valueEquals(a, b), `seed ${seed}, case ${i}`).toBe(valueKey(a) === valueKey(b));
    }
  });
});

describe('keyedByIdentity: the key rests on some object identity', () => {
  class Box {
    constructor(readonly x: unknown) {}
  }
  it('is true exactly where two values built alike get different keys', () => {
    const built: [() => unknown, boolean][] = [
      [() => 1, false], [() => 'a', false], [() => null, false], [() => kw('a'), false], [() => new Date(5), false],
      [() => [1, 'x'], false], [() => ({ a: [1] }), false], [() => new Set([1]), false], [() => /x/g, false],
      [() => new Box(1), true], [() => () => 1, true], [() => [1, new Box(2)], true], [() => ({ a: new Box(1) }), true],
      [() => new Map([[new Box(1), 2]]), true], [() => new Set([new Box(1)]), true], [() => new Tagged('t', new Box(1)), true],
      [() => new List([new Box(1)]), true],
    ];
    for (const [make, id] of built) {
      expect(keyedByIdentity(make()), String(make)).toBe(id);
      expect(valueKey(make()) !== valueKey(make()), String(make)).toBe(id);
    }
  });
});
