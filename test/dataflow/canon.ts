import { Keyword, printEdn } from '@dataloom/core';

/** An order-independent printed form of a query result value; floats to `precision` digits. */
export function norm(v: unknown, precision: number): string {
  const n = (x: unknown) => norm(x, precision);
  if (v instanceof Set) return '#{' + [...v].map(n).sort().join(' ') + '}';
  if (Array.isArray(v)) return '[' + v.map(n).join(' ') + ']';
  if (v instanceof Map) return '{' + [...v].map(([k, x]) => n(k) + ' ' + n(x)).sort().join(', ') + '}';
  if (v instanceof Keyword) return String(v);
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(precision);
  if (typeof v === 'string') return JSON.stringify(v);
  return printEdn(v as never);
}

/** A result (set, bag or scalar) as a sorted list of printed rows. */
export function canonRows(r: unknown, precision: number): string[] {
  return r instanceof Set || Array.isArray(r) ? [...r].map((x) => norm(x, precision)).sort() : [norm(r, precision)];
}
