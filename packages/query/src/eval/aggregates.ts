/**
 * DataScript's built-in aggregates (`datascript.built-ins/aggregates`). Each receives the group's
 * values (already deduplicated over the find ∪ with variables, as DataScript does) and, for the
 * parameterised ones, the leading arguments (`(max 3 ?x)` → `fn(3, values)`).
 */
import { compareValues, valueKey } from '@dataloom/core';
import { queryError } from '../errors.js';
import { cljCompare } from './builtins.js';

export type AggregateFn = (...args: unknown[]) => unknown;

const sortAsc = (xs: unknown[]): unknown[] => xs.slice().sort(compareValues);
/** min/max compare like Clojure's `compare`: values of different types throw. */
const sortCmp = (xs: unknown[]): unknown[] => xs.slice().sort(cljCompare);

function sum(xs: unknown[]): number {
  let s = 0;
  for (const x of xs) s += x as number;
  return s;
}

function variance(xs: unknown[]): number {
  const n = xs.length;
  const mean = sum(xs) / n;
  let acc = 0;
  for (const x of xs) acc += ((x as number) - mean) ** 2;
  return acc / n;
}

function median(xs: unknown[]): unknown {
  const s = sortAsc(xs);
  const n = s.length;
  const h = n >> 1;
  if (n % 2 === 1) return s[h];
  return ((s[h - 1] as number) + (s[h] as number)) / 2;
}

function minOf(xs: unknown[]): unknown {
  let m = xs[0];
  for (let i = 1; i < xs.length; i++) if (cljCompare(xs[i], m) < 0) m = xs[i];
  return m;
}
function maxOf(xs: unknown[]): unknown {
  let m = xs[0];
  for (let i = 1; i < xs.length; i++) if (cljCompare(xs[i], m) > 0) m = xs[i];
  return m;
}

function nArg(n: unknown, fn: string): number {
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0) return n;
  throw queryError('query/call', `${fn}: expected a non-negative integer count, got ${String(n)}`, n);
}

function shuffled(xs: unknown[]): unknown[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Built-in aggregates by name. The last argument is always the array of values. */
export const AGGREGATES: ReadonlyMap<string, AggregateFn> = new Map<string, AggregateFn>([
  ['count', (xs) => (xs as unknown[]).length],
  ['count-distinct', (xs) => new Set((xs as unknown[]).map(valueKey)).size],
  ['sum', (xs) => sum(xs as unknown[])],
  ['avg', (xs) => sum(xs as unknown[]) / (xs as unknown[]).length],
  ['median', (xs) => median(xs as unknown[])],
  ['variance', (xs) => variance(xs as unknown[])],
  ['stddev', (xs) => Math.sqrt(variance(xs as unknown[]))],
  ['distinct', (xs) => {
    const seen = new Set<unknown>();
    const out = new Set<unknown>();
    for (const x of xs as unknown[]) {
      const k = valueKey(x);
      if (!seen.has(k)) {
        seen.add(k);
        out.add(x);
      }
    }
    return out;
  }],
  [
    'min',
    (...args) => {
      if (args.length === 1) return minOf(args[0] as unknown[]);
      return sortCmp(args[1] as unknown[]).slice(0, nArg(args[0], 'min'));
    },
  ],
  [
    'max',
    (...args) => {
      if (args.length === 1) return maxOf(args[0] as unknown[]);
      // ascending, like DataScript
      const s = sortCmp(args[1] as unknown[]);
      const n = nArg(args[0], 'max');
      return s.slice(Math.max(0, s.length - n));
    },
  ],
  ['sample', (n, xs) => shuffled(xs as unknown[]).slice(0, nArg(n, 'sample'))],
  [
    'rand',
    (...args) => {
      if (args.length === 1) {
        const xs = args[0] as unknown[];
        return xs[Math.floor(Math.random() * xs.length)];
      }
      const xs = args[1] as unknown[];
      return Array.from({ length: nArg(args[0], 'rand') }, () => xs[Math.floor(Math.random() * xs.length)]);
    },
  ],
]);
