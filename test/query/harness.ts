/**
 * Differential harness: runs the same query on Dataloom (`@dataloom/query` over `@dataloom/core`)
 * and on the `datascript` npm package (through `test/oracle/datascript.ts`) and compares canonical
 * forms. Errors must agree: either both succeed with equal results or both throw.
 */
import { createDb, type Db } from '@dataloom/core';
import { q } from '@dataloom/query';
import { canonical, dsCreateDb, type DsDb, dsQ, dsTry, dsWith } from '../oracle/datascript.js';

/** The same database on both sides. */
export interface World {
  ours: Db;
  ds: DsDb;
}

/** Builds a world from a schema and transactions (EDN strings or JS data), applied in order. */
export function world(schema: unknown, ...txs: unknown[]): World {
  let ours = createDb(schema as never);
  let ds = dsCreateDb(schema);
  for (const tx of txs) {
    ours = ours.with(tx as never).dbAfter;
    ds = dsWith(ds, tx).db;
  }
  return { ours, ds };
}

/** Placeholders for database inputs: `DB` is the world's db, `db(w)` another world's. */
export const DB = Symbol('DB');
export const dbOf = (w: World) => ({ [WORLD]: w });
const WORLD = Symbol('world');

export interface Outcome {
  ok: boolean;
  text: string;
  error?: string;
}

function canon(x: unknown): string {
  return canonical(x, { unordered: 'top' });
}

function sideInputs(w: World, inputs: unknown[], side: 'ours' | 'ds'): unknown[] {
  return inputs.map((x) => {
    if (x === DB) return w[side];
    if (x && typeof x === 'object' && WORLD in (x as object)) return (x as Record<symbol, World>)[WORLD]![side];
    return x;
  });
}

export function runOurs(w: World, query: unknown, inputs: unknown[]): Outcome {
  try {
    return { ok: true, text: canon(q(query as never, ...sideInputs(w, inputs, 'ours'))) };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return { ok: false, text: 'ERROR', error: `${err.code ?? 'no code'}: ${err.message ?? String(e)}` };
  }
}

export function runDs(w: World, query: unknown, inputs: unknown[]): Outcome {
  const r = dsTry(() => dsQ(query, ...sideInputs(w, inputs, 'ds')));
  if (r.ok) return { ok: true, text: canon(r.value) };
  return { ok: false, text: 'ERROR', error: r.message };
}

/** Runs both; returns a description of the disagreement, or null when they agree. */
export function diff(w: World, query: unknown, ...inputs: unknown[]): string | null {
  const a = runOurs(w, query, inputs);
  const b = runDs(w, query, inputs);
  if (a.ok === b.ok && a.text === b.text) return null;
  return `query ${typeof query === 'string' ? query : String(query)}\n  dataloom:   ${a.ok ? a.text : a.error}\n  datascript: ${b.ok ? b.text : b.error}`;
}

/** Like {@link diff}, but DataScript runs `dsQuery` (e.g. the same query with keyword attributes). */
export function diffVs(w: World, query: unknown, dsQuery: unknown, ...inputs: unknown[]): string | null {
  const a = runOurs(w, query, inputs);
  const b = runDs(w, dsQuery, inputs);
  if (a.ok === b.ok && a.text === b.text) return null;
  return `query ${String(query)} vs ${String(dsQuery)}\n  dataloom:   ${a.ok ? a.text : a.error}\n  datascript: ${b.ok ? b.text : b.error}`;
}
