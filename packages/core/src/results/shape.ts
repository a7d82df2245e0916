/**
 * A query's result as rows, the one vocabulary of live queries: the engine's views (dataflow), the
 * client's mirrored views and the React hooks all speak it.
 *
 * A row is the tuple of a query's find elements (a pull result is one column), or a `Map` for
 * `:keys`/`:strs`/`:syms` queries. One-shot `q`'s result shape follows from the rows and the find
 * spec's kind ({@link resultOf}), and back ({@link rowsOf}).
 */

/** The find spec kinds of the query language (`@dataloom/query`'s `FindSpec['kind']`). */
export type FindKind = 'rel' | 'coll' | 'scalar' | 'tuple';

/**
 * One change to a live query's result: `[row, tx, +1 | -1]`. A `+1` adds one copy of `row`, a
 * `-1` removes one; within one transaction's batch only the net effect counts.
 */
export type Diff = readonly [row: unknown, tx: unknown, mult: 1 | -1];

/**
 * The result in one-shot `q`'s shape for rows of a query with find `kind`: a value or `null` for
 * `?x .`, one tuple or `null` for `[?x ?y]`, an array of values for `[?x ...]`, and for a relation
 * a `Set` of rows, or `rows` itself (`asSet` false: `:with`, aggregates and pull keep duplicates).
 */
export function resultOf(rows: readonly unknown[], kind: FindKind, asSet: boolean): unknown {
  switch (kind) {
    case 'scalar':
      return rows.length === 0 ? null : first(rows[0]);
    case 'tuple':
      return rows.length === 0 ? null : rows[0];
    case 'coll':
      return rows.map(first);
    case 'rel':
      return asSet ? new Set(rows) : rows;
  }
}

/**
 * The rows of a result in `q`'s shape (the inverse of {@link resultOf}): each element of a
 * relation as is; each value of a collection as a one-column row; a tuple or a scalar as one row
 * (none for `null`).
 */
export function rowsOf(result: unknown, kind: FindKind): unknown[] {
  if (result === null || result === undefined) return [];
  switch (kind) {
    case 'scalar':
      return [[result]];
    case 'tuple':
      return [result];
    case 'coll':
      return [...(result as Iterable<unknown>)].map((x) => [x]);
    case 'rel':
      return [...(result as Iterable<unknown>)];
  }
}

function first(row: unknown): unknown {
  return Array.isArray(row) ? row[0] : row;
}
