import { Keyword, List, Sym, Tagged, Uuid } from './types.js';

/**
 * Prints a value as EDN, the way ClojureScript's `pr-str` prints DataScript's results:
 * sets as `#{…}`, vectors as `[…]`, keywords as `:a/b`, maps as `{:a 1, :b 2}`, nil, strings quoted.
 * Plain JS objects print as maps with keyword keys. Entities (anything with a `toEdn()` method)
 * print through that method.
 */
export function printEdn(value: unknown): string {
  const out: string[] = [];
  pr(value, out);
  return out.join('');
}

function pr(v: unknown, out: string[]): void {
  if (v === null || v === undefined) {
    out.push('nil');
    return;
  }
  switch (typeof v) {
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'number':
      out.push(Number.isNaN(v) ? '##NaN' : v === Infinity ? '##Inf' : v === -Infinity ? '##-Inf' : String(v));
      return;
    case 'bigint':
      out.push(String(v));
      return;
    case 'string':
      out.push(quote(v));
      return;
    case 'function':
      out.push('#object[Function]');
      return;
    default:
  }
  if (v instanceof Keyword) {
    out.push(':', v.fqn);
    return;
  }
  if (v instanceof Sym) {
    out.push(v.fqn);
    return;
  }
  if (Array.isArray(v)) {
    out.push('[');
    seq(v, ' ', out);
    out.push(']');
    return;
  }
  if (v instanceof List) {
    out.push('(');
    seq(v.items, ' ', out);
    out.push(')');
    return;
  }
  if (v instanceof Set) {
    out.push('#{');
    seq(v, ' ', out);
    out.push('}');
    return;
  }
  if (v instanceof Map) {
    out.push('{');
    let first = true;
    for (const [k, val] of v) {
      if (!first) out.push(', ');
      first = false;
      pr(k, out);
      out.push(' ');
      pr(val, out);
    }
    out.push('}');
    return;
  }
  if (v instanceof Date) {
    // An invalid date (a wire instant past ±8.64e15 ms) prints as ClojureScript prints it; it must
    // not throw (`str`/`pr-str` in rules print any value: @dataloom/query `cannotThrow`).
    out.push('#inst ', quote(Number.isNaN(v.getTime()) ? 'NaN-NaN-NaNTNaN:NaN:NaN.NaN-00:00' : v.toISOString().replace('Z', '-00:00')));
    return;
  }
  if (v instanceof Uuid) {
    out.push('#uuid ', quote(v.value));
    return;
  }
  if (v instanceof Tagged) {
    out.push('#', v.tag, ' ');
    pr(v.value, out);
    return;
  }
  const custom = (v as { toEdn?: () => unknown }).toEdn;
  if (typeof custom === 'function') {
    // toEdn() may return printed EDN (a string) or a value to print (e.g. an entity's Map)
    const r = custom.call(v);
    if (typeof r === 'string') out.push(r);
    else pr(r, out);
    return;
  }
  // Plain object: a map with keyword keys.
  out.push('{');
  let first = true;
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (!first) out.push(', ');
    first = false;
    out.push(':', k.startsWith(':') ? k.slice(1) : k, ' ');
    pr(val, out);
  }
  out.push('}');
}

function seq(items: Iterable<unknown>, sep: string, out: string[]): void {
  let first = true;
  for (const x of items) {
    if (!first) out.push(sep);
    first = false;
    pr(x, out);
  }
}

function quote(s: string): string {
  let r = '"';
  for (const ch of s) {
    switch (ch) {
      case '"': r += '\\"'; break;
      case '\\': r += '\\\\'; break;
      case '\n': r += '\\n'; break;
      case '\t': r += '\\t'; break;
      case '\r': r += '\\r'; break;
      case '\b': r += '\\b'; break;
      case '\f': r += '\\f'; break;
      default: r += ch;
    }
  }
  return r + '"';
}
