/**
 * The built-ins marked as unable to throw (`cannotThrow`, builtins.ts) do not throw on any values:
 * the server's permission rules call them unwrapped over data any client may have written
 * (@dataloom/server permissions/quiet.ts). Seeded random values of every kind data or built-ins
 * can produce, hostile ones included (NaN, -0, an invalid date — a wire instant past ±8.64e15 ms,
 * bigints, nested collections, class instances, functions). Not objects without a prototype
 * (`Object.create(null)`: no data or built-in makes one; `<` cannot order them).
 */
import { describe, expect, it } from 'vitest';
import { kw, List, sym, Tagged, Uuid } from '@dataloom/core';
import { mulberry32, pick, seeds } from '@dataloom/test/gen/prng.js';
import { BUILTINS, cannotThrow } from './builtins.js';

class Opaque {
  constructor(readonly x: number) {}
}
const ATOMS: (() => unknown)[] = [
  () => null, () => undefined, () => true, () => false, () => 0, () => -0, () => NaN, () => Infinity, () => -Infinity,
  () => 2 ** 60, () => 1.5, () => '', () => 'abc', () => '\u0001\u0000é😀', () => kw('a/b'), () => kw('c'), () => sym('s'),
  () => new Uuid('00000000-0000-0000-0000-000000000001'), () => new Date(0), () => new Date(NaN), () => new Uint8Array([1, 2]),
  () => 12n, () => new Opaque(1), () => /re/g, () => (x: unknown) => x,
];

function value(rnd: () => number, depth: number): unknown {
  const r = rnd();
  if (depth > 2 || r < 0.6) return pick(rnd, ATOMS)();
  const n = Math.floor(rnd() * 3);
  const xs = Array.from({ length: n }, () => value(rnd, depth + 1));
  if (r < 0.7) return xs;
  if (r < 0.78) return new Set(xs);
  if (r < 0.86) return new Map(xs.map((x, i) => [x, i]));
  if (r < 0.92) return new List(xs as never[]);
  if (r < 0.96) return new Tagged('inst', xs[0] ?? null);
  return { a: xs[0] ?? null, b: xs };
}

describe('built-ins marked cannotThrow', () => {
  const total = [...BUILTINS.keys()].filter(cannotThrow);
  it('are the expected ones (others, that can, are wrapped by the server)', () => {
    expect(total.sort()).toEqual(['!=', '<', '<=', '=', '==', '>', '>=', 'false?', 'ground', 'identity', 'nil?', 'not=', 'some?', 'str', 'true?'].sort());
    for (const n of ['re-find', 'subs', 'compare', 'get-else', 'get-some', 'missing?', 'even?', 'name']) expect(cannotThrow(n), n).toBe(false);
    expect(cannotThrow('no-such-fn')).toBe(false);
  });
  for (const seed of seeds(3, 9100)) {
    it(`throw on no values (seed ${seed})`, () => {
      const rnd = mulberry32(seed);
      for (let i = 0; i < 3000; i++) {
        const name = pick(rnd, total);
        const args = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => value(rnd, 0));
        expect(() => BUILTINS.get(name)!(...args), `${name} seed ${seed} #${i}`).not.toThrow();
      }
    });
  }
});
