/**
 * Shapes the final relation into what DataScript's `q` returns (see docs/CONTRACTS.md, "Results
 * of q"): find specs, `:with`, aggregates, pull and `:keys`/`:strs`/`:syms`.
 *
 * - The tuples collected are the *distinct* tuples over the find variables followed by the `:with`
 *   variables (so aggregates without `:with` see each distinct value once).
 * - Plain relation finds return a `Set` of tuples; with `:with`, aggregates or pull an `Array`.
 * - Aggregates group by the non-aggregate find elements; no rows → no groups (`[]`, or `null`
 *   for `.`).
 */
import { type Db, kw, pull as corePull, sym } from '@dataloom/core';
import { colsKey } from '@dataloom/core/internals';
import type { Aggregate, FindElem, PullElem, Query } from '../ast.js';
import { queryError } from '../errors.js';
import { AGGREGATES } from './aggregates.js';
import { type Ctx, sourceOf } from './context.js';
import { isDb } from './pattern.js';
import { project, type Relation } from './relation.js';
import { parseEdn } from '@dataloom/core';

/** The variable whose values a find element needs. */
function elemVar(e: FindElem): string {
  if (e.kind === 'var') return e.name;
  if (e.kind === 'pull') return e.variable.name;
  const last = e.args[e.args.length - 1]!;
  return (last as { name: string }).name;
}

export function shapeResult(ctx: Ctx, query: Query, rel: Relation): unknown {
  const find = query.find;
  const elems = find.elements;
  const findVars = elems.map(elemVar);
  const withVars = query.with.map((v) => v.name);
  const collectVars = [...findVars, ...withVars];
  // Distinct tuples over find ∪ with (columns may repeat: `:find ?x ?x`).
  const uniqueCols = [...new Set(collectVars)];
  const distinctRel = project(rel, uniqueCols, true); // a reordering when rel is known distinct
  const colIdx = collectVars.map((v) => uniqueCols.indexOf(v));
  const hasAgg = elems.some((e) => e.kind === 'aggregate');
  const hasPull = elems.some((e) => e.kind === 'pull');
  let tuples: unknown[][];
  if (hasAgg) {
    tuples = aggregate(ctx, elems, rel, distinctRel, colIdx);
  } else {
    tuples = distinctRel.rows.map((r) => findVars.map((_, i) => r[colIdx[i]!]));
  }
  if (hasPull) tuples = tuples.map((t) => t.map((v, i) => (elems[i]!.kind === 'pull' ? doPull(ctx, elems[i] as PullElem, v, rel) : v)));

  const rm = query.returnMap;
  const toOut = (t: unknown[]): unknown => {
    if (!rm) return t;
    const m = new Map<unknown, unknown>();
    rm.names.forEach((n, i) => m.set(rm.kind === 'keys' ? kw(n) : rm.kind === 'syms' ? sym(n) : n, t[i]));
    return m;
  };
  switch (find.kind) {
    case 'scalar':
      return tuples.length === 0 ? null : tuples[0]![0];
    case 'tuple':
      return tuples.length === 0 ? null : toOut(tuples[0]!);
    case 'coll':
      return tuples.map((t) => t[0]);
    case 'rel': {
      const out = tuples.map(toOut);
      if (withVars.length > 0 || hasAgg || hasPull) return out;
      return new Set(out);
    }
  }
}

function aggregate(ctx: Ctx, elems: readonly FindElem[], rel: Relation, distinctRel: Relation, colIdx: number[]): unknown[][] {
  const groupIdx = elems.map((e, i) => (e.kind === 'aggregate' ? -1 : i)).filter((i) => i >= 0);
  const groups = new Map<unknown, (readonly unknown[])[]>();
  const cols = groupIdx.map((i) => colIdx[i]!);
  for (const r of distinctRel.rows) {
    const k = cols.length === 0 ? '' : colsKey(r, cols);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const out: unknown[][] = [];
  for (const g of groups.values()) {
    out.push(
      elems.map((e, i) => {
        if (e.kind !== 'aggregate') return g[0]![colIdx[i]!];
        const vals = g.map((r) => r[colIdx[i]!]);
        return runAggregate(ctx, e, vals, rel);
      }),
    );
  }
  return out;
}

function runAggregate(_ctx: Ctx, e: Aggregate, vals: unknown[], rel: Relation): unknown {
  const resolve = (a: { kind: string; name?: string; value?: unknown }): unknown => {
    if (a.kind === 'const') return a.value;
    if (a.kind === 'var') {
      const i = rel.vars.indexOf(a.name!);
      return i >= 0 && rel.rows.length > 0 ? rel.rows[0]![i] : null;
    }
    return null;
  };
  const extra = e.args.slice(0, -1).map(resolve);
  let f: ((...a: unknown[]) => unknown) | undefined;
  if (e.fn.kind === 'var') {
    const fv = resolve(e.fn);
    if (typeof fv === 'function') f = fv as (...a: unknown[]) => unknown;
  } else f = AGGREGATES.get(e.fn.name);
  if (!f) throw queryError('query/unknown-function', `Unknown aggregate '${e.fn.name}`, `(${e.fn.name} …)`, { fn: e.fn.name });
  return f(...extra, vals);
}

function doPull(ctx: Ctx, e: PullElem, eid: unknown, rel: Relation): unknown {
  const src = sourceOf(ctx, e.source);
  if (!isDb(src)) throw queryError('query/source', `pull needs a database as source ${e.source.name}`, `(pull ${e.source.name} ${e.variable.name} …)`);
  let pattern: unknown;
  if (e.pattern.kind === 'const') pattern = e.pattern.value;
  else {
    const i = rel.vars.indexOf(e.pattern.name);
    pattern = i >= 0 && rel.rows.length > 0 ? rel.rows[0]![i] : null;
    if (typeof pattern === 'string') pattern = parseEdn(pattern);
  }
  return corePull(src as Db, pattern, eid);
}
