/**
 * Merge state: the database a *set* of operations denotes (DESIGN.md, "Merge rules").
 *
 * The visible datoms are a pure function of the op set, computed in two stages so that no
 * definition depends on its own result:
 *
 * **Stage 1 — per raw entity** (the entity ids written in ops):
 * - `tomb1(e)`: the greatest `retractEntity` stamp on `e`, or — component cascade — the stamp
 *   `tomb1(p)` of a parent `p` that held `e` through an `isComponent` attribute *as of* that stamp
 *   (i.e. the component ref was present judging only ops older than the stamp). Computed as the
 *   least fixpoint, so component cycles are fine.
 * - Raw registers: for `(e, a)` (cardinality one) the op with the greatest id decides (add → value,
 *   retract → none); for `(e, a, v)` (cardinality many) likewise per value. An op with
 *   `tx ≤ tomb1(e)` is hidden (the tombstone wins ties).
 * - Claims: the values of raw registers of `:db.unique/identity` attributes.
 *
 * **Unique-identity rule.** Entities whose raw registers claim the same identity value
 * `(a, v)` — typically two replicas creating "the same" user offline — are one entity: claims are
 * unioned transitively into components, and each component is represented by the member with the
 * smallest creating stamp (the least op id among its ops; ties impossible as ids are unique, then by
 * entity id). Every op of every member counts as an op of the representative, refs to any member
 * point to the representative, and the component's tombstone is the greatest `tomb1` of its
 * members. The merged entity's attributes then follow the ordinary LWW rules over the union of the
 * members' ops. Queries only ever see representatives.
 *
 * **Stage 2 — visible datoms** of each representative `r` with tombstone `T(r)`:
 * - cardinality one: the greatest op of `(members, a)` decides; none if it is hidden: its tx ≤ T(r),
 *   or it asserts a ref to `x` with tx ≤ T(rep(x)) (retractEntity hides older refs to the entity).
 * - cardinality many: per `(a, v)` (ref values mapped to representatives) likewise.
 * - `:db.type/text`: the string of the Yjs document made of every visible `text` op newer than the
 *   last visible `retract` of `(r, a)`; absent when there is none.
 *
 * `:db.unique/value` is not enforced here (the server rejects violations); the merge never fails
 * on well-formed ops.
 *
 * Invariants: applying an op id twice is a no-op; the result (and {@link MergeState.encodeSnapshot})
 * is independent of the order ops were applied or removed in.
 *
 * Parts: this file holds the public surface and the incremental recompute (which entities a batch
 * touches, in stage order); the records are in `merge-data.ts`, stage 1 (tombstones, cascade,
 * claims, identity components) in `merge-stage1.ts`, stage 2 (visible datoms, text) in
 * `merge-derive.ts`.
 */
import * as Y from 'yjs';
import type { DatomChange, GlobalId, HlcString, Op, VisibleDatom, WireValue } from './types.js';
import { MergeSchema, mergeSchemaOf } from './schema.js';
import { attrValueKey, wireValueKey } from './value.js';
import { MergeData, NONE, SEP, maxStr, type Shown } from './merge-data.js';
import { idCmp, later, type OpRec } from './merge-ops.js';
import { componentTargets, raiseComponentTombs, rawClaims, regroup } from './merge-stage1.js';
import { derive } from './merge-derive.js';

export { base64ToBytes, bytesToBase64, decodableUpdate } from './text.js';

export class MergeState {
  readonly schema: MergeSchema;
  /** The records (`merge-data.ts`); stage 1 and stage 2 live in `merge-stage1.ts`, `merge-derive.ts`. */
  private readonly d: MergeData;

  constructor(schema?: unknown) {
    this.schema = mergeSchemaOf(schema);
    this.d = new MergeData(this.schema);
  }

  // ---------------------------------------------------------------- reading

  /** Number of ops held. */
  get size(): number {
    return this.d.ops.size;
  }
  has(opId: string): boolean {
    return this.d.ops.get(opId) !== undefined;
  }
  /** The op of id `opId` (a new object each call: ops are kept as records, `merge-ops.ts`). */
  getOp(opId: string): Op | undefined {
    return this.d.ops.get(opId)?.toOp();
  }
  /** Every op held (no particular order; new objects). */
  *allOps(): IterableIterator<Op> {
    for (const r of this.d.ops.values()) yield r.toOp();
  }
  /** The representative of `e` (itself unless merged by the unique-identity rule). */
  rep(e: GlobalId): GlobalId {
    return this.d.rep(e);
  }
  /** The raw entities merged into `e`'s representative (just `[e]` when not merged). */
  members(e: GlobalId): GlobalId[] {
    return [...this.d.componentOf(e)];
  }
  /** Whether any op held was written on entity `e` itself (visible or not). */
  hasEntity(e: GlobalId): boolean {
    const rec = this.d.ents.get(e);
    return rec !== undefined && rec.min !== null;
  }
  /** The ops held on entity `e` itself (not on the other members of its identity component). */
  opsOf(e: GlobalId): Op[] {
    const rec = this.d.ents.get(e);
    if (rec === undefined) return [];
    const out: Op[] = [];
    if (rec.tombs) for (const r of rec.tombs) out.push(r.toOp());
    for (const r of rec.ops) out.push(r.toOp());
    return out;
  }
  /** Whether `e` has any visible datom. */
  exists(e: GlobalId): boolean {
    return this.d.visible.has(this.d.rep(e));
  }
  /** Visible values of `(e, a)` in vkey order. */
  values(e: GlobalId, a: string): WireValue[] {
    const d = this.d;
    const m = d.visible.get(d.rep(e));
    if (m === undefined) return [];
    const out: Array<[string, WireValue]> = [];
    for (const x of m) if (x.a === a) out.push([attrValueKey(a, x.v), x.v]);
    if (out.length > 1) out.sort((x, y) => (x[0] < y[0] ? -1 : 1));
    return out.map((x) => x[1]);
  }
  /** Visible datoms of `e`. */
  entityDatoms(e: GlobalId): VisibleDatom[] {
    const d = this.d;
    const r = d.rep(e);
    const out: VisibleDatom[] = [];
    const ent = d.visible.get(r);
    if (ent) for (const x of ent) out.push(datomOf(r, x));
    return out;
  }
  /** Every visible datom (no particular order). */
  *datoms(): IterableIterator<VisibleDatom> {
    for (const [r, ent] of this.d.visible) for (const x of ent) yield datomOf(r, x);
  }
  /** The entity holding unique value `(a, v)` (identity or value attributes), or null. */
  lookup(a: string, v: WireValue): GlobalId | null {
    return this.d.uniqueIdx.get(attrValueKey(a, v)) ?? null;
  }
  /**
   * The live Yjs document of a text attribute (created empty when absent). Replaced by a new
   * document when ops are removed or hidden (rollback, tombstone), never otherwise.
   */
  textDoc(e: GlobalId, a: string): Y.Doc {
    const d = this.d;
    const key = d.rep(e) + SEP + a;
    let t = d.texts.get(key);
    if (!t) {
      t = { doc: new Y.Doc(), applied: new Set() };
      d.texts.set(key, t);
    }
    return t.doc;
  }

  // ---------------------------------------------------------------- writing

  /**
   * Adds ops (ids already held are skipped) and returns the visible changes, retractions first.
   * The ops must be well-formed: input from storage or the network is checked first, at the trust
   * boundary, by the envelope rules of `@dataloom/protocol` (`checkEnvelope`).
   */
  apply(ops: Iterable<Op>): DatomChange[] {
    const d = this.d;
    const list = Array.isArray(ops) ? (ops as Op[]) : [...ops];
    const bulk = d.ents.size === 0;
    const dirty = new Set<GlobalId>();
    for (const wire of list) {
      const rec = d.ent(wire.e);
      const op = d.ops.add(wire, rec.id);
      if (op === null) continue;
      if (rec.min === null || idCmp(op, rec.min) < 0) rec.min = op;
      const e = rec.id;
      if (!bulk) dirty.add(e);
      if (op.op === 'retractEntity') {
        (rec.tombs ??= []).push(op);
      } else {
        const a = op.a!;
        rec.ops.push(op);
        const v = op.v;
        if (op.op === 'add' && typeof v === 'object' && v !== null && 'ref' in v) {
          const t = v.ref;
          let set = d.refsIn.get(t);
          if (set === undefined) d.refsIn.set(t, (set = new Set()));
          set.add(op);
          if (!bulk && d.hasComponents && d.schema.get(a).component) dirty.add(t);
        }
      }
    }
    return bulk ? this.recomputeAll() : this.recompute(dirty);
  }

  /**
   * The same result as {@link recompute} over every entity, for a state that was empty before the
   * batch (cold start): no region, claim-diff or referrer bookkeeping, each entity derived once.
   */
  private recomputeAll(): DatomChange[] {
    const d = this.d;
    // stage-1 tombstones: explicit, then the component cascade from tombstoned entities only
    const tombed: GlobalId[] = [];
    for (const rec of d.ents.values()) {
      if (rec.tombs === null) continue;
      let t = NONE;
      for (const op of rec.tombs) t = maxStr(t, op.tx);
      rec.tomb1 = t;
      tombed.push(rec.id);
    }
    if (d.hasComponents && tombed.length) {
      const region = new Set<GlobalId>();
      const stack = tombed.slice();
      while (stack.length) {
        const e = stack.pop()!;
        if (region.has(e)) continue;
        region.add(e);
        const rec = d.ents.get(e);
        if (rec) for (const c of componentTargets(d, rec)) if (!region.has(c)) stack.push(c);
      }
      raiseComponentTombs(d, region);
    }
    // claims, and components only where a claim is shared
    const shared: GlobalId[] = [];
    if (d.identityAttrs.size) {
      for (const rec of d.ents.values()) {
        const c = rawClaims(d, rec);
        rec.claims = c;
        for (const k of c) {
          let set = d.claimIndex.get(k);
          if (!set) d.claimIndex.set(k, (set = new Set()));
          set.add(rec.id);
          if (set.size === 2) for (const x of set) shared.push(x);
          else if (set.size > 2) shared.push(rec.id);
        }
      }
    }
    if (shared.length) regroup(d, new Set(shared));
    const changes: DatomChange[] = [];
    for (const [e, rec] of d.ents) {
      rec.ops = rec.ops.slice(); // exactly its length: lists grown op by op keep spare room
      if (!d.repOf.has(e)) derive(d, e, changes, changes);
    }
    d.ops.trim();
    return changes;
  }

  /** Removes ops (e.g. a transaction the server rejected) and returns the visible changes. */
  remove(opIds: Iterable<string>): DatomChange[] {
    const d = this.d;
    const dirty = new Set<GlobalId>();
    for (const id of opIds) {
      const op = d.ops.get(id);
      if (!op) continue;
      d.ops.delete(op);
      const rec = d.ents.get(op.e)!;
      dirty.add(op.e);
      if (op.op === 'retractEntity') {
        rec.tombs!.splice(rec.tombs!.indexOf(op), 1);
        if (rec.tombs!.length === 0) rec.tombs = null;
      } else {
        rec.ops.splice(rec.ops.indexOf(op), 1);
        if (op.op === 'add' && typeof op.v === 'object' && 'ref' in op.v) {
          d.refsIn.get(op.v.ref)?.delete(op);
          if (d.schema.get(op.a!).component) dirty.add(op.v.ref);
        }
      }
      if (rec.min === op) rec.resetMin();
    }
    return this.recompute(dirty);
  }

  /**
   * Ids of ops that can be dropped without changing the visible state now or after any future
   * op stamped at or above `frontier` (a *stable* frontier: no op below it will ever arrive or be
   * removed again). Per register `(e, a)` / value `(e, a, v)`, every op below the frontier except
   * the greatest one is superseded. Kept regardless: `retractEntity` and text ops, component
   * attributes (the cascade looks at past states), and each entity's least op (it decides the
   * unique-identity representative). History (`asOf`) below the frontier is lost with them.
   *
   * `perValue`: key every register by value, whatever the attribute's cardinality — then the ops
   * kept still decide the same state if a later schema change turns cardinality one into many or
   * back, or declares the attribute unique or a ref (not: a component or text attribute, whose
   * rules look at past states).
   */
  supersededBelow(frontier: HlcString, options: { perValue?: boolean } = {}): string[] {
    const d = this.d;
    const out: string[] = [];
    const perValue = options.perValue === true;
    for (const rec of d.ents.values()) {
      for (const [a, list] of rec.byAttr()) {
        const s = d.schema.get(a);
        if (s.text || s.component) continue;
        const byValue = perValue || s.many;
        const best = new Map<string, OpRec>();
        for (const op of list) {
          if (op.tx >= frontier || op.op === 'text') continue;
          const k = byValue ? (op.v === undefined ? '' : wireValueKey(op.v)) : '';
          const b = best.get(k);
          if (!b || later(op, b)) best.set(k, op);
        }
        for (const op of list) {
          if (op.tx >= frontier || op === rec.min || op.op === 'text') continue;
          const k = byValue ? (op.v === undefined ? '' : wireValueKey(op.v)) : '';
          if (best.get(k) !== op) out.push(op.id);
        }
      }
    }
    return out;
  }

  /**
   * Canonical encoding of the whole state: the op set sorted by id and the visible datoms sorted,
   * as UTF-8 JSON. Two states holding the same op set encode to identical bytes.
   */
  encodeSnapshot(): Uint8Array {
    const opRows: Array<[string, ...unknown[]]> = [];
    for (const o of this.d.ops.values()) opRows.push([o.id, o.e, o.op, o.a ?? null, o.v === undefined ? null : wireValueKey(o.v)]);
    opRows.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    const datoms = [...this.datoms()].map((x) => [x.e, x.a, wireValueKey(x.v), x.tx]);
    datoms.sort((x, y) => {
      for (let i = 0; i < 3; i++) if (x[i]! !== y[i]!) return x[i]! < y[i]! ? -1 : 1;
      return 0;
    });
    return new TextEncoder().encode(JSON.stringify({ v: 1, ops: opRows, datoms }));
  }

  // ---------------------------------------------------------------- internals

  private recompute(dirty: Set<GlobalId>): DatomChange[] {
    const d = this.d;
    // 1. stage-1 tombstones over the component-descendant closure of the dirty entities
    const region = new Set<GlobalId>();
    const stack = [...dirty];
    while (stack.length) {
      const e = stack.pop()!;
      if (region.has(e)) continue;
      region.add(e);
      if (!d.hasComponents) continue;
      const rec = d.ents.get(e);
      if (rec) for (const c of componentTargets(d, rec)) if (!region.has(c)) stack.push(c);
    }
    for (const e of region) {
      const rec = d.ent(e);
      let t = NONE;
      if (rec.tombs) for (const op of rec.tombs) t = maxStr(t, op.tx);
      rec.tomb1 = t;
    }
    // least fixpoint: raise children's tombs from their parents until nothing changes
    if (d.hasComponents) raiseComponentTombs(d, region);

    // 2. claims of the region's entities
    const claimDirty = new Set<GlobalId>();
    for (const e of region) {
      const rec = d.ents.get(e)!;
      const now = rawClaims(d, rec);
      let same = now.size === rec.claims.size;
      if (same) for (const c of now) if (!rec.claims.has(c)) same = false;
      if (!same) {
        for (const c of rec.claims) {
          const s = d.claimIndex.get(c)!;
          s.delete(e);
          if (s.size === 0) d.claimIndex.delete(c);
        }
        for (const c of now) {
          let s = d.claimIndex.get(c);
          if (!s) d.claimIndex.set(c, (s = new Set()));
          s.add(e);
        }
        rec.claims = now;
        // components can only change if e was merged before or now shares a claim
        let shared = d.repOf.has(e) || d.membersOf.has(e);
        if (!shared) for (const c of now) if (d.claimIndex.get(c)!.size > 1) shared = true;
        if (shared) claimDirty.add(e);
      } else if (d.repOf.has(e) || d.membersOf.has(e)) {
        claimDirty.add(e); // its creating stamp may have changed
      }
    }

    // 3. identity components around entities whose claims changed
    const out = new Set<GlobalId>(); // representatives (old and new) to re-derive
    const touched = new Set<GlobalId>(region);
    if (claimDirty.size) {
      const area = new Set<GlobalId>();
      const q = [...claimDirty];
      for (const e of claimDirty) q.push(...d.componentOf(e));
      while (q.length) {
        const e = q.pop()!;
        if (area.has(e)) continue;
        area.add(e);
        for (const c of d.ents.get(e)?.claims ?? []) for (const o of d.claimIndex.get(c)!) if (!area.has(o)) q.push(o);
        for (const m of d.componentOf(e)) if (!area.has(m)) q.push(m);
      }
      const oldRep = regroup(d, area);
      for (const e of area) {
        touched.add(e);
        const o = oldRep.get(e)!;
        out.add(o);
      }
    }

    // 4. representatives to re-derive: touched entities' reps, and the reps of every entity that
    //    refers to any member of those (their refs map through reps and are hidden by tombstones)
    for (const e of touched) {
      out.add(d.rep(e));
      out.add(e);
    }
    for (const r of [...out]) {
      for (const m of d.membersOf.get(r) ?? [r]) {
        const refs = d.refsIn.get(m);
        if (refs) for (const op of refs) out.add(d.rep(op.e));
      }
    }
    for (const e of touched) {
      const refs = d.refsIn.get(e);
      if (refs) for (const op of refs) out.add(d.rep(op.e));
    }
    const changes: DatomChange[] = [];
    const adds: DatomChange[] = [];
    for (const r of out) derive(d, r, changes, adds);
    for (const x of adds) changes.push(x);
    return changes;
  }
}

/** A visible datom of representative `r` (a fresh record: what is kept is {@link Shown}). */
function datomOf(r: GlobalId, x: Shown): VisibleDatom {
  return { e: r, a: x.a, v: x.v, tx: x.tx, added: true } as VisibleDatom;
}
