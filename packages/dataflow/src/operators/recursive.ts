/**
 * A strongly connected component of mutually recursive relations, maintained with SET semantics
 * (so it converges on cyclic data):
 *
 * - insertions: semi-naive evaluation — each round ranges one recursive atom over the previous
 *   round's new tuples, other atoms over the full current state;
 * - deletions: delete-and-rederive (DRed) — over-delete everything with a derivation that uses a
 *   removed fact (semi-naively, against the state before the transaction), re-derive each
 *   over-deleted tuple by a point lookup with the head bound, then propagate insertions;
 * - fallback: full recomputation when an input used non-monotonically (negation, `get-else`,
 *   `missing?`) changed, or when the over-deleted set grows past half of the component.
 *
 * Invariant: between transactions each member's `rows` is exactly the least fixpoint of its rules
 * over the current inputs; `delta` holds the net change of the last transaction only.
 */
import { type DeltaEntry, type Tuple, clearArrangement } from '../arrangement/arrangement.js';
import { EXT, NEW, type Plan, type RunCtx, planRule } from '../eval/plan.js';
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
      ctx.emit = this.inserter(c.member, frontier, null);
      this.plan(c, 'none', -1).run(ctx);
    }
    this.propagateInserts(frontier, null);
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

  private inserter(m: DerivedRel, frontier: Map<number, DeltaEntry[]>, inserted: Map<DerivedRel, Map<Key, Tuple>> | null) {
    return (t: Tuple) => {
      const k = m.arr.keyOf(t);
      if (m.arr.insert(t, k)) {
        let f = frontier.get(m.id);
        if (f === undefined) frontier.set(m.id, (f = []));
        f.push({ t, w: 1, k });
        if (inserted !== null) inserted.get(m)!.set(k, t);
      }
    };
  }

  /** Semi-naive rounds until no new tuple appears. */
  private propagateInserts(frontier: Map<number, DeltaEntry[]>, inserted: Map<DerivedRel, Map<Key, Tuple>> | null): void {
    const ctx = this.ctx(false);
    while (frontier.size > 0) {
      const next = new Map<number, DeltaEntry[]>();
      for (const c of this.clauses) {
        ctx.emit = this.inserter(c.member, next, inserted);
        for (const i of c.internal) {
          const s = c.rule.body[i]!;
          const f = s.kind === 'atom' ? frontier.get(s.src.id) : undefined;
          if (f === undefined || f.length === 0) continue;
          ctx.delta = f;
          this.plan(c, 'delta', i).run(ctx);
        }
      }
      frontier = next;
    }
  }

  step(): void {
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
    this.stats.dred++;
    const limit = Math.max(256, this.size() / 2);
    // Phase 1: over-delete against the old state.
    const deleted = new Map<DerivedRel, Map<Key, Tuple>>();
    for (const m of this.members) deleted.set(m, new Map());
    let nDeleted = 0;
    let frontier = new Map<number, DeltaEntry[]>();
    const ctx = this.ctx(true);
    const deleter = (m: DerivedRel, into: Map<number, DeltaEntry[]>) => (t: Tuple) => {
      const k = m.arr.keyOf(t);
      const d = deleted.get(m)!;
      if (m.arr.has(k) && !d.has(k)) {
        d.set(k, t);
        nDeleted++;
        let f = into.get(m.id);
        if (f === undefined) into.set(m.id, (f = []));
        f.push({ t, w: -1, k });
      }
    };
    ctx.sign = -1;
    for (const c of this.clauses) {
      ctx.emit = deleter(c.member, frontier);
      for (const i of c.external) {
        const s = c.rule.body[i]!;
        if (s.kind !== 'atom' || s.src.arr.delta.length === 0) continue;
        ctx.delta = null;
        this.plan(c, 'delta', i).run(ctx);
      }
    }
    ctx.sign = 0;
    while (frontier.size > 0) {
      if (nDeleted > limit) {
        this.recompute(true);
        return;
      }
      const next = new Map<number, DeltaEntry[]>();
      for (const c of this.clauses) {
        ctx.emit = deleter(c.member, next);
        for (const i of c.internal) {
          const s = c.rule.body[i]!;
          const f = s.kind === 'atom' ? frontier.get(s.src.id) : undefined;
          if (f === undefined || f.length === 0) continue;
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
    // Phase 2: re-derive over-deleted tuples that still have a derivation.
    const inserted = new Map<DerivedRel, Map<Key, Tuple>>();
    for (const m of this.members) inserted.set(m, new Map());
    const front2 = new Map<number, DeltaEntry[]>();
    const ictx = this.ctx(false);
    for (const c of this.clauses) {
      const d = deleted.get(c.member)!;
      if (d.size === 0) continue;
      const plan = this.plan(c, 'head', -1);
      const ins = this.inserter(c.member, front2, inserted);
      for (const t of d.values()) {
        if (c.member.arr.has(c.member.arr.keyOf(t))) continue;
        let found = false;
        ictx.emit = () => {
          found = true;
        };
        ictx.head = t;
        plan.run(ictx);
        if (found) ins(t);
      }
    }
    ictx.head = null;
    // Phase 3: insertions from inputs, then semi-naive propagation.
    ictx.sign = 1;
    for (const c of this.clauses) {
      ictx.emit = this.inserter(c.member, front2, inserted);
      for (const i of c.external) {
        const s = c.rule.body[i]!;
        if (s.kind !== 'atom' || s.src.arr.delta.length === 0) continue;
        ictx.delta = null;
        this.plan(c, 'delta', i).run(ictx);
      }
    }
    this.propagateInserts(front2, inserted);
    for (const m of this.members) {
      const d = deleted.get(m)!;
      const ins = inserted.get(m)!;
      for (const [k, t] of d) if (!m.arr.has(k)) m.arr.pushDelta(t, -1, k);
      for (const [k, t] of ins) if (!d.has(k)) m.arr.pushDelta(t, 1, k);
    }
  }
}
