/**
 * Relations: the intermediate results of query evaluation. A relation is a list of rows over named
 * columns (variable names). Rows are plain arrays, never mutated after they are put in a relation.
 * Duplicates may exist (evaluation has bag semantics inside a body; results are deduplicated where
 * DataScript's semantics say so).
 */
import { valueKey } from '@dataloom/core';
import { colsKey } from '@dataloom/core/internals';

export interface Relation {
  /** Column names (variable names such as `"?e"`), distinct. */
  readonly vars: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
  /** True when the rows are known to be pairwise distinct (lets the result skip deduplication). */
  readonly distinct?: boolean;
}

/** The relation with no columns and one empty row: the identity of join. */
export const UNIT: Relation = Object.freeze({ vars: Object.freeze([]), rows: Object.freeze([Object.freeze([])]), distinct: true });

export function emptyRel(vars: readonly string[]): Relation {
  return { vars, rows: [], distinct: true };
}

export function colsOf(rel: Relation, vars: readonly string[]): number[] {
  return vars.map((v) => {
    const i = rel.vars.indexOf(v);
    if (i < 0) throw new Error(`internal: variable ${v} not in relation [${rel.vars.join(' ')}]`);
    return i;
  });
}

/** Projection onto `vars` (which must be columns of `rel`), optionally deduplicated. */
export function project(rel: Relation, vars: readonly string[], distinct: boolean): Relation {
  if (!distinct && vars.length === rel.vars.length && vars.every((v, i) => rel.vars[i] === v)) return rel;
  if (distinct && rel.distinct && new Set(vars).size === vars.length && vars.every((v) => rel.vars.includes(v)) && droppedAreConstant(rel, vars)) {
    // Already distinct and the dropped columns hold one value (e.g. scalar inputs): no dedupe.
    return { ...project(rel, vars, false), distinct: true };
  }
  const cols = colsOf(rel, vars);
  const rows: unknown[][] = [];
  if (distinct) {
    const seen = new Set<unknown>();
    const all = cols.map((_, i) => i);
    for (const r of rel.rows) {
      const row = cols.map((c) => r[c]);
      const k = vars.length === 0 ? '' : colsKey(row, all);
      if (seen.has(k)) continue;
      seen.add(k);
      rows.push(row);
    }
  } else {
    for (const r of rel.rows) rows.push(cols.map((c) => r[c]));
  }
  return { vars, rows, distinct: distinct || (rel.distinct === true && vars.length === rel.vars.length && new Set(vars).size === vars.length) };
}

/** Whether every column of `rel` not in `vars` holds the same (identical) value in all rows. */
function droppedAreConstant(rel: Relation, vars: readonly string[]): boolean {
  const rows = rel.rows;
  if (rows.length < 2) return true;
  for (let c = 0; c < rel.vars.length; c++) {
    if (vars.includes(rel.vars[c]!)) continue;
    const first = rows[0]![c];
    for (let i = 1; i < rows.length; i++) if (rows[i]![c] !== first) return false;
  }
  return true;
}

/** Removes duplicate rows. */
export function distinct(rel: Relation): Relation {
  return project(rel, rel.vars, true);
}

/**
 * Natural (hash) join. Output columns: `left.vars` then the columns of `right` not in `left`.
 * With no shared columns this is the cross product.
 */
export function join(left: Relation, right: Relation): Relation {
  // The unit relation (no columns, one row) is the identity.
  if (left.vars.length === 0 && left.rows.length === 1) return right;
  if (right.vars.length === 0 && right.rows.length === 1) return left;
  const shared = left.vars.filter((v) => right.vars.includes(v));
  const rExtra = right.vars.filter((v) => !left.vars.includes(v));
  const rExtraCols = colsOf(right, rExtra);
  const vars = [...left.vars, ...rExtra];
  const rows: unknown[][] = [];
  const distinct = left.distinct === true && right.distinct === true;
  if (left.rows.length === 0 || right.rows.length === 0) return { vars, rows, distinct: true };
  if (shared.length === 0) {
    for (const l of left.rows) for (const r of right.rows) rows.push(concat(l, r, rExtraCols));
    return { vars, rows, distinct };
  }
  const lc = colsOf(left, shared);
  const rc = colsOf(right, shared);
  if (right.rows.length <= left.rows.length) {
    const idx = index(right, rc);
    for (const l of left.rows) {
      const ms = idx.get(colsKey(l, lc));
      if (ms) for (const r of ms) rows.push(concat(l, r, rExtraCols));
    }
  } else {
    const idx = index(left, lc);
    for (const r of right.rows) {
      const ms = idx.get(colsKey(r, rc));
      if (ms) for (const l of ms) rows.push(concat(l, r, rExtraCols));
    }
  }
  return { vars, rows, distinct };
}

/** Rows of `left` with no match in `right` on the shared columns `on`. */
export function antijoin(left: Relation, right: Relation, on: readonly string[]): Relation {
  if (right.rows.length === 0 || left.rows.length === 0) return left;
  if (on.length === 0) return { vars: left.vars, rows: [], distinct: true };
  const lc = colsOf(left, on);
  const rc = colsOf(right, on);
  const keys = new Set<unknown>();
  for (const r of right.rows) keys.add(colsKey(r, rc));
  return { vars: left.vars, rows: left.rows.filter((l) => !keys.has(colsKey(l, lc))), distinct: left.distinct };
}

/** Union of relations with the same columns (possibly in another order). */
export function union(vars: readonly string[], rels: readonly Relation[]): Relation {
  const rows: (readonly unknown[])[] = [];
  for (const r of rels) {
    if (r.vars.length === vars.length && r.vars.every((v, i) => v === vars[i])) rows.push(...r.rows);
    else for (const row of project(r, vars, false).rows) rows.push(row);
  }
  return { vars, rows };
}

export function index(rel: Relation, cols: readonly number[]): Map<unknown, (readonly unknown[])[]> {
  const idx = new Map<unknown, (readonly unknown[])[]>();
  for (const r of rel.rows) {
    const k = colsKey(r, cols);
    const b = idx.get(k);
    if (b) b.push(r);
    else idx.set(k, [r]);
  }
  return idx;
}

function concat(l: readonly unknown[], r: readonly unknown[], rCols: readonly number[]): unknown[] {
  const out = l.slice();
  for (let i = 0; i < rCols.length; i++) out.push(r[rCols[i]!]);
  return out;
}
