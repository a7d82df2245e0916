/**
 * A strongly connected component of mutually recursive relations, maintained with SET semantics
 * (so it converges on cyclic data):
 *
 * - insertions: semi-naive evaluation — each round ranges one recursive atom over the previous
 *   round's new tuples, other atoms over the full current state (a transaction that only adds
 *   external facts takes this path alone);
 * - deletions: delete-and-rederive (DRed) — over-delete everything with a derivation that uses a
 *   removed fact (semi-naively, against the state before the transaction), re-derive over-deleted
 *   tuples that keep a derivation by head-bound lookups, then propagate insertions. The cost is
 *   proportional to the over-deleted set: on a forest it is exactly the change; where tuples have
 *   several derivations (diamonds, cycles) it is what depends on the removed facts;
 * - derivation counts (linear components: every clause has at most one recursive atom and one
 *   external data step, e.g. transitive closure): each tuple's number of one-step derivations is
 *   kept (only those above one are stored). An over-deleted tuple that had one derivation lost it,
 *   so it is not looked up again; one that had several is recounted against the kept state. This
 *   makes a deletion cost what the matching insertion costs. Counts stay exact because every
 *   derivation is found once: external changes are evaluated against the members before any
 *   insertion (buffered), recursive ones by propagation of each new tuple, re-derivation
 *   lookups read external facts present both before and after the transaction;
 * - fallback: full recomputation when an input used non-monotonically (negation, `get-else`,
 *   `missing?`) changed, or when the over-deleted set grows past half of the component;
 * - plans are re-made when a relation's size moved by 2× (`eval/stats.ts`): a head-bound plan
 *   made while the component was empty would scan a whole column instead of probing a key.
 *
 * Invariant: between transactions each member's `rows` is exactly the least fixpoint of its rules
 * over the current inputs, and (when counting) `1 + extra` is each row's derivation count;
 * `delta` holds the net change of the last transaction only.
 */
import { type DeltaEntry, type Tuple, clearArrangement } from '../arrangement/arrangement.js';
import { isSmallPair } from '../arrangement/rows.js';
import { EXT, NEW, type Plan, type RunCtx, planRule } from '../eval/plan.js';
import { SizeWatch } from '../eval/stats.js';
import { type RelSource, type RuleIR, isDataStep, stepSources } from '../ir/types.js';
import type { ValueKey as Key } from '@dataloom/core';
import { type ClosureShape, closureShape, evalClosure, linearized } from './closure.js';
import type { DerivedRel } from './derived.js';
import { type Operator, freshId } from './operator.js';

/**
 * New tuples per member id, awaiting propagation: tuples, and (registration's bulk path) pairs of
 * small integers flattened as `x, y, x, y, …` so that no tuple per pair outlives its insertion.
 */
type Frontier = Map<number, { ts: Tuple[]; xy: number[] }>;

interface SccClause {
  readonly member: DerivedRel;
  readonly rule: RuleIR;
  /** Steps reading a member of this component (positive atoms). */
  readonly internal: number[];
  /** Data steps reading relations outside the component. */
  readonly external: number[];
  /** External steps whose change cannot be handled monotonically. */
  readonly nonMonotone: Set<number>;
  readonly plans: Map<string, Plan>;
}

export class RecursiveOperator implements Operator {
  readonly id = freshId();
  readonly kind = 'recursive';
  readonly inputs: RelSource[];
  readonly outputs: RelSource[];
  level = 0;
  private readonly clauses: SccClause[];
  private readonly memberIds: Set<number>;
  /** Statistics for tests and benchmarks. */
  readonly stats = { rebuilds: 0, dred: 0, closureByNode: 0, closureByRounds: 0 };
  /** Re-plans when a relation's size moved by 2× (members start empty; see `eval/stats.ts`). */
  private readonly sizes: SizeWatch;
  /**
   * Derivation counts are kept when every clause is linear (at most one recursive atom and one
   * external data step): `extra` holds, per member, the derivations beyond the first of tuples
   * derived more than once (a tuple present and absent here has exactly one).
   */
  private readonly counting: boolean;
  /** A transitive closure evaluated set-at-a-time on integers when recomputed (`closure.ts`); else null. */
  private readonly closure: ClosureShape | null;
  private readonly extra = new Map<DerivedRel, Map<Key, number>>();

  constructor(
    readonly members: readonly DerivedRel[],
    rulesOf: ReadonlyMap<DerivedRel, readonly RuleIR[]>,
    readonly label: string = members.map((m) => m.label).join('+'),
  ) {
    this.outputs = [...members];
    this.memberIds = new Set(members.map((m) => m.id));
    const ins = new Map<number, RelSource>();
    this.clauses = [];
    // A non-linear transitive closure is kept as its linear equivalent (same fixpoint, counted).
    const lin = members.length === 1 ? linearized(members[0]!, rulesOf.get(members[0]!) ?? []) : null;
    const rules = (m: DerivedRel) => lin ?? rulesOf.get(m) ?? [];
    for (const m of members) {
      for (const rule of rules(m)) {
        const internal: number[] = [];
        const external: number[] = [];
        const nonMonotone = new Set<number>();
        rule.body.forEach((s, i) => {
          if (!isDataStep(s)) return;
          const srcs = stepSources(s);
          if (s.kind === 'atom' && !s.neg && this.memberIds.has(s.src.id)) internal.push(i);
          else {
            external.push(i);
            if (s.kind !== 'atom' || s.neg) nonMonotone.add(i);
            for (const src of srcs) ins.set(src.id, src);
          }
        });
        this.clauses.push({ member: m, rule, internal, external, nonMonotone, plans: new Map() });
      }
    }
    this.inputs = [...ins.values()];
    this.sizes = new SizeWatch([...this.inputs, ...members]);
    this.counting = this.clauses.every((c) => c.internal.length <= 1 && c.external.length <= 1);
    this.closure = members.length === 1 ? closureShape(members[0]!, rules(members[0]!)) : null;
    for (const m of members) this.extra.set(m, new Map());
    for (const c of this.clauses) {
      this.plan(c, 'none', -1);
      this.plan(c, 'head', -1);
      for (const i of [...c.internal, ...c.external]) this.plan(c, 'delta', i);
    }
  }

  private plan(c: SccClause, kind: 'none' | 'head' | 'delta', i: number): Plan {
    const key = kind + i;
    let p = c.plans.get(key);
    if (p === undefined) {
      const ext = new Set(c.external);
      const mode = (j: number) => (ext.has(j) ? EXT : NEW);
      p = planRule(c.rule, kind === 'delta' ? { kind, step: i } : { kind }, mode);
      c.plans.set(key, p);
    }
    return p;
  }

  init(): void {
    this.recompute(false);
    this.replanIfSizesMoved();
  }

  private replanIfSizesMoved(): void {
    if (this.sizes.changed()) for (const c of this.clauses) c.plans.clear();
  }

  dispose(): void {
    for (const m of this.members) clearArrangement(m.arr);
  }

  approxBytes(): number {
    let n = 0;
    for (const m of this.members) n += m.arr.approxBytes();
    return n;
  }

  private size(): number {
    let n = 0;
    for (const m of this.members) n += m.arr.size;
    return n;
  }

  /**
   * For tests: recounts every derivation in the current state and compares with the kept counts.
   * Returns what differs, or null (also when counts are not kept).
   */
  verifyCounts(): string | null {
    if (!this.counting) return null;
    const counts = new Map<DerivedRel, Map<Key, number>>();
    for (const m of this.members) counts.set(m, new Map());
    const ctx = this.ctx(false);
    for (const c of this.clauses) {
      const m = c.member;
      const cm = counts.get(m)!;
      ctx.emit = (t) => {
        const k = m.arr.keyOf(t);
        cm.set(k, (cm.get(k) ?? 0) + 1);
      };
      this.plan(c, 'none', -1).run(ctx);
    }
    for (const m of this.members) {
      const cm = counts.get(m)!;
      const extra = this.extra.get(m)!;
      for (const [k, t] of m.arr.rows) {
        const want = cm.get(k) ?? 0;
        const have = 1 + (extra.get(k) ?? 0);
        if (want !== have) return `${m.label}${JSON.stringify(t)}: ${have} derivations counted, ${want} in fact`;
      }
      for (const k of extra.keys()) if (!m.arr.has(k)) return `${m.label}: a count kept for an absent tuple (${String(k)})`;
    }
    return null;
  }

  /** Full recomputation by semi-naive evaluation from empty; emits the diff when `emitDelta`. */
  private recompute(emitDelta: boolean): void {
    this.stats.rebuilds++;
    const olds = new Map<DerivedRel, Map<Key, Tuple>>();
    for (const m of this.members) {
      olds.set(m, clearArrangement(m.arr));
      this.extra.get(m)!.clear();
    }
    const closure = this.closure;
    if (closure !== null) {
      const m = this.members[0]!;
      const extra = this.extra.get(m)!;
      const more = (x: number, y: number) => {
        const k = m.arr.keyOf([x, y]);
        extra.set(k, (extra.get(k) ?? 0) + 1);
      };
      const how = evalClosure(closure, m.arr, more, () => extra.clear());
      if (how !== null) {
        this.stats[how === 'node' ? 'closureByNode' : 'closureByRounds']++;
        return this.afterRecompute(olds, emitDelta);
      }
    }
    const frontier: Frontier = new Map();
    const ctx = this.ctx(false);
    // Every clause reads the members empty (emits buffered): a recursive clause's derivations are
    // then found once each, by propagation.
    const buffered = this.buffer(ctx, (c) => {
      ctx.emit = this.current(c);
      this.plan(c, 'none', -1).run(ctx);
    });
    this.applyBuffered(buffered, frontier, null, false);
    this.propagateInserts(frontier, null, false);
    this.afterRecompute(olds, emitDelta);
  }

  /** Trims the members' stores after a bulk load and emits the diff against `olds` when `emitDelta`. */
  private afterRecompute(olds: Map<DerivedRel, Map<Key, Tuple>>, emitDelta: boolean): void {
    for (const m of this.members) m.arr.rows.trim();
    if (emitDelta) {
      for (const m of this.members) {
        const old = olds.get(m)!;
        for (const [k, t] of old) if (!m.arr.has(k)) m.arr.pushDelta(t, -1, k);
        for (const [k, t] of m.arr.rows) if (!old.has(k)) m.arr.pushDelta(t, 1, k);
      }
    }
  }

  private ctx(extOld: boolean): RunCtx {
    return { emit: () => {}, extOld, delta: null, sign: 0, head: null, added: null };
  }

  /** Emit target while buffering: set by {@link buffer}. */
  private current: (c: SccClause) => (t: Tuple) => void = () => () => {};

  /** Runs `body` per clause collecting its emitted tuples per member instead of inserting them. */
  private buffer(ctx: RunCtx, body: (c: SccClause) => void): Map<DerivedRel, Tuple[]> {
    const out = new Map<DerivedRel, Tuple[]>();
    this.current = (c) => {
      let l = out.get(c.member);
      if (l === undefined) out.set(c.member, (l = []));
      const list = l;
      return (t) => void list.push(t);
    };
    for (const c of this.clauses) body(c);
    void ctx;
    return out;
  }

  private applyBuffered(buffered: Map<DerivedRel, Tuple[]>, frontier: Frontier, deleted: Map<DerivedRel, Map<Key, Tuple>> | null, emitDelta: boolean): void {
    for (const [m, ts] of buffered) {
      const ins = this.inserter(m, frontier, deleted?.get(m) ?? null, emitDelta);
      for (const t of ts) ins(t, 1);
    }
  }

  /**
   * An emit that adds `n` derivations of a tuple of `m`: inserts it when absent (queued for the
   * next round), else counts the extra derivations. A tuple found in `deleted` (DRed's
   * over-deleted set) is re-derived: it is taken out of that set and is no change; otherwise,
   * with `emitDelta`, it is recorded in the member's delta.
   */
  private inserter(m: DerivedRel, frontier: Frontier, deleted: Map<Key, Tuple> | null, emitDelta: boolean) {
    const arr = m.arr;
    const extra = this.counting ? this.extra.get(m)! : null;
    // Registration's bulk path (nothing deleted, no delta): no full key unless a count needs it.
    const bare = deleted === null && !emitDelta;
    return (t: Tuple, n = 1) => {
      if (bare ? arr.insertTuple(t) : arr.insert(t)) {
        let f = frontier.get(m.id);
        if (f === undefined) frontier.set(m.id, (f = { ts: [], xy: [] }));
        if (extra !== null && n > 1) extra.set(arr.keyOf(t), n - 1);
        if (bare) {
          // No tuple kept for a pair of small integers: the store holds integers, so does the frontier.
          if (t.length === 2 && isSmallPair(t[0], t[1])) f.xy.push(t[0] as number, t[1] as number);
          else f.ts.push(t);
          return;
        }
        f.ts.push(t);
        const k = arr.keyOf(t);
        if ((deleted === null || !deleted.delete(k)) && emitDelta) arr.pushDelta(t, 1, k);
      } else if (extra !== null) {
        const k = arr.keyOf(t);
        extra.set(k, (extra.get(k) ?? 0) + n);
      }
    };
  }

  /** Semi-naive rounds until no new tuple appears (each derivation found once, when linear). */
  private propagateInserts(frontier: Frontier, deleted: Map<DerivedRel, Map<Key, Tuple>> | null, emitDelta: boolean): void {
    const ctx = this.ctx(false);
    while (frontier.size > 0) {
      const next: Frontier = new Map();
      for (const c of this.clauses) {
        let any = false;
        for (const i of c.internal) {
          const s = c.rule.body[i]!;
          const f = s.kind === 'atom' ? frontier.get(s.src.id) : undefined;
          if (f === undefined || f.ts.length + f.xy.length === 0) continue;
          if (!any) {
            const ins = this.inserter(c.member, next, deleted?.get(c.member) ?? null, emitDelta);
            ctx.emit = (t) => ins(t, 1);
            any = true;
          }
          ctx.added = f.ts;
          ctx.addedPairs = f.xy;
          this.plan(c, 'delta', i).run(ctx);
        }
      }
      frontier = next;
    }
    ctx.added = null;
    ctx.addedPairs = null;
  }

  /** Which signs the external atoms' changes carry this transaction. */
  private externalSigns(): { neg: boolean; pos: boolean } {
    let neg = false;
    let pos = false;
    for (const src of this.inputs) {
      const d = src.arr.delta;
      for (let i = 0; i < d.length && !(neg && pos); i++) {
        if (d[i]!.w < 0) neg = true;
        else pos = true;
      }
    }
    return { neg, pos };
  }

  /** Runs the plans ranging each changed external atom over its `sign` changes, emitting into `emitOf`. */
  private fromExternal(ctx: RunCtx, sign: number, emitOf: (c: SccClause) => (t: Tuple) => void): void {
    for (const c of this.clauses) this.externalChanges(ctx, c, sign, () => emitOf(c));
  }

  /** {@link fromExternal} for clause `c`; its emit is made (`emitOf`) only when some external atom changed. */
  private externalChanges(ctx: RunCtx, c: SccClause, sign: number, emitOf: () => (t: Tuple) => void): void {
    let emit: ((t: Tuple) => void) | null = null;
    ctx.sign = sign;
    for (const i of c.external) {
      const s = c.rule.body[i]!;
      if (s.kind !== 'atom' || s.src.arr.delta.length === 0) continue;
      ctx.emit = emit ??= emitOf();
      ctx.delta = null;
      this.plan(c, 'delta', i).run(ctx);
    }
    ctx.sign = 0;
  }

  /** The external insertions of this transaction, buffered (the members read as they are now). */
  private bufferedInserts(): Map<DerivedRel, Tuple[]> {
    const ctx = this.ctx(false);
    return this.buffer(ctx, (c) => this.externalChanges(ctx, c, 1, () => this.current(c)));
  }

  step(): void {
    this.replanIfSizesMoved();
    // Non-monotone external change: recompute.
    for (const c of this.clauses) {
      for (const i of c.nonMonotone) {
        for (const src of stepSources(c.rule.body[i]!)) {
          if (src.arr.delta.length > 0) {
            this.recompute(true);
            return;
          }
        }
      }
    }
    const { neg, pos } = this.externalSigns();
    if (!neg) {
      // Insertions only: semi-naive from the new external tuples.
      const frontier: Frontier = new Map();
      if (pos) this.applyBuffered(this.bufferedInserts(), frontier, null, true);
      this.propagateInserts(frontier, null, true);
      return;
    }
    this.stats.dred++;
    const limit = Math.max(256, this.size() / 2);
    // Phase 1: over-delete against the old state. Linear components remove each tuple at once
    // (their clauses read no other recursive atom, so an instance is still found from its other
    // side: a removed fact's change, or its recursive tuple's propagation against old external
    // facts); others collect first and remove after, as later rounds read the members' old state.
    const removed = new Map<DerivedRel, DeltaEntry[]>();
    const several = new Map<DerivedRel, Set<Key>>();
    const seen = this.counting ? null : new Map<DerivedRel, Set<Key>>();
    for (const m of this.members) {
      removed.set(m, []);
      several.set(m, new Set());
      seen?.set(m, new Set());
    }
    let nDeleted = 0;
    let frontier = new Map<number, DeltaEntry[]>();
    const ctx = this.ctx(true);
    const deleter = (m: DerivedRel, into: Map<number, DeltaEntry[]>) => {
      const list = removed.get(m)!;
      const arr = m.arr;
      const extra = this.extra.get(m)!;
      const sev = several.get(m)!;
      const s0 = seen?.get(m) ?? null;
      return (t: Tuple) => {
        const k = arr.keyOf(t);
        let e: DeltaEntry;
        if (s0 === null) {
          const old = arr.remove(k);
          if (old === undefined) return;
          if (extra.delete(k)) sev.add(k);
          e = { t: old, w: -1, k };
        } else {
          if (s0.has(k) || !arr.has(k)) return;
          s0.add(k);
          e = { t, w: -1, k };
        }
        list.push(e);
        nDeleted++;
        let f = into.get(m.id);
        if (f === undefined) into.set(m.id, (f = []));
        f.push(e);
      };
    };
    const giveUp = () => {
      if (seen === null) for (const [m, l] of removed) for (const e of l) m.arr.insert(e.t, e.k);
      this.recompute(true);
    };
    this.fromExternal(ctx, -1, (c) => deleter(c.member, frontier));
    while (frontier.size > 0) {
      if (nDeleted > limit) return giveUp();
      const next = new Map<number, DeltaEntry[]>();
      for (const c of this.clauses) {
        let any = false;
        for (const i of c.internal) {
          const s = c.rule.body[i]!;
          const f = s.kind === 'atom' ? frontier.get(s.src.id) : undefined;
          if (f === undefined || f.length === 0) continue;
          if (!any) {
            ctx.emit = deleter(c.member, next);
            any = true;
          }
          ctx.delta = f;
          this.plan(c, 'delta', i).run(ctx);
        }
      }
      frontier = next;
    }
    if (nDeleted > limit) return giveUp();
    if (seen !== null) for (const [m, l] of removed) for (const e of l) m.arr.remove(e.k);
    // Phase 2: re-derive over-deleted tuples that still have a derivation, by head-bound lookups
    // against the kept state (external facts present before and after; buffered). With counts, a
    // tuple that had one derivation lost it and is skipped; one that had several is recounted.
    const ictx = this.ctx(false);
    ictx.extKept = this.counting;
    let found = 0;
    const hit = () => {
      found++;
    };
    const rederived: [DerivedRel, Tuple, number][] = [];
    for (const m of this.members) {
      const l = removed.get(m)!;
      const sev = several.get(m)!;
      if (l.length === 0 || (this.counting && sev.size === 0)) continue;
      const plans = this.clauses.filter((c) => c.member === m).map((c) => this.plan(c, 'head', -1));
      ictx.emit = hit;
      for (const { t, k } of l) {
        if (this.counting && !sev.has(k)) continue;
        found = 0;
        ictx.head = t;
        for (let j = 0; j < plans.length && (this.counting || found === 0); j++) plans[j]!.run(ictx);
        if (found > 0) rederived.push([m, t, this.counting ? found : 1]);
      }
    }
    ictx.head = null;
    ictx.extKept = false;
    if (rederived.length === 0 && !pos) {
      for (const [m, l] of removed) for (const e of l) m.arr.pushDelta(e.t, -1, e.k);
      return;
    }
    // Phase 3: insertions from inputs (buffered, against the members without the over-deleted
    // tuples), then the re-derived tuples, then semi-naive propagation. A tuple inserted again
    // leaves `deleted`; what stays there is the net deletion.
    const deleted = new Map<DerivedRel, Map<Key, Tuple>>();
    for (const [m, l] of removed) deleted.set(m, new Map(l.map((e) => [e.k, e.t])));
    const front2: Frontier = new Map();
    const fromInputs = pos ? this.bufferedInserts() : null;
    for (const [m, t, n] of rederived) this.inserter(m, front2, deleted.get(m)!, true)(t, n);
    if (fromInputs !== null) this.applyBuffered(fromInputs, front2, deleted, true);
    this.propagateInserts(front2, deleted, true);
    for (const [m, d] of deleted) for (const [k, t] of d) m.arr.pushDelta(t, -1, k);
  }
}
