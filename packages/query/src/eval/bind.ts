/**
 * Binding forms: turns an input value (`:in`) or a function result into a relation over the
 * binding's variables, with DataScript's rules — a scalar binds one value, a tuple destructures a
 * sequence (which must have at least as many elements), a collection binds each element (an empty
 * collection gives no rows), `_` accepts anything.
 *
 * `bindValue` is also how dataflow binds a registered query's `:in` values (`@dataloom/query/internals`).
 * Dataflow binds function results itself (`dataflow/src/eval/steps/bind.ts`): by the same rules,
 * but per binding into a compiled plan's slots rather than as a relation.
 */
import { List, printEdn } from '@dataloom/core';
import type { Binding } from '../ast.js';
import { bindingVars } from '../ast.js';
import { queryError } from '../errors.js';
import { join, type Relation, UNIT } from './relation.js';

/** Elements of a sequential value (vector, list, JS iterable other than string/Map), or null. */
export function seqItems(x: unknown): readonly unknown[] | null {
  if (Array.isArray(x)) return x;
  if (x instanceof List) return x.items;
  if (x instanceof Set) return [...x];
  return null;
}

/** The variable names a binding binds, in order. */
export function bindingNames(b: Binding): string[] {
  return bindingVars(b).map((v) => v.name);
}

/** A relation over `bindingNames(b)` holding the ways `value` fits `b`. */
export function bindValue(b: Binding, value: unknown): Relation {
  const vars = bindingNames(b);
  // Fast paths: scalar, relation of scalars.
  if (b.kind === 'bind-scalar') return { vars, rows: [[value]], distinct: true };
  if (b.kind === 'bind-ignore') return UNIT;
  const rows: unknown[][] = [];
  if (new Set(vars).size !== vars.length) return bindGeneric(b, value);
  if (b.kind === 'bind-coll' && b.element.kind === 'bind-tuple' && b.element.elements.every((e) => e.kind === 'bind-scalar' || e.kind === 'bind-ignore')) {
    const items = collItems(value, b);
    const els = b.element.elements;
    const n = els.length;
    const cols: number[] = [];
    els.forEach((e, i) => {
      if (e.kind === 'bind-scalar') cols.push(i);
    });
    for (const t of items) {
      const ts = seqItems(t);
      if (ts === null) throw queryError('query/binding', `Cannot bind value ${printEdn(t)} to tuple ${printBinding(b.element)}`, t);
      if (ts.length < n) throw queryError('query/binding', 'Not enough elements in a collection', t, { binding: printBinding(b.element) });
      rows.push(cols.map((c) => ts[c]));
    }
    return { vars, rows };
  }
  if (b.kind === 'bind-coll' && b.element.kind === 'bind-scalar') {
    for (const x of collItems(value, b)) rows.push([x]);
    return { vars, rows };
  }
  return bindGeneric(b, value);
}

function collItems(value: unknown, b: Binding): readonly unknown[] {
  if (value instanceof Map) return [...value].map(([k, v]) => [k, v]);
  const items = typeof value === 'string' ? null : seqItems(value);
  if (items === null) throw queryError('query/binding', `Cannot bind value ${printEdn(value)} to collection ${printBinding(b)}`, value);
  return items;
}

function bindGeneric(b: Binding, value: unknown): Relation {
  switch (b.kind) {
    case 'bind-scalar':
      return { vars: [b.variable.name], rows: [[value]] };
    case 'bind-ignore':
      return UNIT;
    case 'bind-tuple': {
      const items = typeof value === 'string' ? null : seqItems(value);
      if (items === null) throw queryError('query/binding', `Cannot bind value ${printEdn(value)} to tuple ${printBinding(b)}`, value);
      if (items.length < b.elements.length) throw queryError('query/binding', 'Not enough elements in a collection', value, { binding: printBinding(b) });
      let rel = UNIT;
      b.elements.forEach((e, i) => {
        rel = join(rel, bindGeneric(e, items[i]));
      });
      return rel;
    }
    case 'bind-coll': {
      const vars = bindingNames(b);
      const rows: (readonly unknown[])[] = [];
      for (const x of collItems(value, b)) {
        const r = bindGeneric(b.element, x);
        if (r.vars.length === vars.length && r.vars.every((v, i) => v === vars[i])) rows.push(...r.rows);
        else {
          const cols = vars.map((v) => r.vars.indexOf(v));
          for (const row of r.rows) rows.push(cols.map((c) => row[c]));
        }
      }
      return { vars, rows };
    }
  }
}

export function printBinding(b: Binding): string {
  switch (b.kind) {
    case 'bind-scalar':
      return b.variable.name;
    case 'bind-ignore':
      return '_';
    case 'bind-tuple':
      return '[' + b.elements.map(printBinding).join(' ') + ']';
    case 'bind-coll':
      return '[' + printBinding(b.element) + ' ...]';
  }
}
