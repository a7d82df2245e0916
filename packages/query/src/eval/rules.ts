/**
 * Rule evaluation: demand-driven (magic-set style) tabling with semi-naive fixpoints.
 *
 * A call `(r a1 … an)` is answered from a table keyed by rule, source and *adornment* (which
 * argument positions are bound at the call). The table keeps the demanded bound-argument tuples
 * and the answers (full argument tuples, a set). Calling with bound arguments only derives answers
 * reachable from those bindings — `(follows 1 ?y)` never computes the whole closure.
 *
 * Rules are grouped into strongly connected components of the call graph. Calls into a component
 * that is not being evaluated start a fixpoint for it and return complete answers; calls inside a
 * running component register demand and read the answers of the previous round. Each round
 * evaluates every branch (a) for the demand added last round against all answers and (b) for all
 * demand with one recursive call reading only last round's new answers (semi-naive). The loop
 * ends when a round adds neither demand nor answers, which happens on any finite database (set
 * semantics, so cyclic data terminates).
 *
 * Negation and aggregates over a rule of the same component are not stratified; like DataScript,
 * they are not rejected, but their result is only defined for stratified programs.
 */
import { tupleKey } from '@dataloom/core/internals';
import type { PatternTerm, Rule, RuleCall } from '../ast.js';
import { queryError } from '../errors.js';
import { evalBody, hasPlainNot } from './body.js';
import type { Ctx } from './context.js';
import { join, type Relation } from './relation.js';

interface Table {
  readonly key: string;
  readonly rule: Rule;
  readonly ctx: Ctx;
  /** `ctx` with stable plans (see `Ctx.stable`). */
  readonly stableCtx: Ctx;
  readonly adorn: readonly boolean[];
  /** Argument positions given as constants at the call (DataScript substitutes them). */
  readonly constPos: readonly boolean[];
  readonly scc: number;
  /** Demanded bound-argument tuples (key → tuple). */
  readonly demand: Map<unknown, unknown[]>;
  /** Demand added during the current round (applied after it). */
  pendingDemand: unknown[][];
  /** Demand added in the previous round (evaluated in this round). */
  newDemand: unknown[][];
  /** Answers: full argument tuples. */
  readonly answers: Map<unknown, unknown[]>;
  /** Answers added in the previous round. */
  delta: unknown[][];
  /** Answers derived in the current round (applied after it). */
  pending: unknown[][];
}

/** Size of one rule table: demanded bound-argument tuples and derived answers. */
export interface RuleTableStats {
  table: string;
  demand: number;
  answers: number;
}

export class RuleEngine {
  private readonly tables = new Map<string, Table>();
  private readonly sccOf = new Map<string, number>();
  /** Components whose fixpoint is running. */
  private readonly running = new Set<number>();
  /** During semi-naive evaluation: the call clause reading `delta` instead of all answers. */
  deltaCall: RuleCall | null = null;

  constructor(private readonly rules: ReadonlyMap<string, Rule>) {
    this.computeSccs();
  }

  private computeSccs(): void {
    // Tarjan over rule names.
    const edges = new Map<string, Set<string>>();
    for (const [name, rule] of this.rules) {
      const out = new Set<string>();
      const visit = (cs: readonly import('../ast.js').Clause[]): void => {
        for (const c of cs) {
          if (c.kind === 'rule-call') out.add(c.name);
          else if (c.kind === 'not' || c.kind === 'or' || c.kind === 'and') visit(c.clauses);
        }
      };
      for (const b of rule.branches) visit(b.clauses);
      edges.set(name, out);
    }
    let index = 0;
    let sccId = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const on = new Set<string>();
    const strong = (v: string): void => {
      idx.set(v, index);
      low.set(v, index);
      index++;
      stack.push(v);
      on.add(v);
      for (const w of edges.get(v) ?? []) {
        if (!this.rules.has(w)) continue;
        if (!idx.has(w)) {
          strong(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
      if (low.get(v) === idx.get(v)) {
        let w: string;
        do {
          w = stack.pop()!;
          on.delete(w);
          this.sccOf.set(w, sccId);
        } while (w !== v);
        sccId++;
      }
    };
    for (const name of this.rules.keys()) if (!idx.has(name)) strong(name);
  }

  private table(callerCtx: Ctx, rule: Rule, adorn: boolean[], constPos: boolean[]): Table {
    const src = callerCtx.implicit;
    const key = rule.name + '/' + adorn.map((b, i) => (constPos[i] ? 'c' : b ? 'b' : 'f')).join('') + '/' + sourceId(src);
    let t = this.tables.get(key);
    if (!t) {
      const ctx: Ctx = { ...callerCtx, constVars: undefined };
      t = {
        key,
        rule,
        ctx,
        stableCtx: { ...ctx, stable: true },
        adorn,
        constPos,
        scc: this.sccOf.get(rule.name)!,
        demand: new Map(),
        pendingDemand: [],
        newDemand: [],
        answers: new Map(),
        delta: [],
        pending: [],
      };
      this.tables.set(key, t);
    }
    return t;
  }

  /** Table sizes, for tests and diagnostics. */
  stats(): RuleTableStats[] {
    return [...this.tables.values()].map((t) => ({ table: t.key, demand: t.demand.size, answers: t.answers.size }));
  }

  private readonly notMemo = new Map<string, boolean>();

  /** Whether rule `name` or a rule it calls has a plain `not` (see {@link call}). */
  private reachesPlainNot(name: string): boolean {
    const hit = this.notMemo.get(name);
    if (hit !== undefined) return hit;
    this.notMemo.set(name, false); // cycles
    const rule = this.rules.get(name);
    let found = false;
    if (rule) {
      for (const b of rule.branches) {
        if (hasPlainNot(b.clauses)) found = true;
        collectCalls(b.clauses, (c) => {
          if (!found && this.reachesPlainNot(c.name)) found = true;
        });
        if (found) break;
      }
    }
    this.notMemo.set(name, found);
    return found;
  }

  /**
   * `before`: the variables bound before the call in written order. DataScript passes the
   * call-site bindings into rule bodies, where a plain `not` joins on what is bound; so when the
   * rule reaches a plain `not`, only written-order bindings select the adornment (other bound
   * variables filter the answers afterwards). Otherwise every bound argument is used.
   */
  call(ctx: Ctx, c: RuleCall, rel: Relation, before: ReadonlySet<string> | null = null): Relation {
    const rule = this.rules.get(c.name);
    if (!rule) throw queryError('query/unknown-rule', `Unknown rule '${c.name}`, `(${c.name} …)`, { rule: c.name });
    const arity = rule.branches[0]!.vars.required.length + rule.branches[0]!.vars.free.length;
    // DataScript zips call arguments with head variables: extra arguments are ignored, missing ones are free.
    const args: PatternTerm[] = [];
    for (let i = 0; i < arity; i++) args.push(c.args[i] ?? { kind: 'blank' });
    const bound = new Set(rel.vars);
    const exact = before !== null && this.reachesPlainNot(c.name);
    const adorn = args.map((t) => t.kind === 'const' || (t.kind === 'var' && bound.has(t.name) && (!exact || before.has(t.name))));
    const t = this.table(
      ctx,
      rule,
      adorn,
      args.map((a) => a.kind === 'const'),
    );
    // Demand tuples from the relation.
    const getters = args
      .map((a, i) => ({ a, i }))
      .filter(({ i }) => adorn[i])
      .map(({ a }) => {
        if (a.kind === 'const') return () => a.value;
        const col = rel.vars.indexOf((a as { name: string }).name);
        return (row: readonly unknown[]) => row[col];
      });
    const inLoop = this.running.has(t.scc);
    let added = false;
    const seen = new Set<unknown>();
    for (const row of rel.rows) {
      const d = getters.map((g) => g(row));
      const k = tupleKey(d);
      if (seen.has(k)) continue;
      seen.add(k);
      if (!t.demand.has(k)) {
        t.demand.set(k, d);
        (inLoop ? t.pendingDemand : t.newDemand).push(d);
        added = true;
      }
    }
    if (!inLoop && added) this.fixpoint(t.scc);
    const source = inLoop && this.deltaCall === c ? t.delta : t.answers.values();
    return joinAnswers(rel, args, source);
  }

  /** Runs component `scc` until no table in it gains demand or answers. */
  private fixpoint(scc: number): void {
    this.running.add(scc);
    const savedDelta = this.deltaCall;
    try {
      const tables = () => [...this.tables.values()].filter((t) => t.scc === scc);
      for (let round = 0; ; round++) {
        let work = false;
        for (const t of tables()) {
          if (t.newDemand.length > 0 || t.delta.length > 0) work = true;
        }
        if (!work) break;
        for (const t of tables()) this.evalTable(t, scc);
        // Apply the round.
        for (const t of tables()) {
          t.delta = [];
          for (const a of t.pending) {
            const k = tupleKey(a);
            if (!t.answers.has(k)) {
              t.answers.set(k, a);
              t.delta.push(a);
            }
          }
          t.pending = [];
          t.newDemand = t.pendingDemand;
          t.pendingDemand = [];
        }
      }
    } finally {
      this.running.delete(scc);
      this.deltaCall = savedDelta;
    }
  }

  private evalTable(t: Table, scc: number): void {
    for (const br of t.rule.branches) {
      const head = [...br.vars.required, ...br.vars.free].map((v) => v.name);
      const constVars = new Set(head.filter((_, i) => t.constPos[i]));
      const bctx: Ctx = constVars.size > 0 ? { ...t.stableCtx, constVars } : t.stableCtx;
      const boundHead = head.filter((_, i) => t.adorn[i]);
      const recursive: RuleCall[] = [];
      collectCalls(br.clauses, (c) => {
        if (this.sccOf.get(c.name) === scc) recursive.push(c);
      });
      const run = (demand: unknown[][], deltaCall: RuleCall | null) => {
        if (demand.length === 0) return;
        this.deltaCall = deltaCall;
        const out = evalBody(bctx, br.clauses, { vars: boundHead, rows: demand });
        const cols = head.map((v) => out.vars.indexOf(v));
        for (const row of out.rows) t.pending.push(cols.map((c) => (c < 0 ? null : row[c])));
      };
      // (a) new demand against all answers
      run(t.newDemand, null);
      // (b) old demand, one recursive call reading last round's new answers
      if (recursive.length > 0) {
        const fresh = new Set(t.newDemand);
        const oldDemand = [...t.demand.values()].filter((d) => !fresh.has(d));
        if (oldDemand.length > 0) {
          for (const rc of recursive) {
            if (!this.anyDelta(scc, rc.name)) continue;
            run(oldDemand, rc);
          }
        }
      }
      this.deltaCall = null;
    }
  }

  private anyDelta(scc: number, name: string): boolean {
    for (const t of this.tables.values()) if (t.scc === scc && t.rule.name === name && t.delta.length > 0) return true;
    return false;
  }
}

function collectCalls(cs: readonly import('../ast.js').Clause[], f: (c: RuleCall) => void): void {
  for (const c of cs) {
    if (c.kind === 'rule-call') f(c);
    else if (c.kind === 'not' || c.kind === 'or' || c.kind === 'and') collectCalls(c.clauses, f);
  }
}

const sourceIds = new WeakMap<object, number>();
let nextSourceId = 1;
function sourceId(src: unknown): number {
  if (src === undefined || src === null || typeof src !== 'object') return 0;
  let id = sourceIds.get(src);
  if (id === undefined) {
    id = nextSourceId++;
    sourceIds.set(src, id);
  }
  return id;
}

/** Joins answer tuples back into `rel` through the call's arguments. */
function joinAnswers(rel: Relation, args: readonly PatternTerm[], answers: Iterable<unknown[]>): Relation {
  const vars: string[] = [];
  const pos: number[] = [];
  const checks: { i: number; eq: number | null; v?: unknown }[] = [];
  args.forEach((a, i) => {
    if (a.kind === 'var') {
      const j = vars.indexOf(a.name);
      if (j >= 0) checks.push({ i, eq: pos[j]! });
      else {
        vars.push(a.name);
        pos.push(i);
      }
    } else if (a.kind === 'const') checks.push({ i, eq: null, v: a.value });
  });
  const rows: unknown[][] = [];
  outer: for (const t of answers) {
    for (const ch of checks) {
      if (ch.eq !== null) {
        if (tupleKey([t[ch.i]]) !== tupleKey([t[ch.eq]])) continue outer;
      } else if (tupleKey([t[ch.i]]) !== tupleKey([ch.v])) continue outer;
    }
    rows.push(pos.map((p) => t[p]));
  }
  return join(rel, { vars, rows, distinct: !args.some((a) => a.kind === 'blank') });
}

/** Evaluates a rule call joined into `rel`. */
export function callRule(ctx: Ctx, c: RuleCall, rel: Relation, before: ReadonlySet<string> | null = null): Relation {
  if (!ctx.rules) throw queryError('query/unknown-rule', `Unknown rule '${c.name}`, `(${c.name} …)`, { rule: c.name });
  let engine = ctx.state.rulesEngine as RuleEngine | undefined;
  if (!engine) {
    engine = new RuleEngine(ctx.rules);
    ctx.state.rulesEngine = engine;
  }
  if (rel.rows.length === 0) {
    const vars = [...rel.vars];
    for (const a of c.args) if (a.kind === 'var' && !vars.includes(a.name)) vars.push(a.name);
    return { vars, rows: [] };
  }
  return engine.call(ctx, c, rel, before);
}
