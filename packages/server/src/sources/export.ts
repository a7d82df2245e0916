/**
 * `dataloom export`: the log as EDN, one form a line.
 *
 * - Current state (default): one entity map per entity, `{:db/id "<global id>" :attr value …}`,
 *   schema entities (those with `:db/ident`) first; refs are global ids (strings), cardinality-many
 *   values vectors, text attributes their string. Global ids are taken as they are by `transact` and
 *   `dataloom import`, so an export re-imports into the same entities.
 * - History (`--history`): every transaction of the log in order, `{:pos n :tx "…" :replica "…"
 *   :ops [{:op :add :e "…" :a :attr :v value} …]}` (plus `:draft` / `:checks` when present); ref
 *   values print as `#dataloom/ref "<global id>"`, text updates as base64 strings.
 */
import { Keyword, Tagged, kw as k, printEdn, type Op, type TxEnvelope, type VisibleDatom, type WireValue } from '@dataloom/core';
import { fromWireValue } from '@dataloom/core/internals';
import type { SyncNode } from '../node/sync-node.js';

/** Writes the current state, one entity map a line, through `write`; returns the entity count. */
export function exportState(node: SyncNode, write: (line: string) => void): number {
  const merged = node.state.merged;
  const byEntity = new Map<string, VisibleDatom[]>();
  for (const d of merged.datoms()) {
    let l = byEntity.get(d.e);
    if (!l) byEntity.set(d.e, (l = []));
    l.push(d);
  }
  const isSchema = (ds: VisibleDatom[]) => ds.some((d) => d.a === 'db/ident');
  const ordered = [...byEntity.entries()].sort(([ea, da], [eb, db]) => Number(isSchema(db)) - Number(isSchema(da)) || (ea < eb ? -1 : ea > eb ? 1 : 0));
  for (const [e, ds] of ordered) {
    const m = new Map<Keyword, unknown>([[k('db/id'), e]]);
    ds.sort((x, y) => (x.a < y.a ? -1 : x.a > y.a ? 1 : 0));
    for (const d of ds) {
      const v = fromWireValue(d.v);
      if (merged.schema.get(d.a).many) {
        const key = k(d.a);
        const cur = (m.get(key) as unknown[] | undefined) ?? [];
        cur.push(v);
        m.set(key, cur);
      } else m.set(k(d.a), v);
    }
    write(printEdn(m));
  }
  return byEntity.size;
}

function opEdn(op: Op): Map<Keyword, unknown> {
  const m = new Map<Keyword, unknown>([
    [k('op'), k(op.op)],
    [k('e'), op.e],
  ]);
  if (op.a !== undefined) m.set(k('a'), k(op.a));
  if (op.v !== undefined) m.set(k('v'), histValue(op.v));
  return m;
}

function histValue(v: WireValue): unknown {
  return fromWireValue(v, (id) => new Tagged('dataloom/ref', id));
}

function envEdn(pos: number, env: TxEnvelope): Map<Keyword, unknown> {
  const m = new Map<Keyword, unknown>([
    [k('pos'), pos],
    [k('tx'), env.tx],
    [k('replica'), env.replica],
  ]);
  if (env.draft !== undefined) m.set(k('draft'), env.draft);
  if (env.checks?.length) m.set(k('checks'), env.checks.map((c) => new Map<Keyword, unknown>([[k('e'), c.e], [k('a'), k(c.a)], [k('expected'), c.expected === null ? null : histValue(c.expected)], [k('v'), histValue(c.v)]])));
  m.set(k('ops'), env.ops.map(opEdn));
  return m;
}

/** Writes every transaction of the log, in order, through `write`; returns the count. */
export async function exportHistory(node: SyncNode, write: (line: string) => void): Promise<number> {
  let after = 0;
  let n = 0;
  for (;;) {
    const entries = await node.store.readSince(after, 2000);
    if (entries.length === 0) return n;
    for (const { pos, env } of entries) {
      write(printEdn(envEdn(pos, env)));
      n++;
      after = pos;
    }
  }
}
