/**
 * An open draft: the committed database with one draft laid over it (`layer.ts`), held in its own
 * dataflow connection so queries registered on it are maintained incrementally like main views.
 *
 * The connection starts from the committed database value (immutable and structurally shared: no
 * copy) and receives
 * - the committed changes, as they are published, for every entity the draft does not override —
 *   as they are;
 * - for every **overridden** entity (one the draft has operations on, one its tombstones hide, or
 *   one holding a committed reference to a hidden entity) the difference between what the
 *   connection holds for it and its freshly derived draft datoms.
 *
 * So the cost of a change is proportional to the change plus the overridden entities it touches;
 * opening a draft costs its overridden entities, not the database. The connection's own content
 * is the reference for every difference, so a sequence of updates can never drift from the rule.
 */
import * as Y from 'yjs';
import {
  Datom,
  type DatomChange,
  type Db,
  type GlobalId,
  type HlcString,
  type Op,
  type VisibleDatom,
  type WireValue,
} from '@dataloom/core';
import {
  attrValueKey,
  base64ToBytes,
  bytesToBase64,
  fromWireValue,
  toWireValue,
  TX0,
  wireValueKey,
  type Interner,
  type MergeState,
  type TranslateState,
} from '@dataloom/core/internals';
import { createConn, type Conn } from '@dataloom/dataflow';
import { deriveEntity, draftTombs, entityOps, type LayerInput } from './layer.js';
import { DraftTexts } from './text-layer.js';

/** What an overlay needs of its replica. */
export interface OverlayHost {
  /** The committed merge state. */
  merge(): MergeState;
  readonly ids: Interner;
  /** The committed database with every published change applied. */
  committedDb(): Db;
}

/** A value where the draft and a newer committed change disagree. */
export interface DraftConflict {
  /** Entity id as queries return it. */
  e: number;
  /** Its global id. */
  id: GlobalId;
  /** Attribute, with the colon. */
  attr: string;
  /** The committed value now (an array for cardinality many; null when there is none). */
  committed: unknown;
  /** Stamp of the committed change that decided it (after the draft started editing the value). */
  tx: HlcString;
  /** The draft's value (an array for cardinality many; null when the draft retracted it). */
  draft: unknown;
}

export class DraftOverlay implements LayerInput {
  readonly conn: Conn;
  readonly texts = new DraftTexts();
  /** Live draft ops by raw entity. */
  private readonly byRaw = new Map<GlobalId, Op[]>();
  private readonly live = new Map<string, Op>();
  /** Representatives whose draft datoms are derived (see the module docs). */
  private overridden = new Set<GlobalId>();
  /** Draft tombstones, component cascade included: representative → stamp. */
  tombs = new Map<GlobalId, HlcString>();
  /** Overridden only because they hold a committed reference to a hidden entity. */
  private referrers = new Set<GlobalId>();
  /** Raw entity of a draft op → the representative it was derived under. */
  private readonly rawRep = new Map<GlobalId, GlobalId>();
  private txCounter = TX0;
  /** The view changes of overridden entities made by the current update (see {@link addOps}). */
  private changes: DatomChange[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly host: OverlayHost,
    readonly id: string,
    ops: Iterable<Op>,
  ) {
    this.conn = createConn(host.committedDb());
    for (const op of ops) this.index(op);
    this.recomputeAll();
  }

  get merge(): MergeState {
    return this.host.merge();
  }

  opsOn(e: GlobalId): readonly Op[] {
    return this.byRaw.get(e) ?? [];
  }

  /** The live ops, in no particular order. */
  liveOps(): IterableIterator<Op> {
    return this.live.values();
  }

  /** Called after every update (draft ops, closings, committed changes), changed or not. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // ------------------------------------------------------------------ updates

  /**
   * New live draft ops (a draft transaction made here, in another tab or on another replica).
   * Returns the changes of the draft view they made (overridden entities' datoms).
   */
  addOps(ops: readonly Op[]): DatomChange[] {
    this.changes = [];
    let full = false;
    const dirty = new Set<GlobalId>();
    for (const op of ops) {
      if (this.live.has(op.id)) continue;
      this.index(op);
      if (op.op === 'retractEntity' || (op.a !== undefined && this.merge.schema.get(op.a).component)) full = true;
      const r = this.merge.rep(op.e);
      this.rawRep.set(op.e, r);
      this.overridden.add(r);
      dirty.add(r);
    }
    if (full) this.recomputeAll();
    else if (dirty.size) this.refresh(dirty, []);
    this.notify();
    const out = this.changes;
    this.changes = [];
    return out;
  }

  /** Replaces the live op set (a closing covered some, a rollback removed some). */
  setOps(ops: Iterable<Op>): void {
    this.changes = [];
    this.live.clear();
    this.byRaw.clear();
    for (const op of ops) this.index(op);
    this.recomputeAll();
    this.changes = [];
    this.notify();
  }

  /** A batch of committed changes, as published to main views. */
  committed(changes: readonly DatomChange[]): void {
    const txId = ++this.txCounter;
    const forward: Datom[] = [];
    const dirty = new Set<GlobalId>();
    let full = false;
    for (const c of changes) {
      if (this.overridden.has(c.e)) {
        dirty.add(c.e);
        if (this.tombs.has(c.e) && this.merge.schema.get(c.a).component) full = true;
        continue;
      }
      const v = c.v;
      if (typeof v === 'object' && 'ref' in v && this.tombs.has(v.ref)) {
        this.referrers.add(c.e);
        this.overridden.add(c.e);
        dirty.add(c.e);
        continue;
      }
      forward.push(this.host.ids.datom(c, txId));
    }
    if (!full) {
      for (const [raw, r] of this.rawRep) {
        if (this.merge.rep(raw) !== r) {
          full = true;
          break;
        }
      }
    }
    if (full) {
      if (forward.length) this.apply(forward, txId);
      this.recomputeAll();
    } else this.refresh(dirty, forward, txId);
    this.changes = [];
    this.notify();
  }

  // ------------------------------------------------------------------ reading

  /** The draft view's database. */
  db(): Db {
    return this.conn.db();
  }

  /** A translation state over the draft view (draft transactions resolve against it). */
  txState(): TranslateState {
    const merge = this.merge;
    const ids = this.host.ids;
    return {
      schema: merge.schema,
      rep: (e) => merge.rep(e),
      members: (e) => merge.members(e),
      values: (e, a) => {
        const r = merge.rep(e);
        if (!this.overridden.has(r)) return merge.values(e, a);
        return this.heldValues(r, a);
      },
      lookup: (a, v) => {
        const db = this.conn.db();
        const hit = db.entitiesWith(a, fromWireValue(v, ids.eidOf));
        return hit.length ? ids.gid(hit[0]!) : null;
      },
      textDoc: (e, a) => this.texts.existing(merge.rep(e), a) ?? merge.textDoc(e, a),
    };
  }

  /**
   * Whether the draft touched `(e, a)` before draft transaction `tx` (a live op on it, or a
   * tombstone of the entity, older than `tx`). If not, the draft's view showed the committed value
   * there before `tx`.
   */
  touchedBefore(tx: HlcString, e: GlobalId, a: string): boolean {
    for (const m of this.merge.members(this.merge.rep(e))) {
      for (const op of this.opsOn(m)) if (op.tx < tx && (op.a === a || op.op === 'retractEntity')) return true;
    }
    return false;
  }

  /**
   * Values where the draft decided a register and a committed change newer than the draft's first
   * operation on it says otherwise ("Bob changed this since you started").
   */
  conflicts(): DraftConflict[] {
    const merge = this.merge;
    const ids = this.host.ids;
    const out: DraftConflict[] = [];
    for (const r of this.overridden) {
      if (this.referrers.has(r) && !this.hasOwnOps(r)) continue;
      const g = entityOps(this, r);
      const committed = merge.entityDatoms(r);
      for (const [a, first] of g.first) {
        const many = merge.schema.get(a).many;
        // the newest committed decision of a register the draft decided, if newer than the draft's first edit of it
        let tc = '';
        if (many) {
          for (const [k, op] of g.many) {
            if (!k.startsWith(a + '\u0000')) continue;
            const d = committed.find((x) => x.a === a && attrValueKey(x.a, x.v) === k);
            if (d !== undefined && d.tx > g.firstValue.get(k)! && op.op !== 'add' && d.tx > tc) tc = d.tx;
          }
        } else {
          for (const d of committed) if (d.a === a && d.tx > first && d.tx > tc) tc = d.tx;
        }
        if (tc === '') continue;
        const c = merge.values(r, a);
        const s = this.heldValues(r, a);
        if (c.length === s.length && c.every((x, i) => wireValueKey(x) === wireValueKey(s[i]!))) continue;
        const js = (vs: WireValue[]) => (many ? vs.map((v) => fromWireValue(v, ids.eidOf)) : vs.length ? fromWireValue(vs[0]!, ids.eidOf) : null);
        out.push({ e: ids.eid(r), id: r, attr: ':' + a, committed: js(c), tx: tc, draft: js(s) });
      }
    }
    return out.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : x.attr < y.attr ? -1 : x.attr > y.attr ? 1 : 0));
  }

  /**
   * The draft's net effect as transaction data against the committed database: per overridden
   * entity, what makes its committed datoms equal to its draft datoms. Text values that the draft
   * edited are carried as the draft's own Yjs updates (merged into one), so edits made on top of
   * them later still apply; an entity the draft deleted becomes a `retractEntity`.
   */
  netEffect(): unknown[] {
    const merge = this.merge;
    const forms: unknown[] = [];
    for (const r of [...this.overridden].sort()) {
      const s = this.held(r);
      const c = new Map<string, VisibleDatom>();
      for (const d of merge.entityDatoms(r)) c.set(attrValueKey(d.a, d.v), d);
      if (this.tombs.has(r) && s.size === 0) {
        if (c.size) forms.push([':db/retractEntity', r]);
        continue;
      }
      const g = entityOps(this, r);
      const sAttrs = new Set([...s.values()].map((d) => d.a));
      for (const [k, d] of s) {
        if (c.has(k)) continue;
        const a = merge.schema.get(d.a);
        if (a.text) {
          const updates = g.text.get(d.a) ?? [];
          if (updates.length && !g.cleared.has(d.a) && !this.tombs.has(r)) {
            const merged = Y.mergeUpdates(updates.map((o) => base64ToBytes(o.v as string)));
            forms.push([':db/text', r, ':' + d.a, bytesToBase64(merged)]);
          } else forms.push([':db/add', r, ':' + d.a, d.v]);
          continue;
        }
        forms.push([':db/add', r, ':' + d.a, fromWireValue(d.v)]);
      }
      for (const [k, d] of c) {
        if (s.has(k)) continue;
        const a = merge.schema.get(d.a);
        if (!a.many && sAttrs.has(d.a)) continue; // replaced by the add above
        forms.push(a.text ? [':db/retract', r, ':' + d.a] : [':db/retract', r, ':' + d.a, fromWireValue(d.v)]);
      }
    }
    return forms;
  }

  // ------------------------------------------------------------------ internals

  private hasOwnOps(r: GlobalId): boolean {
    return this.merge.members(r).some((m) => this.byRaw.has(m));
  }

  private index(op: Op): void {
    this.live.set(op.id, op);
    const l = this.byRaw.get(op.e);
    if (l) l.push(op);
    else this.byRaw.set(op.e, [op]);
  }

  /** The datoms the connection holds for `r`, keyed `a\0vkey`, as wire datoms. */
  private held(r: GlobalId): Map<string, VisibleDatom> {
    const db = this.conn.db();
    const out = new Map<string, VisibleDatom>();
    for (const d of db.entityDatoms(this.host.ids.eid(r))) {
      const v = this.wire(db, d);
      out.set(attrValueKey(d.a.fqn, v), { e: r, a: d.a.fqn, v, tx: '' });
    }
    return out;
  }

  /** The connection's values of `(r, a)` in value-key order (as `MergeState.values`). */
  private heldValues(r: GlobalId, a: string): WireValue[] {
    const db = this.conn.db();
    const vs = db.values(this.host.ids.eid(r), a).map((v) => (db.isRef(a) ? { ref: this.host.ids.gid(v as number)! } : toWireValue(v)));
    return vs.sort((x, y) => (wireValueKey(x) < wireValueKey(y) ? -1 : 1));
  }

  private wire(db: Db, d: Datom): WireValue {
    return db.isRef(d.a) ? { ref: this.host.ids.gid(d.v as number)! } : toWireValue(d.v);
  }

  /**
   * Brings the connection's datoms of `dirty` entities to their draft datoms (or committed ones
   * when no longer overridden), together with `forward`ed committed datoms, as one transaction.
   */
  private refresh(dirty: Iterable<GlobalId>, forward: Datom[], txId = ++this.txCounter): void {
    const ids = this.host.ids;
    const db = this.conn.db();
    const rets: Datom[] = [];
    const adds: Datom[] = [];
    for (const r of dirty) {
      const old = new Map<string, Datom>();
      for (const d of db.entityDatoms(ids.eid(r))) old.set(attrValueKey(d.a.fqn, this.wire(db, d)), d);
      const next = this.overridden.has(r) ? deriveEntity(this, r) : committedOf(this.merge, r);
      for (const [k, d] of old) {
        if (next.has(k)) continue;
        rets.push(new Datom(d.e, d.a, d.v, txId, false));
        this.changes.push({ e: r, a: d.a.fqn, v: this.wire(db, d), tx: '', added: false });
      }
      for (const [k, d] of next) {
        if (old.has(k)) continue;
        adds.push(ids.datom({ ...d, added: true }, txId));
        this.changes.push({ ...d, added: true });
      }
    }
    const all = forward.length ? [...forward, ...rets, ...adds] : [...rets, ...adds];
    if (all.length) this.apply(all, txId);
  }

  private apply(datoms: Datom[], txId: number): void {
    this.conn.applyDatoms(datoms, txId);
  }

  private notify(): void {
    for (const fn of [...this.listeners]) fn();
  }

  /** Recomputes tombstones and the overridden set from scratch, then refreshes every entity in or out of it. */
  private recomputeAll(): void {
    const merge = this.merge;
    const ids = this.host.ids;
    const tombs = draftTombs(merge, this.live.values(), (m) => this.opsOn(m));
    // entities holding committed references to hidden ones: the connection shows those refs for
    // entities it does not override; for overridden ones (their refs may be hidden) ask the state
    const referrers = new Set<GlobalId>();
    const db = this.conn.db();
    for (const x of tombs.keys()) for (const d of db.refsTo(ids.eid(x))) referrers.add(merge.rep(ids.gid(d.e)!));
    for (const y of this.overridden) {
      if (merge.entityDatoms(y).some((d) => typeof d.v === 'object' && 'ref' in d.v && tombs.has(d.v.ref))) referrers.add(y);
    }
    const next = new Set<GlobalId>();
    this.rawRep.clear();
    for (const raw of this.byRaw.keys()) {
      const r = merge.rep(raw);
      this.rawRep.set(raw, r);
      next.add(r);
    }
    for (const e of tombs.keys()) next.add(e);
    for (const e of referrers) next.add(e);
    const dirty = new Set([...this.overridden, ...next]);
    for (const r of this.overridden) if (!next.has(r)) this.texts.prune(r, new Set());
    this.overridden = next;
    this.tombs = tombs;
    this.referrers = referrers;
    this.refresh(dirty, []);
  }
}

function committedOf(merge: MergeState, r: GlobalId): Map<string, VisibleDatom> {
  const out = new Map<string, VisibleDatom>();
  for (const d of merge.entityDatoms(r)) out.set(attrValueKey(d.a, d.v), d);
  return out;
}

