/**
 * Stage 1 of the merge rules (see `state.ts`), per raw entity: component children and the
 * "as of" test the tombstone cascade needs, the cascade itself, identity claims, and the
 * unique-identity components (union-find over shared claims).
 */
import type { GlobalId } from './types.js';
import { attrValueKey, wireValueKey } from './value.js';
import { NONE, SEP, type EntRec, type MergeData } from './merge-data.js';
import { idCmp, later, type OpRec } from './merge-ops.js';

/** Component children of `e` through any op (present or not). */
export function componentTargets(d: MergeData, rec: EntRec): GlobalId[] {
  const out: GlobalId[] = [];
  for (const op of rec.ops) {
    if (op.op === 'add' && typeof op.v === 'object' && 'ref' in op.v && d.schema.get(op.a!).component) out.push(op.v.ref);
  }
  return out;
}

/** Whether component ref `(p, a, c)` is present judging only ops with tx < t. */
export function presentAsOf(d: MergeData, p: EntRec, a: string, c: GlobalId, t: string): boolean {
  const many = d.schema.get(a).many;
  let best: OpRec | null = null;
  for (const op of p.ops) {
    if (op.a !== a || op.tx >= t) continue;
    if (many && !(op.v !== undefined && typeof op.v === 'object' && 'ref' in op.v && op.v.ref === c)) continue;
    if (later(op, best)) best = op;
  }
  if (best === null || best.op !== 'add') return false;
  const v = best.v!;
  return typeof v === 'object' && 'ref' in v && v.ref === c;
}

/**
 * Least fixpoint of the component cascade over `region` (closed under component children):
 * raises each child's stage-1 tombstone to a tombstoned parent's stamp while the parent held it
 * as of that stamp.  */
export function raiseComponentTombs(d: MergeData, region: ReadonlySet<GlobalId>): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (const c of region) {
      const crec = d.ents.get(c);
      const refs = d.refsIn.get(c);
      if (!crec || !refs) continue;
      for (const op of refs) {
        if (!d.schema.get(op.a!).component) continue;
        const p = d.ents.get(op.e)!;
        if (p.tomb1 === NONE || p.tomb1 <= crec.tomb1) continue;
        if (presentAsOf(d, p, op.a!, c, p.tomb1)) {
          crec.tomb1 = p.tomb1;
          changed = true;
        }
      }
    }
  }
}

/**
 * Recomputes the identity components of `area` (which must be closed under shared claims and
 * old membership) by union-find over shared claims; returns each entity's previous representative.
 */
export function regroup(d: MergeData, area: Set<GlobalId>): Map<GlobalId, GlobalId> {
  const oldRep = new Map<GlobalId, GlobalId>();
  for (const e of area) {
    oldRep.set(e, d.rep(e));
    d.membersOf.delete(d.rep(e));
  }
  for (const e of area) d.repOf.delete(e);
  // union-find over shared claims
  const parent = new Map<GlobalId, GlobalId>();
  const find = (x: GlobalId): GlobalId => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    let y = x;
    while (parent.get(y) !== r) {
      const n = parent.get(y)!;
      parent.set(y, r);
      y = n;
    }
    return r;
  };
  for (const e of area) parent.set(e, e);
  for (const e of area) {
    for (const c of d.ents.get(e)!.claims) {
      for (const o of d.claimIndex.get(c)!) {
        const ra = find(e), rb = find(o);
        if (ra !== rb) parent.set(ra, rb);
      }
    }
  }
  const groups = new Map<GlobalId, GlobalId[]>();
  for (const e of area) {
    const r = find(e);
    let g = groups.get(r);
    if (!g) groups.set(r, (g = []));
    g.push(e);
  }
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    g.sort((x, y) => creationCmp(d, x, y));
    const r = g[0]!;
    d.membersOf.set(r, g);
    for (const m of g) if (m !== r) d.repOf.set(m, r);
  }
  return oldRep;
}

export function creationCmp(d: MergeData, x: GlobalId, y: GlobalId): number {
  const a = d.ents.get(x)!.min, b = d.ents.get(y)!.min;
  if (a !== b) return a === null ? -1 : b === null ? 1 : idCmp(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function rawClaims(d: MergeData, rec: EntRec): Set<string> {
  let any = false;
  if (d.identityAttrs.size) for (const op of rec.ops) if (d.identityAttrs.has(op.a!)) any = true;
  if (!any) return rec.claims.size === 0 ? rec.claims : new Set();
  const out = new Set<string>();
  for (const [a, list] of rec.byAttr()) {
    const s = d.schema.get(a);
    if (!s.identity) continue;
    if (s.many) {
      const best = new Map<string, OpRec>();
      for (const op of list) {
        if (op.v === undefined) continue;
        const k = wireValueKey(op.v);
        const b = best.get(k);
        if (!b || later(op, b)) best.set(k, op);
      }
      for (const [k, op] of best) if (op.op === 'add' && op.tx > rec.tomb1) out.add(a + SEP + k);
    } else {
      let best: OpRec | null = null;
      for (const op of list) if (later(op, best)) best = op;
      if (best && best.op === 'add' && best.tx > rec.tomb1) out.add(attrValueKey(a, best.v!));
    }
  }
  return out;
}
