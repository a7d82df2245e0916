/**
 * The dataflow engine: shared base relations, the operator graph, and per-transaction scheduling.
 *
 * - Base relations: one arrangement `(e, v, tx)` per attribute, shared by every query that reads
 *   the attribute, built from the current database on first use and dropped when no operator
 *   reads it any more.
 * - Operators are shared by canonical definition (see `compile/canonical.ts`) and reference
 *   counted: a registration holds its output operator, every operator holds its inputs.
 * - `apply(datoms)` runs one transaction: consolidate the datoms per attribute (an assert and a
 *   retract of one datom cancel), then run every operator whose inputs changed in level order, so
 *   each operator sees all of its inputs' changes for the transaction at once (no glitches).
 */
import { type Datom, type Db, DataloomError, type Keyword } from '@dataloom/core';
import { pairKey, tupleKey } from '@dataloom/core/internals';
import type { Arrangement } from './arrangement/arrangement.js';
import { ALL, BaseRel, Bases, type DatomSource } from './bases.js';
import { ruleKey } from './compile/canonical.js';
import type { CompiledQuery } from './compile/compile.js';
import type { LocalRel } from './compile/components.js';
import type { RelSource, RuleIR, Step } from './ir/types.js';
import { DerivedRel } from './operators/derived.js';
import type { Operator } from './operators/operator.js';
import { RecursiveOperator } from './operators/recursive.js';
import { type FindCol, OutputOperator } from './operators/reduce.js';
import { RuleOperator } from './operators/rule.js';

interface Pending {
  e: number;
  a: Keyword;
  v: unknown;
  tx: number;
  w: number;
}

interface OpEntry {
  readonly op: Operator;
  readonly key: string;
  refs: number;
}

export class Engine {
  /** The base relations of the connection's own database (`$`). */
  readonly main: Bases;
  /** Every source's base relations: `main` first, then other databases (see {@link addSource}). */
  private readonly sources = new Set<Bases>();
  private readonly baseById = new Map<number, BaseRel>();
  private readonly producers = new Map<number, OpEntry>();
  private readonly byKey = new Map<string, OpEntry>();
  private order: Operator[] | null = null;
  private dirty: Arrangement[] = [];
  /** Transactions applied so far. */
  epoch = 0;
  /** Diagnostics: called with each operator's step time (ms) when set. */
  trace: ((op: Operator, ms: number) => void) | null = null;

  constructor(source: DatomSource | null = null) {
    this.main = this.addSource(source, '$');
  }

  /** The source the main base relations load from. */
  get source(): DatomSource | null {
    return this.main.source;
  }

  set source(s: DatomSource | null) {
    this.main.source = s;
  }

  /**
   * A new set of base relations for another database (`name` labels its relations); its
   * transactions are applied with `apply(datoms, bases)`. Drop it with {@link removeSource} once no
   * query reads it.
   */
  addSource(source: DatomSource | null, name: string): Bases {
    const b = new Bases(source, name, (r) => void this.baseById.set(r.id, r));
    this.sources.add(b);
    return b;
  }

  removeSource(b: Bases): void {
    if (b === this.main) return;
    for (const r of b.rels.values()) this.baseById.delete(r.id);
    b.clear();
    this.sources.delete(b);
  }

  // ---- base relations ------------------------------------------------------------------------

  /** The base relation of `a` in `$` (created and loaded on first use; unreferenced until retained). */
  base(a: Keyword): BaseRel {
    return this.main.base(a);
  }

  /**
   * The relation of every datom of `$` as `(e, a, v, tx)`, for patterns with a variable attribute
   * (`[?e ?a ?v]`). A full copy of the database while some query reads it.
   */
  allDatoms(): BaseRel {
    return this.main.allDatoms();
  }

  /**
   * The relation of entities of `$` that have at least one datom, as `(e)` tuples (`[?e]` patterns
   * and DataScript's `missing?` on references to empty entities).
   */
  entities(): BaseRel {
    return this.main.entities();
  }

  /** Drops base relations no operator reads. */
  sweep(): void {
    for (const src of this.sources) {
      for (const b of [...src.rels.values()]) {
        if (b.refs === 0) {
          src.drop(b);
          this.baseById.delete(b.id);
        }
      }
    }
  }

  // ---- reference counting ----------------------------------------------------------------------

  retain(src: RelSource): void {
    const b = this.baseById.get(src.id);
    if (b !== undefined) {
      b.refs++;
      return;
    }
    const p = this.producers.get(src.id);
    if (p !== undefined) p.refs++;
  }

  release(src: RelSource): void {
    const b = this.baseById.get(src.id);
    if (b !== undefined) {
      if (--b.refs <= 0) {
        b.home?.drop(b);
        this.baseById.delete(b.id);
      }
      return;
    }
    const p = this.producers.get(src.id);
    if (p === undefined) return;
    if (--p.refs <= 0) this.removeOp(p);
  }

  private removeOp(p: OpEntry): void {
    this.byKey.delete(p.key);
    for (const o of p.op.outputs) this.producers.delete(o.id);
    p.op.dispose();
    this.order = null;
    for (const i of p.op.inputs) this.release(i);
  }

  private addOp(op: Operator, key: string): OpEntry {
    let level = 0;
    for (const i of op.inputs) {
      const p = this.producers.get(i.id);
      if (p !== undefined) level = Math.max(level, p.op.level);
    }
    op.level = level + 1;
    op.init();
    for (const i of op.inputs) this.retain(i);
    const e: OpEntry = { op, key, refs: 0 };
    for (const o of op.outputs) this.producers.set(o.id, e);
    this.byKey.set(key, e);
    this.order = null;
    return e;
  }

  // ---- materialization -------------------------------------------------------------------------

  /**
   * Builds (or reuses) the operators of a compiled query and returns its output operator, retained
   * once for the caller. On failure nothing is left behind.
   */
  materialize(cq: CompiledQuery, label: string): OutputOperator {
    const subst = new Map<RelSource, RelSource>();
    const created: OpEntry[] = [];
    const sub = (s: RelSource) => subst.get(s) ?? s;
    let findCols = cq.findCols;
    try {
      for (const comp of cq.components) {
        if (!comp.recursive && comp.members.length === 1) {
          // A rule that only renames a derived relation (`q(x, y) :- anc(x, y)`) is that relation;
          // the query head may also reorder its columns (the output reads them in place).
          const m = comp.members[0]!;
          const r = m.rules.length === 1 ? substRule(m.rules[0]!, subst) : null;
          const perm = r === null ? null : columnsOf(m.rel, r);
          if (perm !== null && (m.rel === cq.head || perm.every((c, i) => c === i))) {
            subst.set(m.rel, (r!.body[0] as { src: RelSource }).src);
            if (m.rel === cq.head) findCols = findCols.map((c) => ({ ...c, col: perm[c.col]! }));
            continue;
          }
        }
        const memberIdx = new Map<RelSource, number>(comp.members.map((m, i) => [m.rel, i]));
        const ref = (s: RelSource) => {
          const i = memberIdx.get(s);
          return i !== undefined ? `m${i}` : `s${sub(s).id}`;
        };
        const key =
          (comp.recursive ? 'rec:' : 'rule:') +
          comp.members.map((m) => `${m.rel.arr.arity}${m.rel.isMagic ? 'M' : ''}[${m.rules.map((r) => ruleKey(r, ref)).join('|')}]`).join(';');
        const existing = this.byKey.get(key);
        if (existing !== undefined) {
          comp.members.forEach((m, i) => subst.set(m.rel, existing.op.outputs[i]!));
          continue;
        }
        const rulesOf = new Map<DerivedRel, RuleIR[]>();
        for (const m of comp.members) rulesOf.set(m.rel, m.rules.map((r) => substRule(r, subst)));
        let op: Operator;
        if (!comp.recursive && comp.members.length === 1) {
          const m = comp.members[0]!;
          op = new RuleOperator(m.rel, rulesOf.get(m.rel)!);
        } else {
          op = new RecursiveOperator(
            comp.members.map((m: LocalRel) => m.rel),
            rulesOf,
          );
        }
        created.push(this.addOp(op, key));
      }
      const head = sub(cq.head);
      const outKey = `out:${head.id}:${findCols.map(findColKey).join(',')}`;
      let out = this.byKey.get(outKey);
      if (out === undefined) {
        out = this.addOp(new OutputOperator(head, findCols, label), outKey);
        created.push(out);
      }
      out.refs++;
      return out.op as OutputOperator;
    } catch (e) {
      for (const c of created.reverse()) if (c.refs <= 0 && this.byKey.get(c.key) === c) this.removeOp(c);
      this.sweep();
      throw e;
    }
  }

  // ---- transactions ----------------------------------------------------------------------------

  private clearDirty(): void {
    for (const a of this.dirty) a.clearDelta();
    this.dirty = [];
  }

  private sorted(): Operator[] {
    if (this.order === null) {
      const ops = new Set<Operator>();
      for (const e of this.byKey.values()) ops.add(e.op);
      this.order = [...ops].sort((a, b) => a.level - b.level);
    }
    return this.order;
  }

  /**
   * Applies one transaction's datoms (`added` asserts, otherwise retracts) and brings every
   * operator up to date. Returns the output operators that produced row changes. `home`: the
   * source the transaction happened in (`$` by default; another database's {@link addSource}).
   */
  apply(input: Iterable<Datom>, home: Bases = this.main): OutputOperator[] {
    const datoms = Array.isArray(input) ? (input as Datom[]) : [...input];
    this.clearDirty();
    this.epoch++;
    const perAttr = new Map<BaseRel, Map<string | number, Pending>>();
    const ents = home.applyEntities(datoms);
    if (ents !== null) this.dirty.push(ents);
    const bases = home.rels;
    const all = bases.get(ALL);
    for (const d of datoms) {
      if (all !== undefined) this.consolidate(perAttr, all, tupleKey([d.e, d.a, d.v]), d);
      const b = bases.get(d.a);
      if (b === undefined) continue;
      this.consolidate(perAttr, b, pairKey(d.e, d.v), d);
    }
    for (const [b, m] of perAttr) {
      const arr = b.arr;
      for (const [k, c] of m) {
        if (c.w > 0 && !arr.has(k)) {
          const t = b.attr === ALL ? [c.e, c.a, c.v, c.tx] : [c.e, c.v, c.tx];
          arr.insert(t, k);
          arr.pushDelta(t, 1, k);
        } else if (c.w < 0 && arr.has(k)) {
          const t = arr.remove(k)!;
          arr.pushDelta(t, -1, k);
        }
      }
      if (arr.delta.length > 0) this.dirty.push(arr);
    }
    const changedOutputs: OutputOperator[] = [];
    if (this.dirty.length === 0) return changedOutputs;
    for (const op of this.sorted()) {
      let touched = false;
      for (const i of op.inputs) {
        if (i.arr.delta.length > 0) {
          touched = true;
          break;
        }
      }
      if (!touched) {
        if (op instanceof OutputOperator) op.diffs = [];
        continue;
      }
      if (this.trace !== null) {
        const t0 = performance.now();
        op.step();
        this.trace(op, performance.now() - t0);
      } else op.step();
      for (const o of op.outputs) if (o.arr.delta.length > 0) this.dirty.push(o.arr);
      if (op instanceof OutputOperator && op.diffs.length > 0) changedOutputs.push(op);
    }
    return changedOutputs;
  }

  private consolidate(perAttr: Map<BaseRel, Map<string | number, Pending>>, b: BaseRel, k: string | number, d: Datom): void {
    let m = perAttr.get(b);
    if (m === undefined) perAttr.set(b, (m = new Map()));
    let c = m.get(k);
    if (c === undefined) m.set(k, (c = { e: d.e, a: d.a, v: d.v, tx: d.tx, w: 0 }));
    c.w += d.added ? 1 : -1;
    if (d.added) c.tx = d.tx;
  }

  /** Clears this transaction's deltas (call after consumers have read them). */
  settle(): void {
    this.clearDirty();
  }

  /** The live operators (for tests and diagnostics). */
  operators(): Operator[] {
    return [...new Set([...this.byKey.values()].map((e) => e.op))];
  }

  /** Statistics: number of live operators and base relations, and rough heap bytes. */
  stats(): { operators: number; bases: number; approxBytes: number; baseBytes: number } {
    let bytes = 0;
    for (const o of new Set([...this.byKey.values()].map((e) => e.op))) bytes += o.approxBytes();
    let baseBytes = 0;
    for (const src of this.sources) for (const b of src.rels.values()) baseBytes += b.arr.approxBytes();
    return { operators: this.byKey.size, bases: [...this.sources].reduce((n, src) => n + src.rels.size, 0), approxBytes: bytes, baseBytes };
  }

  /** Releases everything (tests). */
  dispose(): void {
    for (const e of [...this.byKey.values()]) e.op.dispose();
    this.byKey.clear();
    this.producers.clear();
    for (const src of this.sources) src.clear();
    this.baseById.clear();
    this.order = null;
  }
}

function findColKey(c: FindCol): string {
  return c.kind === 'col' ? `c${c.col}` : `a${c.col}:${c.name ?? 'custom' + Math.random()}(${c.params.map(String).join(' ')})`;
}

/**
 * When `rel`'s only rule `r` copies one derived relation (no payload columns) with distinct
 * variables, each head column being one of its columns: for each head column, the source column
 * it copies (a permutation); else null.
 */
function columnsOf(rel: DerivedRel, r: RuleIR): number[] | null {
  if (r.body.length !== 1) return null;
  const s = r.body[0]!;
  if (s.kind !== 'atom' || s.neg || !(s.src instanceof DerivedRel)) return null;
  const n = rel.arr.arity;
  if (s.src.arr.arity !== n || s.args.length !== n || r.headArgs.length !== n) return null;
  const colOf = new Map<number, number>();
  for (let j = 0; j < n; j++) {
    const a = s.args[j]!;
    if (a.kind !== 'var' || colOf.has(a.slot)) return null;
    colOf.set(a.slot, j);
  }
  const perm: number[] = [];
  for (const h of r.headArgs) {
    const j = h.kind === 'var' ? colOf.get(h.slot) : undefined;
    if (j === undefined || perm.includes(j)) return null;
    perm.push(j);
  }
  return perm;
}

function substRule(r: RuleIR, subst: Map<RelSource, RelSource>): RuleIR {
  if (subst.size === 0) return r;
  const s = (x: RelSource) => subst.get(x) ?? x;
  const body = r.body.map((st): Step => {
    switch (st.kind) {
      case 'atom':
      case 'get-else':
      case 'missing':
        return { ...st, src: s(st.src) } as Step;
      case 'get-some':
        return { ...st, srcs: st.srcs.map(s) };
      default:
        return st;
    }
  });
  return { ...r, body };
}

export { DataloomError, DerivedRel };
export type { Db };
