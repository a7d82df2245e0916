/** Rows of a query's `:in` bindings, bound from the values a registration passes. */
import { DataloomError } from '@dataloom/core';
import type { Binding } from '@dataloom/query';
import { bindingVars } from '@dataloom/query';

function err(message: string, form: unknown): DataloomError {
  return new DataloomError('query/binding', message, { form });
}

/** Rows of an `:in` binding for `value`; pushes the bound variable names to `names`. */
export function bindInput(b: Binding, value: unknown, names: string[]): unknown[][] {
  for (const v of bindingVars(b)) names.push(v.name);
  return bindRows(b, value);
}

function bindRows(b: Binding, value: unknown): unknown[][] {
  switch (b.kind) {
    case 'bind-scalar':
      return [[value]];
    case 'bind-ignore':
      return [[]];
    case 'bind-tuple': {
      const xs = seq(value);
      if (xs === null || xs.length < b.elements.length) throw err('Cannot bind input to tuple', value);
      let rows: unknown[][] = [[]];
      b.elements.forEach((el, i) => {
        const sub = bindRows(el, xs[i]);
        const next: unknown[][] = [];
        for (const r of rows) for (const t of sub) next.push([...r, ...t]);
        rows = next;
      });
      return rows;
    }
    case 'bind-coll': {
      const xs = value instanceof Map ? [...value].map(([k, v]) => [k, v]) : seq(value);
      if (xs === null) throw err('Cannot bind input to collection', value);
      const rows: unknown[][] = [];
      for (const x of xs) rows.push(...bindRows(b.element, x));
      return rows;
    }
  }
}

function seq(x: unknown): unknown[] | null {
  if (Array.isArray(x)) return x;
  if (x instanceof Set) return [...x];
  if (x !== null && typeof x === 'object' && 'items' in (x as object) && Array.isArray((x as { items: unknown }).items)) return [...(x as { items: unknown[] }).items];
  return null;
}
