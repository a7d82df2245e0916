/**
 * A strongly connected component of mutually recursive relations, maintained with SET semantics
 * (so it converges on cyclic data):
 *
 * - insertions: semi-naive evaluation — each round ranges one recursive atom over the previous
 *   round's new tuples, other atoms over the full current state (a transaction that only adds
 *   external facts takes this path alone);
 * - deletions: delete-and-rederive (DRed) — over-delete everything with a derivation that uses a
 *   removed fact (semi-naively, against the state before the transaction), re-derive each
 *   over-deleted tuple by a point lookup with the head bound, then propagate insertions. The
 *   cost is proportional to the over-deleted set: on a forest it is exactly the change; where
 *   tuples have several derivations (diamonds, cycles) it is what depends on the removed facts;
 * - plans are re-made when a relation's size moved by 2× (`eval/stats.ts`): a head-bound plan
 *   made while the component was empty would scan a whole column instead of probing a key;
 * - fallback: full recomputation when an input used non-monotonically (negation, `get-else`,
 *   `missing?`) changed, or when the over-deleted set grows past half of the component.
 *
 * Invariant: between transactions each member's `rows` is exactly the least fixpoint of its rules
 * over the current inputs; `delta` holds the net change of the last transaction only.
 */
import { type DeltaEntry, type Tuple, clearArrangement } from '../arrangement/arrangement.js';
import { EXT, NEW, type Plan, type RunCtx, planRule } from '../eval/plan.js';
import { SizeWatch } from '../eval/stats.js';
import { type RelSource, type RuleIR, isDataStep, stepSources } from '../ir/types.js';
import type { Key } from '../zset/keys.js';
import type { DerivedRel } from './derived.js';
import { type Operator, freshId } from './operator.js';

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
  readonly inputs: RelSource[];
  readonly outputs: RelSource[];
  level = 0;
  private readonly clauses: SccClause[];
  private readonly memberIds: Set<number>;
  /** Statistics for tests and benchmarks. */
  readonly stats = { rebuilds: 0, dred: 0 };
  /** Re-plans when a relation's size moved by 2× (members start empty; see `eval/stats.ts`). */
  private readonly sizes: SizeWatch;

  constructor(
    readonly members: readonly DerivedRel[],
    rulesOf: ReadonlyMap<DerivedRel, readonly RuleIR[]>,
    readonly label: string = members.map((m) => m.label).join('+'),
  ) {
    this.outputs = [...members];
    this.memberIds = new Set(members.map((m) => m.id));
    const ins = new Map<number, RelSource>();
    this.clauses = [];
    for (const m of members) {
      for (const rule of rulesOf.get(m) ?? []) {
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

  /** Full recomputation by semi-naive evaluation from empty; emits the diff when `emitDelta`. */
  private recompute(emitDelta: boolean): void {
    this.stats.rebuilds++;
    const olds = new Map<DerivedRel, Map<Key, Tuple>>();
    for (const m of this.members) olds.set(m, clearArrangement(m.arr));
    const frontier = new Map<number, DeltaEntry[]>();
    const ctx = this.ctx(false);
    for (const c of this.clauses) {
      ctx.emit = this.inserter(c.member, frontier, null, false);
      this.plan(c, 'none', -1).run(ctx);
    }
    this.propagateInserts(frontier, null, false);
    if (emitDelta) {
      for (const m of this.members) {
        const old = olds.get(m)!;
        for (const [k, t] of old) if (!m.arr.has(k)) m.arr.pushDelta(t, -1, k);
        for (const [k, t] of m.arr.rows) if (!old.has(k)) m.arr.pushDelta(t, 1, k);
      }
    }
  }

  private ctx(extOld: boolean): RunCtx {
    return { emit: () => {}, extOld, delta: null, sign: 0, head: null };
  }

  /**
   * An emit that inserts a derived tuple of `m` when absent and queues it for the next round.
   * A tuple found in `deleted` (DRed's over-deleted set) is re-derived: it is taken out of that
   * set and is no change; otherwise, with `emitDelta`, it is recorded in the member's delta.
   */
  private inserter(m: DerivedRel, frontier: Map<number, DeltaEntry[]>, deleted: Map<Key, Tuple> | null, emitDelta: boolean) {
    const arr = m.arr;
    return (t: Tuple) => {
      const k = arr.keyOf(t);
      if (arr.insert(t, k)) {
        let f = frontier.get(m.id);
        if (f === undefined) frontier.set(m.id, (f = []));
        f.push({ t, w: 1, k });
        // A re-derived tuple leaves `deleted` (what stays there is the net deletion).
        if ((deleted === null || !deleted.delete(k)) && emitDelta) arr.pushDelta(t, 1, k);
      }
    };
  }

  /** Semi-naive rounds until no new tuple appears. */
  private propagateInserts(frontier: Map<number, DeltaEntry[]>, deleted: Map<DerivedRel, Map<Key, Tuple>> | null, emitDelta: boolean): void {
    const ctx = this.ctx(false);
    while (frontier.size > 0) {
      const next = new Map<number, DeltaEntry[]>();
      for (const c of this.clauses) {
        let any = false;
        for (const i of c.internal) {
          const s = c.rule.body[i]!;
          const f = s.kind === 'atom' ? frontier.get(s.src.id) : undefined;
          if (f === undefined || f.length === 0) continue;
          if (!any) {
            ctx.emit = this.inserter(c.member, next, deleted?.get(c.member) ?? null, emitDelta);
            any = true;
          }
          ctx.delta = f;
          this.plan(c, 'delta', i).run(ctx);
        }
      }
      frontier = next;
    }
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
    ctx.sign = sign;
    for (const c of this.clauses) {
      let emit: ((t: Tuple) => void) | null = null;
      for (const i of c.external) {
        const s = c.rule.body[i]!;
        if (s.kind !== 'atom' || s.src.arr.delta.length === 0) continue;
        ctx.emit = emit ??= emitOf(c);
        ctx.delta = null;
        this.plan(c, 'delta', i).run(ctx);
      }
    }
    ctx.sign = 0;
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
      const frontier = new Map<number, DeltaEntry[]>();
      if (pos) this.fromExternal(this.ctx(false), 1, (c) => this.inserter(c.member, frontier, null, true));
      this.propagateInserts(frontier, null, true);
      return;
    }
    this.stats.dred++;
    const limit = Math.max(256, this.size() / 2);
    // Phase 1: over-delete against the old state.
    const deleted = new Map<DerivedRel, Map<Key, Tuple>>();
    for (const m of this.members) deleted.set(m, new Map());
    let nDeleted = 0;
    let frontier = new Map<number, DeltaEntry[]>();
    const ctx = this.ctx(true);
    const deleter = (m: DerivedRel, into: Map<number, DeltaEntry[]>) => {
      const d = deleted.get(m)!;
      const arr = m.arr;
      return (t: Tuple) => {
        const k = arr.keyOf(t);
        if (arr.has(k) && !d.has(k)) {
          d.set(k, t);
          nDeleted++;
          let f = into.get(m.id);
          if (f === undefined) into.set(m.id, (f = []));
          f.push({ t, w: -1, k });
        }
      };
    };
    this.fromExternal(ctx, -1, (c) => deleter(c.member, frontier));
    while (frontier.size > 0) {
      if (nDeleted > limit) {
        this.recompute(true);
        return;
      }
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
    if (nDeleted > limit) {
      this.recompute(true);
      return;
    }
    for (const [m, d] of deleted) for (const k of d.keys()) m.arr.remove(k);
    // Phase 2: re-derive over-deleted tuples that still have a derivation (head-bound lookups).
    const front2 = new Map<number, DeltaEntry[]>();
    const ictx = this.ctx(false);
    let found = false;
    const hit = () => {
      found = true;
    };
    for (const m of this.members) {
      const d = deleted.get(m)!;
      if (d.size === 0) continue;
      const ins = this.inserter(m, front2, d, true);
      const plans = this.clauses.filter((c) => c.member === m).map((c) => this.plan(c, 'head', -1));
      ictx.emit = hit;
      // Visiting `d` while re-derived entries leave it: each tuple is tried once.
      for (const t of d.values()) {
        found = false;
        ictx.head = t;
        for (let j = 0; j < plans.length && !found; j++) plans[j]!.run(ictx);
        if (found) ins(t);
      }
    }
    ictx.head = null;
    // Phase 3: insertions from inputs, then semi-naive propagation (re-derived tuples included).
    if (pos) this.fromExternal(ictx, 1, (c) => this.inserter(c.member, front2, deleted.get(c.member)!, true));
    this.propagateInserts(front2, deleted, true);
    for (const [m, d] of deleted) for (const [k, t] of d) m.arr.pushDelta(t, -1, k);
  }
}
