/**
 * Built-in predicates and functions, shared with the one-shot engine: this adapter reads the
 * `BUILTINS` table exported by `@dataloom/query` (DataScript's `datascript.built-ins`), so both
 * engines agree on every function's semantics. A small fallback table keeps the engine usable if
 * the query package does not export the table (it is read dynamically for that reason).
 */
import * as query from '@dataloom/query';
import { compareValues } from './compare.js';
import { valueEq } from '../zset/keys.js';

export type Fn = (...args: unknown[]) => unknown;

const cmp = (ok: (c: number) => boolean): Fn => (...xs) => {
  for (let i = 1; i < xs.length; i++) if (!ok(compareValues(xs[i - 1], xs[i]))) return false;
  return true;
};

const FALLBACK = new Map<string, Fn>([
  ['=', (...xs) => xs.every((x) => valueEq(xs[0], x))],
  ['==', (...xs) => xs.every((x) => xs[0] === x)],
  ['not=', (...xs) => !xs.every((x) => valueEq(xs[0], x))],
  ['!=', (...xs) => !xs.every((x) => valueEq(xs[0], x))],
  ['<', cmp((c) => c < 0)],
  ['>', cmp((c) => c > 0)],
  ['<=', cmp((c) => c <= 0)],
  ['>=', cmp((c) => c >= 0)],
  ['+', (...xs) => xs.reduce((a: number, b) => a + (b as number), 0)],
  ['-', (...xs) => (xs.length === 1 ? -(xs[0] as number) : xs.slice(1).reduce((a: number, b) => a - (b as number), xs[0] as number))],
  ['*', (...xs) => xs.reduce((a: number, b) => a * (b as number), 1)],
  ['/', (...xs) => xs.slice(1).reduce((a: number, b) => a / (b as number), xs[0] as number)],
  ['inc', (x) => (x as number) + 1],
  ['dec', (x) => (x as number) - 1],
  ['str', (...xs) => xs.map((x) => (x === null || x === undefined ? '' : String(x))).join('')],
  ['identity', (x) => x],
  ['ground', (x) => x],
  ['tuple', (...xs) => xs],
  ['untuple', (x) => x],
]);

/** The built-in function named `name`, or undefined. */
export function builtinFn(name: string): Fn | undefined {
  const table = (query as unknown as { BUILTINS?: ReadonlyMap<string, Fn> }).BUILTINS;
  return table?.get(name) ?? FALLBACK.get(name);
}
