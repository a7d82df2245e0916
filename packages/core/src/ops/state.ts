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
 */
import * as Y from 'yjs';
import type { GlobalId, HlcString, Op, WireValue } from './types.js';
import { MergeSchema, mergeSchemaOf } from './schema.js';
import { wireValueKey } from './value.js';
import { decodableUpdate } from './text.js';

export { base64ToBytes, bytesToBase64, decodableUpdate } from './text.js';

/** A visible datom of the merge state. */
export interface VisibleDatom {
  e: GlobalId;
  a: string;
  v: WireValue;
  /** Stamp of the op that decided it (for text: the newest text op). */
  tx: HlcString;
}

/** A change of the visible state: a datom appeared (`added`) or disappeared. */
export interface DatomChange extends VisibleDatom {
  added: boolean;
}

interface EntRec {
  id: GlobalId;
  /** attribute → ops (add/retract/text) on (e, a) */
  attrs: Map<string, Op[]>;
  /** retractEntity ops on e */
  tombs: Op[];
  /** stage-1 tombstone ('' = none) */
  tomb1: string;
  /** current claims: `a\u0000vkey` */
  claims: Set<string>;
  /** least op id held on this entity ('' when none) */
  minId: string;
}

const SEP = '\u0000';
/** Shared empty claim set (never mutated: claims are replaced, not edited). */
const EMPTY_CLAIMS: Set<string> = new Set();
const NONE = '';

function maxStr(a: string, b: string): string {
  return a > b ? a : b;
}

export class MergeState {
  readonly schema: MergeSchema;
  private readonly ops = new Map<string, Op>();
  private readonly ents = new Map<GlobalId, EntRec>();
  /** target → ids of add ops whose value refs it */
  private readonly refsIn = new Map<GlobalId, Set<string>>();
  private readonly claimIndex = new Map<string, Set<GlobalId>>();
  /** member → representative, only for members of multi-entity components */
  private readonly repOf = new Map<GlobalId, GlobalId>();
  /** representative → members (≥ 2), only for multi-entity components */
  private readonly membersOf = new Map<GlobalId, GlobalId[]>();
  /** representative → `a\0vkey` → datom */
  private readonly visible = new Map<GlobalId, Map<string, VisibleDatom>>();
  /** Whether any attribute is a component / identity attribute (fast paths when not). */
  private readonly hasComponents: boolean;
  private readonly identityAttrs: ReadonlySet<string>;
  /** `a\0vkey` → representative, for unique attributes (identity and value) */
  private readonly uniqueIdx = new Map<string, GlobalId>();
  private readonly texts = new Map<string, { doc: Y.Doc; applied: Set<string> }>();

  constructor(schema?: unknown) {
    this.schema = mergeSchemaOf(schema);
    let comp = false;
    for (const [, a] of this.schema.entries()) if (a.component) comp = true;
    this.hasComponents = comp;
    this.identityAttrs = new Set(this.schema.identityAttrs());
  }

  // ---------------------------------------------------------------- reading

  /** Number of ops held. */
  get size(): number {
    return this.ops.size;
  }
  has(opId: string): boolean {
    return this.ops.has(opId);
  }
  getOp(opId: string): Op | undefined {
    return this.ops.get(opId);
  }
  /** Every op held (no particular order). */
  allOps(): IterableIterator<Op> {
    return this.ops.values();
  }
  /** The representative of `e` (itself unless merged by the unique-identity rule). */
  rep(e: GlobalId): GlobalId {
    return this.repOf.get(e) ?? e;
  }
  /** The raw entities merged into `e`'s representative (just `[e]` when not merged). */
  members(e: GlobalId): GlobalId[] {
    return [...this.componentOf(e)];
  }
  /** Whether any op held was written on entity `e` itself (visible or not). */
  hasEntity(e: GlobalId): boolean {
    const rec = this.ents.get(e);
    return rec !== undefined && rec.minId !== NONE;
  }
  /** The ops held on entity `e` itself (not on the other members of its identity component). */
  opsOf(e: GlobalId): Op[] {
    const rec = this.ents.get(e);
    if (rec === undefined) return [];
    const out = rec.tombs.slice();
    for (const l of rec.attrs.values()) out.push(...l);
    return out;
  }
  /** Whether `e` has any visible datom. */
  exists(e: GlobalId): boolean {
    return this.visible.has(this.rep(e));
  }
  /** Visible values of `(e, a)` in vkey order. */
  values(e: GlobalId, a: string): WireValue[] {
    const m = this.visible.get(this.rep(e));
    if (m === undefined) return [];
    const out: Array<[string, WireValue]> = [];
    for (const [k, d] of m) if (d.a === a) out.push([k, d.v]);
    if (out.length > 1) out.sort((x, y) => (x[0] < y[0] ? -1 : 1));
    return out.map((x) => x[1]);
  }
  /** Visible datoms of `e`. */
  entityDatoms(e: GlobalId): VisibleDatom[] {
    const out: VisibleDatom[] = [];
    const ent = this.visible.get(this.rep(e));
    if (ent) for (const d of ent.values()) out.push(d);
    return out;
  }
  /** Every visible datom (no particular order). */
  *datoms(): IterableIterator<VisibleDatom> {
    for (const ent of this.visible.values()) yield* ent.values();
  }
  /** The entity holding unique value `(a, v)` (identity or value attributes), or null. */
  lookup(a: string, v: WireValue): GlobalId | null {
    return this.uniqueIdx.get(a + SEP + wireValueKey(v)) ?? null;
  }
  /**
   * The live Yjs document of a text attribute (created empty when absent). Replaced by a new
   * document when ops are removed or hidden (rollback, tombstone), never otherwise.
   */
  textDoc(e: GlobalId, a: string): Y.Doc {
    const key = this.rep(e) + SEP + a;
    let t = this.texts.get(key);
    if (!t) {
      t = { doc: new Y.Doc(), applied: new Set() };
      this.texts.set(key, t);
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
    const list = Array.isArray(ops) ? (ops as Op[]) : [...ops];
    const bulk = this.ents.size === 0;
    const dirty = new Set<GlobalId>();
    for (const op of list) {
      if (this.ops.has(op.id)) continue;
      this.ops.set(op.id, op);
      const e = op.e;
      let rec = this.ents.get(e);
      if (rec === undefined) {
        rec = { id: e, attrs: new Map(), tombs: [], tomb1: NONE, claims: EMPTY_CLAIMS, minId: op.id };
        this.ents.set(e, rec);
      } else if (op.id < rec.minId || rec.minId === NONE) rec.minId = op.id;
      if (!bulk) dirty.add(e);
      if (op.op === 'retractEntity') {
        rec.tombs.push(op);
      } else {
        const a = op.a!;
        const l = rec.attrs.get(a);
        if (l === undefined) rec.attrs.set(a, [op]);
        else l.push(op);
        const v = op.v;
        if (op.op === 'add' && typeof v === 'object' && v !== null && 'ref' in v) {
          const t = v.ref;
          let set = this.refsIn.get(t);
          if (set === undefined) this.refsIn.set(t, (set = new Set()));
          set.add(op.id);
          if (!bulk && this.hasComponents && this.schema.get(a).component) dirty.add(t);
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
    // stage-1 tombstones: explicit, then the component cascade from tombstoned entities only
    const tombed: GlobalId[] = [];
    for (const rec of this.ents.values()) {
      if (rec.tombs.length === 0) continue;
      let t = NONE;
      for (const op of rec.tombs) t = maxStr(t, op.tx);
      rec.tomb1 = t;
      tombed.push(rec.id);
    }
    if (this.hasComponents && tombed.length) {
      const region = new Set<GlobalId>();
      const stack = tombed.slice();
      while (stack.length) {
        const e = stack.pop()!;
        if (region.has(e)) continue;
        region.add(e);
        const rec = this.ents.get(e);
        if (rec) for (const c of this.componentTargets(rec)) if (!region.has(c)) stack.push(c);
      }
      for (let changed = true; changed; ) {
        changed = false;
        for (const c of region) {
          const crec = this.ents.get(c);
          const refs = this.refsIn.get(c);
          if (!crec || !refs) continue;
          for (const id of refs) {
            const op = this.ops.get(id)!;
            if (!this.schema.get(op.a!).component) continue;
            const p = this.ents.get(op.e)!;
            if (p.tomb1 === NONE || p.tomb1 <= crec.tomb1) continue;
            if (this.presentAsOf(p, op.a!, c, p.tomb1)) {
              crec.tomb1 = p.tomb1;
              changed = true;
            }
          }
        }
      }
    }
    // claims, and components only where a claim is shared
    const shared: GlobalId[] = [];
    if (this.identityAttrs.size) {
      for (const rec of this.ents.values()) {
        const c = this.rawClaims(rec);
        rec.claims = c;
        for (const k of c) {
          let set = this.claimIndex.get(k);
          if (!set) this.claimIndex.set(k, (set = new Set()));
          set.add(rec.id);
          if (set.size === 2) for (const x of set) shared.push(x);
          else if (set.size > 2) shared.push(rec.id);
        }
      }
    }
    if (shared.length) this.regroup(new Set(shared));
    const changes: DatomChange[] = [];
    for (const e of this.ents.keys()) if (!this.repOf.has(e)) this.derive(e, changes, changes);
    return changes;
  }

  /** Removes ops (e.g. a transaction the server rejected) and returns the visible changes. */
  remove(opIds: Iterable<string>): DatomChange[] {
    const dirty = new Set<GlobalId>();
    for (const id of opIds) {
      const op = this.ops.get(id);
      if (!op) continue;
      this.ops.delete(id);
      const rec = this.ents.get(op.e)!;
      dirty.add(op.e);
      if (op.op === 'retractEntity') {
        rec.tombs.splice(rec.tombs.indexOf(op), 1);
      } else {
        const list = rec.attrs.get(op.a!)!;
        list.splice(list.indexOf(op), 1);
        if (list.length === 0) rec.attrs.delete(op.a!);
        if (op.op === 'add' && typeof op.v === 'object' && 'ref' in op.v) {
          this.refsIn.get(op.v.ref)?.delete(op.id);
          if (this.schema.get(op.a!).component) dirty.add(op.v.ref);
        }
      }
      if (rec.minId === op.id) {
        rec.minId = NONE;
        for (const l of rec.attrs.values()) for (const o of l) if (rec.minId === NONE || o.id < rec.minId) rec.minId = o.id;
        for (const o of rec.tombs) if (rec.minId === NONE || o.id < rec.minId) rec.minId = o.id;
      }
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
    const out: string[] = [];
    const perValue = options.perValue === true;
    for (const rec of this.ents.values()) {
      for (const [a, list] of rec.attrs) {
        const s = this.schema.get(a);
        if (s.text || s.component) continue;
        const byValue = perValue || s.many;
        const best = new Map<string, Op>();
        for (const op of list) {
          if (op.tx >= frontier || op.op === 'text') continue;
          const k = byValue ? (op.v === undefined ? '' : wireValueKey(op.v)) : '';
          const b = best.get(k);
          if (!b || op.id > b.id) best.set(k, op);
        }
        for (const op of list) {
          if (op.tx >= frontier || op.id === rec.minId || op.op === 'text') continue;
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
    const ops = [...this.ops.values()].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    const opRows = ops.map((o) => [o.id, o.e, o.op, o.a ?? null, o.v === undefined ? null : wireValueKey(o.v)]);
    const datoms = [...this.datoms()].map((d) => [d.e, d.a, wireValueKey(d.v), d.tx]);
    datoms.sort((x, y) => {
      for (let i = 0; i < 3; i++) if (x[i]! !== y[i]!) return x[i]! < y[i]! ? -1 : 1;
      return 0;
    });
    return new TextEncoder().encode(JSON.stringify({ v: 1, ops: opRows, datoms }));
  }

  // ---------------------------------------------------------------- internals

  private ent(e: GlobalId): EntRec {
    let r = this.ents.get(e);
    if (!r) {
      r = { id: e, attrs: new Map(), tombs: [], tomb1: NONE, claims: EMPTY_CLAIMS, minId: NONE };
      this.ents.set(e, r);
    }
    return r;
  }

  /** Component children of `e` through any op (present or not). */
  private componentTargets(rec: EntRec): GlobalId[] {
    const out: GlobalId[] = [];
    for (const [a, list] of rec.attrs) {
      if (!this.schema.get(a).component) continue;
      for (const op of list) if (op.op === 'add' && typeof op.v === 'object' && 'ref' in op.v) out.push(op.v.ref);
    }
    return out;
  }

  /** Whether component ref `(p, a, c)` is present judging only ops with tx < t. */
  private presentAsOf(p: EntRec, a: string, c: GlobalId, t: string): boolean {
    const list = p.attrs.get(a);
    if (!list) return false;
    const many = this.schema.get(a).many;
    let best: Op | null = null;
    for (const op of list) {
      if (op.tx >= t) continue;
      if (many && !(op.v !== undefined && typeof op.v === 'object' && 'ref' in op.v && op.v.ref === c)) continue;
      if (best === null || op.id > best.id) best = op;
    }
    if (best === null || best.op !== 'add') return false;
    const v = best.v!;
    return typeof v === 'object' && 'ref' in v && v.ref === c;
  }

  private recompute(dirty: Set<GlobalId>): DatomChange[] {
    // 1. stage-1 tombstones over the component-descendant closure of the dirty entities
    const region = new Set<GlobalId>();
    const stack = [...dirty];
    while (stack.length) {
      const e = stack.pop()!;
      if (region.has(e)) continue;
      region.add(e);
      if (!this.hasComponents) continue;
      const rec = this.ents.get(e);
      if (rec) for (const c of this.componentTargets(rec)) if (!region.has(c)) stack.push(c);
    }
    const oldTomb = new Map<GlobalId, string>();
    for (const e of region) {
      const rec = this.ent(e);
      oldTomb.set(e, rec.tomb1);
      let t = NONE;
      for (const op of rec.tombs) t = maxStr(t, op.tx);
      rec.tomb1 = t;
    }
    // least fixpoint: raise children's tombs from their parents until nothing changes
    for (let changed = this.hasComponents; changed; ) {
      changed = false;
      for (const c of region) {
        const crec = this.ents.get(c)!;
        const refs = this.refsIn.get(c);
        if (!refs) continue;
        for (const id of refs) {
          const op = this.ops.get(id)!;
          if (!this.schema.get(op.a!).component) continue;
          const p = this.ents.get(op.e)!;
          if (p.tomb1 === NONE || p.tomb1 <= crec.tomb1) continue;
          if (this.presentAsOf(p, op.a!, c, p.tomb1)) {
            crec.tomb1 = p.tomb1;
            changed = true;
          }
        }
      }
    }

    // 2. claims of the region's entities
    const claimDirty = new Set<GlobalId>();
    for (const e of region) {
      const rec = this.ents.get(e)!;
      const now = this.rawClaims(rec);
      let same = now.size === rec.claims.size;
      if (same) for (const c of now) if (!rec.claims.has(c)) same = false;
      if (!same) {
        for (const c of rec.claims) {
          const s = this.claimIndex.get(c)!;
          s.delete(e);
          if (s.size === 0) this.claimIndex.delete(c);
        }
        for (const c of now) {
          let s = this.claimIndex.get(c);
          if (!s) this.claimIndex.set(c, (s = new Set()));
          s.add(e);
        }
        rec.claims = now;
        // components can only change if e was merged before or now shares a claim
        let shared = this.repOf.has(e) || this.membersOf.has(e);
        if (!shared) for (const c of now) if (this.claimIndex.get(c)!.size > 1) shared = true;
        if (shared) claimDirty.add(e);
      } else if (this.repOf.has(e) || this.membersOf.has(e)) {
        claimDirty.add(e); // its creating stamp may have changed
      }
    }

    // 3. identity components around entities whose claims changed
    const out = new Set<GlobalId>(); // representatives (old and new) to re-derive
    const touched = new Set<GlobalId>(region);
    if (claimDirty.size) {
      const area = new Set<GlobalId>();
      const q = [...claimDirty];
      for (const e of claimDirty) q.push(...this.componentOf(e));
      while (q.length) {
        const e = q.pop()!;
        if (area.has(e)) continue;
        area.add(e);
        for (const c of this.ents.get(e)?.claims ?? []) for (const o of this.claimIndex.get(c)!) if (!area.has(o)) q.push(o);
        for (const m of this.componentOf(e)) if (!area.has(m)) q.push(m);
      }
      const oldRep = this.regroup(area);
      for (const e of area) {
        touched.add(e);
        const o = oldRep.get(e)!;
        out.add(o);
      }
    }

    // 4. representatives to re-derive: touched entities' reps, and the reps of every entity that
    //    refers to any member of those (their refs map through reps and are hidden by tombstones)
    for (const e of touched) {
      out.add(this.rep(e));
      out.add(e);
    }
    for (const r of [...out]) {
      for (const m of this.membersOf.get(r) ?? [r]) {
        const refs = this.refsIn.get(m);
        if (refs) for (const id of refs) out.add(this.rep(this.ops.get(id)!.e));
      }
    }
    for (const e of touched) {
      const refs = this.refsIn.get(e);
      if (refs) for (const id of refs) out.add(this.rep(this.ops.get(id)!.e));
    }
    const changes: DatomChange[] = [];
    const adds: DatomChange[] = [];
    for (const r of out) this.derive(r, changes, adds);
    for (const d of adds) changes.push(d);
    return changes;
  }

  /**
   * Recomputes the identity components of `area` (which must be closed under shared claims and
   * old membership) by union-find over shared claims; returns each entity's previous representative.
   */
  private regroup(area: Set<GlobalId>): Map<GlobalId, GlobalId> {
    const oldRep = new Map<GlobalId, GlobalId>();
    for (const e of area) {
      oldRep.set(e, this.rep(e));
      this.membersOf.delete(this.rep(e));
    }
    for (const e of area) this.repOf.delete(e);
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
      for (const c of this.ents.get(e)!.claims) {
        for (const o of this.claimIndex.get(c)!) {
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
      g.sort((x, y) => this.creationCmp(x, y));
      const r = g[0]!;
      this.membersOf.set(r, g);
      for (const m of g) if (m !== r) this.repOf.set(m, r);
    }
    return oldRep;
  }

  /** The members of `e`'s identity component (`[e]` when alone). */
  private componentOf(e: GlobalId): readonly GlobalId[] {
    return this.membersOf.get(this.rep(e)) ?? [e];
  }

  private creationCmp(x: GlobalId, y: GlobalId): number {
    const a = this.ents.get(x)!.minId, b = this.ents.get(y)!.minId;
    if (a !== b) return a < b ? -1 : 1;
    return x < y ? -1 : x > y ? 1 : 0;
  }

  private rawClaims(rec: EntRec): Set<string> {
    let any = false;
    for (const a of rec.attrs.keys()) if (this.identityAttrs.has(a)) any = true;
    if (!any) return rec.claims.size === 0 ? rec.claims : new Set();
    const out = new Set<string>();
    for (const [a, list] of rec.attrs) {
      const s = this.schema.get(a);
      if (!s.identity) continue;
      if (s.many) {
        const best = new Map<string, Op>();
        for (const op of list) {
          if (op.v === undefined) continue;
          const k = wireValueKey(op.v);
          const b = best.get(k);
          if (!b || op.id > b.id) best.set(k, op);
        }
        for (const [k, op] of best) if (op.op === 'add' && op.tx > rec.tomb1) out.add(a + SEP + k);
      } else {
        let best: Op | null = null;
        for (const op of list) if (best === null || op.id > best.id) best = op;
        if (best && best.op === 'add' && best.tx > rec.tomb1) out.add(a + SEP + wireValueKey(best.v!));
      }
    }
    return out;
  }

  private finalTomb(r: GlobalId): string {
    const ms = this.membersOf.get(r);
    if (!ms) return this.ents.get(r)?.tomb1 ?? NONE;
    let t = NONE;
    for (const m of ms) t = maxStr(t, this.ents.get(m)!.tomb1);
    return t;
  }

  /** Maps a value through representatives; null when it is a ref hidden by the target's tombstone. */
  private mapValue(op: Op): WireValue | null {
    const v = op.v!;
    if (typeof v === 'object' && 'ref' in v) {
      const t = this.rep(v.ref);
      if (op.tx <= this.finalTomb(t)) return null;
      return t === v.ref ? v : { ref: t };
    }
    return v;
  }

  /** Re-derives the visible datoms of `r` and appends the differences. */
  private derive(r: GlobalId, rets: DatomChange[], adds: DatomChange[]): void {
    const next = new Map<string, VisibleDatom>();
    if (this.repOf.get(r) === undefined && this.ents.has(r)) {
      const members = this.membersOf.get(r);
      const T = this.finalTomb(r);
      let byAttr: Map<string, Op[]>;
      if (members === undefined) {
        byAttr = this.ents.get(r)!.attrs;
      } else {
        byAttr = new Map<string, Op[]>();
        for (const m of members) {
          for (const [a, list] of this.ents.get(m)!.attrs) {
            const acc = byAttr.get(a);
            if (acc) acc.push(...list);
            else byAttr.set(a, list.slice());
          }
        }
      }
      for (const [a, list] of byAttr) {
        const s = this.schema.get(a);
        if (s.text) {
          this.deriveText(r, a, list, T, next);
        } else if (s.many) {
          const best = new Map<string, Op>();
          for (const op of list) {
            if (op.v === undefined || op.op === 'text') continue;
            const v = op.v;
            const k = typeof v === 'object' && 'ref' in v ? 'r' + this.rep(v.ref) : wireValueKey(v);
            const b = best.get(k);
            if (!b || op.id > b.id) best.set(k, op);
          }
          for (const [k, op] of best) {
            if (op.op !== 'add' || op.tx <= T) continue;
            const v = this.mapValue(op);
            if (v !== null) next.set(a + SEP + k, { e: r, a, v, tx: op.tx, added: true } as VisibleDatom);
          }
        } else if (list.length === 1) {
          const op = list[0]!;
          if (op.op === 'add' && op.tx > T) {
            const v = this.mapValue(op);
            if (v !== null) next.set(a + SEP + wireValueKey(v), { e: r, a, v, tx: op.tx, added: true } as VisibleDatom);
          }
        } else {
          let best: Op | null = null;
          for (const op of list) if (op.op !== 'text' && (best === null || op.id > best.id)) best = op;
          if (best && best.op === 'add' && best.tx > T) {
            const v = this.mapValue(best);
            if (v !== null) next.set(a + SEP + wireValueKey(v), { e: r, a, v, tx: best.tx, added: true } as VisibleDatom);
          }
        }
      }
    }
    const prev = this.visible.get(r);
    if (prev) {
      for (const [k, d] of prev) {
        if (!next.has(k)) {
          rets.push({ e: d.e, a: d.a, v: d.v, tx: d.tx, added: false });
          this.unindex(d);
        }
      }
    }
    for (const [k, d] of next) {
      if (prev === undefined || !prev.has(k)) {
        // visible datoms are built with `added: true`, so the datom itself is the change record
        adds.push(d as DatomChange);
        this.index(d);
      }
    }
    if (next.size) this.visible.set(r, next);
    else this.visible.delete(r);
  }

  private index(d: VisibleDatom): void {
    const s = this.schema.get(d.a);
    if (s.identity || s.uniqueValue) this.uniqueIdx.set(d.a + SEP + wireValueKey(d.v), d.e);
  }
  private unindex(d: VisibleDatom): void {
    const s = this.schema.get(d.a);
    if (!(s.identity || s.uniqueValue)) return;
    const k = d.a + SEP + wireValueKey(d.v);
    if (this.uniqueIdx.get(k) === d.e) this.uniqueIdx.delete(k);
  }

  private deriveText(r: GlobalId, a: string, list: Op[], T: string, vals: Map<string, VisibleDatom>): void {
    // `vals` is keyed `a\0vkey`
    let lastRetract = T;
    for (const op of list) if (op.op === 'retract' && op.tx > T) lastRetract = maxStr(lastRetract, op.tx);
    const live = list.filter((op) => op.op === 'text' && op.tx > lastRetract).sort((x, y) => (x.id < y.id ? -1 : 1));
    const key = r + SEP + a;
    let t = this.texts.get(key);
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
      const old = this.texts.get(key);
      t = { doc: new Y.Doc(), applied: new Set() };
      if (old && old.applied.size === 0) t = old; // an untouched doc handed out by textDoc() stays
      this.texts.set(key, t);
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
      vals.set(a + SEP + wireValueKey(s), { e: r, a, v: s, tx: live[live.length - 1]!.tx, added: true } as VisibleDatom);
    }
  }
}
