import { Keyword, List, Sym, Uuid } from '@dataloom/core';

/**
 * A string that identifies a value structurally, used to match diff tuples against cached rows and
 * to share one live view between components that watch the same query with the same inputs.
 *
 * Equal EDN values give equal keys (maps and sets independent of insertion order, keywords and
 * symbols by name, dates by time). Values with no structural meaning — functions, database values,
 * class instances — are keyed by identity, so passing the same object gives the same key.
 */
export function valueKey(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join('');
}

const identities = new WeakMap<object, number>();
let nextIdentity = 1;

function identity(o: object): string {
  let id = identities.get(o);
  if (id === undefined) {
    id = nextIdentity++;
    identities.set(o, id);
  }
  return `@${id}`;
}

function write(v: unknown, out: string[]): void {
  if (v === null || v === undefined) {
    out.push('n');
    return;
  }
  switch (typeof v) {
    case 'string':
      out.push(JSON.stringify(v));
      return;
    case 'number':
      out.push(Object.is(v, -0) ? '0' : String(v));
      return;
    case 'boolean':
      out.push(v ? 't' : 'f');
      return;
    case 'bigint':
      out.push(`${v}N`);
      return;
    case 'function':
    case 'symbol':
      out.push(identity(v as object));
      return;
    default:
  }
  if (v instanceof Keyword) {
    out.push(':', v.fqn);
    return;
  }
  if (v instanceof Sym) {
    out.push('\'', v.fqn);
    return;
  }
  if (v instanceof Uuid) {
    out.push('#u', v.value);
    return;
  }
  if (v instanceof Date) {
    out.push('#i', String(v.getTime()));
    return;
  }
  if (Array.isArray(v)) {
    seq(v, '[', ']', out);
    return;
  }
  if (v instanceof List) {
    seq(v.items, '(', ')', out);
    return;
  }
  if (v instanceof Set) {
    out.push('#{', [...v].map(valueKey).sort().join(' '), '}');
    return;
  }
  if (v instanceof Map) {
    const entries = [...v].map(([k, x]) => `${valueKey(k)} ${valueKey(x)}`).sort();
    out.push('{', entries.join(','), '}');
    return;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Object.prototype || proto === null) {
    const entries = Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)} ${valueKey(x)}`)
      .sort();
    out.push('{', entries.join(','), '}');
    return;
  }
  out.push(identity(v as object));
}

function seq(items: readonly unknown[], open: string, close: string, out: string[]): void {
  out.push(open);
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out.push(' ');
    write(items[i], out);
  }
  out.push(close);
}
