/**
 * The draft rule for one entity: the committed datoms with the draft laid over them, per value
 * (see `DESIGN.md`, "The draft view"). A pure function of the committed state, the draft's live
 * operations and its tombstones.
 *
 * - A **register** is `(e, a)` for a cardinality-one or text attribute, `(e, a, v)` for a
 *   cardinality-many one. Where the draft has a live operation on a register, the draft's newest
 *   operation decides it (an `add` → that value, a `retract` → no value), whatever the committed
 *   state says or later says; elsewhere the committed value shows through.
 * - Text registers the draft touched hold the committed document merged with the draft's updates
 *   (character by character); a draft `retract` of the attribute clears the committed text.
 * - A draft `retractEntity` hides every committed datom of the entity (and its components) and every
 *   committed reference to it; the draft's own later operations on it show.
 * - Entities are the committed representatives (`MergeState.rep`); refs in draft operations are
 *   mapped to them.
 */
import { type GlobalId, type HlcString, type Op, type VisibleDatom, type WireValue } from '@dataloom/core';
import { attrValueKey, manyValueKey, type MergeState } from '@dataloom/core/internals';
import { textOf, type DraftTexts } from './text-layer.js';

/** What deriving an entity reads. */
export interface LayerInput {
  readonly merge: MergeState;
  /** The draft's live operations on raw entity `e`. */
  opsOn(e: GlobalId): readonly Op[];
  /** Draft tombstones: representative → stamp (component cascade included). */
  readonly tombs: ReadonlyMap<GlobalId, HlcString>;
  readonly texts: DraftTexts;
}

const SEP = '\u0000';

/** The draft's live operations on `rep` (every member), grouped. */
export interface EntityOps {
  /** Cardinality-one attribute → deciding op. */
  one: Map<string, Op>;
  /** `a\0vkey` of a cardinality-many value → deciding op. */
  many: Map<string, Op>;
  /** Text attribute → live updates (after the last clearing). */
  text: Map<string, Op[]>;
  /** Text attribute → newest draft `retract`. */
  cleared: Map<string, HlcString>;
  /** Attribute → least stamp of the draft's ops on it (when the draft started touching it). */
  first: Map<string, HlcString>;
  /** `a\0vkey` of a cardinality-many value → least stamp of the draft's ops on it. */
  firstValue: Map<string, HlcString>;
}

/** Groups the live draft ops of `rep`'s members newer than its draft tombstone. */
export function entityOps(inp: LayerInput, rep: GlobalId): EntityOps {
  const { merge } = inp;
  const tomb = inp.tombs.get(rep);
  const g: EntityOps = { one: new Map(), many: new Map(), text: new Map(), cleared: new Map(), first: new Map(), firstValue: new Map() };
  for (const m of merge.members(rep)) {
    for (const op of inp.opsOn(m)) {
      if (op.op === 'retractEntity' || op.a === undefined) continue;
      if (tomb !== undefined && op.tx <= tomb) continue;
      const a = op.a;
      const f = g.first.get(a);
      if (f === undefined || op.tx < f) g.first.set(a, op.tx);
      const s = merge.schema.get(a);
      if (s.text) {
        if (op.op === 'text') {
          const l = g.text.get(a);
          if (l) l.push(op);
          else g.text.set(a, [op]);
        } else if (op.op === 'retract') {
          const c = g.cleared.get(a);
          if (c === undefined || op.tx > c) g.cleared.set(a, op.tx);
        }
        continue;
      }
      if (op.op === 'text') continue;
      if (s.many) {
        if (op.v === undefined) continue;
        const k = a + SEP + manyValueKey(op.v, merge);
        const fv = g.firstValue.get(k);
        if (fv === undefined || op.tx < fv) g.firstValue.set(k, op.tx);
        const b = g.many.get(k);
        if (b === undefined || op.id > b.id) g.many.set(k, op);
      } else {
        const b = g.one.get(a);
        if (b === undefined || op.id > b.id) g.one.set(a, op);
      }
    }
  }
  for (const [a, c] of g.cleared) {
    const l = g.text.get(a);
    if (l) g.text.set(a, l.filter((o) => o.tx > c));
  }
  return g;
}

/** The visible datoms of `rep` in the draft view, keyed `a\0vkey`. */
export function deriveEntity(inp: LayerInput, rep: GlobalId): Map<string, VisibleDatom> {
  const { merge, tombs } = inp;
  const tomb = tombs.get(rep);
  const g = entityOps(inp, rep);
  const out = new Map<string, VisibleDatom>();
  const textAttrs = new Set([...g.text.keys(), ...g.cleared.keys()]);
  if (tomb === undefined) {
    for (const d of merge.entityDatoms(rep)) {
      const s = merge.schema.get(d.a);
      if (s.text ? textAttrs.has(d.a) : s.many ? g.many.has(attrValueKey(d.a, d.v)) : g.one.has(d.a)) continue;
      if (isRef(d.v) && tombs.has(d.v.ref)) continue;
      out.set(attrValueKey(d.a, d.v), d);
    }
  }
  const decided = (op: Op) => {
    if (op.op !== 'add' || op.v === undefined) return;
    let v = op.v;
    if (isRef(v)) {
      const t = merge.rep(v.ref);
      const tt = tombs.get(t);
      if (tt !== undefined && op.tx <= tt) return;
      if (t !== v.ref) v = { ref: t };
    }
    out.set(attrValueKey(op.a!, v), { e: rep, a: op.a!, v, tx: op.tx });
  };
  for (const op of g.one.values()) decided(op);
  for (const op of g.many.values()) decided(op);
  for (const a of textAttrs) {
    const updates = g.text.get(a) ?? [];
    const cleared = tomb !== undefined || g.cleared.has(a);
    const committed = cleared ? [] : merge.values(rep, a);
    if (committed.length === 0 && updates.length === 0) continue;
    const doc = inp.texts.doc(merge, rep, a, cleared, updates);
    let tx = '';
    for (const o of updates) if (o.tx > tx) tx = o.tx;
    const s = textOf(doc);
    out.set(attrValueKey(a, s), { e: rep, a, v: s, tx });
  }
  return out;
}

/**
 * The draft's tombstones: each `retractEntity` among `ops` on its representative, passed down to
 * the component children the entity held as of the tombstone (committed component refs, and the
 * draft's own older ones), the newest stamp winning.
 */
export function draftTombs(merge: MergeState, ops: Iterable<Op>, opsOn: (e: GlobalId) => readonly Op[]): Map<GlobalId, HlcString> {
  const tombs = new Map<GlobalId, HlcString>();
  const stack: Array<[GlobalId, HlcString]> = [];
  for (const op of ops) if (op.op === 'retractEntity') stack.push([merge.rep(op.e), op.tx]);
  while (stack.length) {
    const [e, t] = stack.pop()!;
    const cur = tombs.get(e);
    if (cur !== undefined && cur >= t) continue;
    tombs.set(e, t);
    for (const d of merge.entityDatoms(e)) if (merge.schema.get(d.a).component && isRef(d.v)) stack.push([d.v.ref, t]);
    for (const m of merge.members(e)) {
      for (const op of opsOn(m)) {
        if (op.op === 'add' && op.tx < t && op.a !== undefined && op.v !== undefined && merge.schema.get(op.a).component && isRef(op.v)) stack.push([merge.rep(op.v.ref), t]);
      }
    }
  }
  return tombs;
}

function isRef(v: WireValue): v is { ref: GlobalId } {
  return typeof v === 'object' && 'ref' in v;
}

