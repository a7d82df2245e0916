/**
 * Test double for {@link DataloomSource}: the `datascript` npm package re-runs every watched query
 * after each transaction and emits the multiset difference as `[tuple, tx, ±1]` diffs — the
 * contract of the dataflow engine, computed the slow, obviously-correct way. It also counts
 * `watch` and `close` calls so tests can check view sharing and cleanup.
 */
import { createRequire } from 'node:module';
import { type Diff, type FindKind } from '@dataloom/core';
import { RowSet, rowsOf } from '@dataloom/core/internals';
import { parseQuery } from '@dataloom/query';
import type { DataloomSource, LiveView, Row } from '../src/source.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const d = require('datascript') as {
  create_conn(schema?: object): unknown;
  db(conn: unknown): unknown;
  transact(conn: unknown, tx: unknown): { tx_data: unknown[]; tempids: Record<string, number> };
  q(query: string, ...inputs: unknown[]): unknown;
};

interface Watched {
  kind: FindKind;
  /** The last result in q's shape. */
  raw: unknown;
  query: string;
  inputs: unknown[];
  rows: Map<string, { row: Row; n: number }>;
  /** The rows as `LiveView.rows()` gives them. */
  rowSet: RowSet;
  listeners: Set<(diffs: readonly Diff[]) => void>;
  closed: boolean;
}

export interface DatascriptSource extends DataloomSource {
  /** Number of `watch` calls so far. */
  watches: number;
  /** Number of views currently open. */
  readonly openViews: number;
  transact(tx: unknown): { tx: number };
}

function jsAttrs(edn: string): string {
  return edn.replace(/:([\w.*+!?-]+\/[\w.*+!?-]+)/g, (_, a: string) => (a.startsWith('db/') ? `:${a}` : JSON.stringify(a)));
}

function bag(result: unknown, kind: FindKind): Map<string, { row: Row; n: number }> {
  const m = new Map<string, { row: Row; n: number }>();
  // Scalar (`?x .`) and collection (`[?x ...]`) finds become one-column rows, as the engine's diffs.
  for (const row of rowsOf(result, kind) as Row[]) {
    const k = JSON.stringify(row);
    const e = m.get(k);
    if (e) e.n++;
    else m.set(k, { row, n: 1 });
  }
  return m;
}

export function datascriptSource(schema: object = {}): DatascriptSource {
  const conn = d.create_conn(schema);
  const views = new Set<Watched>();
  let tx = 0;
  const src: DatascriptSource = {
    watches: 0,
    get openViews() {
      return views.size;
    },
    watch(query: unknown, ...inputs: unknown[]): LiveView {
      if (typeof query !== 'string') throw new Error('datascriptSource: EDN string queries only');
      src.watches++;
      // datascript's JS API keeps attributes as strings: `:todo/title` in a query is `"todo/title"`.
      // Rules passed as an EDN string (`%`) get the same treatment.
      const kind = parseQuery(query).find.kind;
      query = jsAttrs(query);
      inputs = inputs.map((x) => (typeof x === 'string' && x.trimStart().startsWith('[[') ? jsAttrs(x) : x));
      const raw = d.q(query as string, d.db(conn), ...inputs);
      const w: Watched = { kind, query: query as string, inputs, raw, rows: bag(raw, kind), rowSet: new RowSet(rowsOf(raw, kind)), listeners: new Set(), closed: false };
      views.add(w);
      return {
        result: () => w.raw, // q's shape, as the engine's views return it
        rows: () => w.rowSet.snapshot as readonly Row[],
        subscribe: (fn) => {
          w.listeners.add(fn);
          return () => w.listeners.delete(fn);
        },
        close: () => {
          w.closed = true;
          w.listeners.clear();
          views.delete(w);
        },
      };
    },
    transact(txData: unknown) {
      d.transact(conn, toDatascriptTx(txData));
      tx++;
      for (const w of views) {
        w.raw = d.q(w.query, d.db(conn), ...w.inputs);
        const next = bag(w.raw, w.kind);
        const diffs: Diff[] = [];
        for (const [k, { row, n }] of w.rows) {
          const m = next.get(k)?.n ?? 0;
          for (let i = m; i < n; i++) diffs.push([row, tx, -1]);
        }
        for (const [k, { row, n }] of next) {
          const m = w.rows.get(k)?.n ?? 0;
          for (let i = m; i < n; i++) diffs.push([row, tx, +1]);
        }
        w.rows = next;
        w.rowSet.apply(diffs);
        if (diffs.length > 0) for (const fn of [...w.listeners]) fn(diffs);
      }
      return { tx };
    },
  };
  return src;
}

/**
 * Translates Dataloom's JS transaction forms (CONTRACTS.md: keys with or without a leading colon,
 * lookup refs `[':a/b', v]`, `[:db/retractEntity e]`) to datascript's JS API, whose attributes are
 * plain strings and whose retractEntity is `:db.fn/retractEntity`.
 */
export function toDatascriptTx(tx: unknown): unknown {
  if (!Array.isArray(tx)) return tx;
  const attr = (a: unknown) => (typeof a === 'string' && a.startsWith(':') && !a.startsWith(':db/') ? a.slice(1) : a);
  const ref = (x: unknown) => (Array.isArray(x) && x.length === 2 ? [attr(x[0]), x[1]] : x);
  return tx.map((item: unknown) => {
    if (Array.isArray(item)) {
      const [op, e, a, ...rest] = item as unknown[];
      if (op === ':db/retractEntity') return [':db.fn/retractEntity', ref(e)];
      return a === undefined ? [op, ref(e)] : [op, ref(e), attr(a), ...rest];
    }
    if (item !== null && typeof item === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(item as Record<string, unknown>)) {
        out[k === ':db/id' ? k : (attr(k) as string)] = k === ':db/id' ? ref(v) : v;
      }
      return out;
    }
    return item;
  });
}
