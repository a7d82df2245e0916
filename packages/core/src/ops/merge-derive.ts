/**
 * Stage 2 of the merge rules (see `state.ts`): the visible datoms of a representative, text
 * documents, and the unique-value index of what is visible.
 */
import * as Y from 'yjs';
import type { GlobalId, WireValue } from './types.js';
import { attrValueKey, manyValueKey } from './value.js';
import { decodableUpdate } from './text.js';
import { SEP, maxStr, type MergeData, type Shown } from './merge-data.js';
import { idCmp, later, type OpRec } from './merge-ops.js';
import type { DatomChange, VisibleDatom } from './types.js';

/** Maps a value through representatives; null when it is a ref hidden by the target's tombstone. */
export function mapValue(d: MergeData, op: OpRec): WireValue | null {
  const v = op.v!;
  if (typeof v === 'object' && 'ref' in v) {
    const t = d.rep(v.ref);
    if (op.tx <= d.finalTomb(t)) return null;
    return t === v.ref ? v : { ref: t };
  }
  return v;
}

/**
 * Re-derives the visible datoms of `r` and appends the differences. What is kept per
 * representative is the list of deciding entries ({@link Shown}): the deciding op itself when its
 * value shows unchanged, a small record only when the value was mapped (a ref to a merged entity)
 * or is a text; a datom's key is always `attrValueKey(a, v)` of what is shown.
 */
export function derive(d: MergeData, r: GlobalId, rets: DatomChange[], adds: DatomChange[]): void {
  const next = new Map<string, Shown>();
  if (d.repOf.get(r) === undefined && d.ents.has(r)) {
    const members = d.membersOf.get(r);
    const T = d.finalTomb(r);
    let byAttr: Map<string, OpRec[]>;
    if (members === undefined) {
      byAttr = d.ents.get(r)!.byAttr();
    } else {
      byAttr = new Map<string, OpRec[]>();
      for (const m of members) {
        for (const [a, list] of d.ents.get(m)!.byAttr()) {
          const acc = byAttr.get(a);
          if (acc) acc.push(...list);
          else byAttr.set(a, list);
        }
      }
    }
    for (const [a, list] of byAttr) {
      const s = d.schema.get(a);
      if (s.text) {
        deriveText(d, r, a, list, T, next);
      } else if (s.many) {
        const best = new Map<string, OpRec>();
        for (const op of list) {
          if (op.v === undefined || op.op === 'text') continue;
          const v = op.v;
          const k = manyValueKey(v, d);
          const b = best.get(k);
          if (!b || later(op, b)) best.set(k, op);
        }
        for (const [k, op] of best) {
          if (op.op !== 'add' || op.tx <= T) continue;
          const v = mapValue(d, op);
          if (v !== null) next.set(a + SEP + k, shown(op, a, v));
        }
      } else if (list.length === 1) {
        const op = list[0]!;
        if (op.op === 'add' && op.tx > T) {
          const v = mapValue(d, op);
          if (v !== null) next.set(attrValueKey(a, v), shown(op, a, v));
        }
      } else {
        let best: OpRec | null = null;
        for (const op of list) if (op.op !== 'text' && later(op, best)) best = op;
        if (best && best.op === 'add' && best.tx > T) {
          const v = mapValue(d, best);
          if (v !== null) next.set(attrValueKey(a, v), shown(best, a, v));
        }
      }
    }
  }
  const prev = d.visible.get(r);
  let prevKeys: Set<string> | undefined;
  if (prev) {
    prevKeys = new Set();
    for (const x of prev) {
      const k = attrValueKey(x.a, x.v);
      prevKeys.add(k);
      if (!next.has(k)) {
        const c: DatomChange = { e: r, a: x.a, v: x.v, tx: x.tx, added: false };
        rets.push(c);
        unindexDatom(d, c);
      }
    }
  }
  for (const [k, x] of next) {
    if (prevKeys === undefined || !prevKeys.has(k)) {
      const c: DatomChange = { e: r, a: x.a, v: x.v, tx: x.tx, added: true };
      adds.push(c);
      indexDatom(d, c);
    }
  }
  if (next.size) d.visible.set(r, [...next.values()]);
  else d.visible.delete(r);
}

/** The entry kept for a visible datom: the op itself when `v` is its own value. */
function shown(op: OpRec, a: string, v: WireValue): Shown {
  return v === op.v ? (op as Shown) : { a, v, tx: op.tx };
}

export function indexDatom(d: MergeData, x: VisibleDatom): void {
  const s = d.schema.get(x.a);
  if (s.identity || s.uniqueValue) d.uniqueIdx.set(attrValueKey(x.a, x.v), x.e);
}

export function unindexDatom(d: MergeData, x: VisibleDatom): void {
  const s = d.schema.get(x.a);
  if (!(s.identity || s.uniqueValue)) return;
  const k = attrValueKey(x.a, x.v);
  if (d.uniqueIdx.get(k) === x.e) d.uniqueIdx.delete(k);
}

export function deriveText(d: MergeData, r: GlobalId, a: string, list: OpRec[], T: string, vals: Map<string, Shown>): void {
  // `vals` is keyed `a\0vkey`
  let lastRetract = T;
  for (const op of list) if (op.op === 'retract' && op.tx > T) lastRetract = maxStr(lastRetract, op.tx);
  const live = list.filter((op) => op.op === 'text' && op.tx > lastRetract).sort(idCmp);
  const key = r + SEP + a;
  let t = d.texts.get(key);
  if (t) {
    const liveIds = new Set(live.map((o) => o.id));
    for (const id of t.applied) {
      if (!liveIds.has(id)) {
        t = undefined; // an applied update is gone: rebuild the document
        break;
      }
    }
  }
  if (!t) {
    const old = d.texts.get(key);
    t = { doc: new Y.Doc(), applied: new Set() };
    if (old && old.applied.size === 0) t = old; // an untouched doc handed out by textDoc() stays
    d.texts.set(key, t);
  }
  for (const op of live) {
    if (t.applied.has(op.id)) continue;
    // An undecodable update (validation normally rejects it earlier) is skipped the same way on
    // every replica, so it cannot break convergence or leave the state half-derived.
    const bytes = decodableUpdate(op.v as string);
    if (bytes !== null) Y.applyUpdate(t.doc, bytes, 'dataloom:merge');
    t.applied.add(op.id);
  }
  if (live.length) {
    const s = t.doc.getText('text').toString();
    vals.set(attrValueKey(a, s), { a, v: s, tx: live[live.length - 1]!.tx });
  }
}
