/**
 * Evaluates a list of where-clauses against an input relation — the heart of the one-shot engine.
 *
 * Semantics are DataScript's, which are defined in written order: a predicate or function needs
 * its arguments bound by earlier clauses ("Insufficient bindings" otherwise), a `not` joins on the
 * variables of its body that earlier clauses bound, an `or` receives the bound values of its
 * variables. {@link analyze} replays that written order statically and records, per clause, the
 * variables bound before it; the planner then reorders clauses freely while giving every `not`
 * and `or` exactly those join variables, so results do not depend on the order chosen.
 *
 * When the analysis finds a clause that may throw, the body runs in written order instead
 * (`ctx.ordered`), stopping at the first empty relation — so errors are raised exactly when
 * DataScript raises them (DataScript skips the remaining clauses once a relation is empty).
 *
 * Planner (greedy, on actual sizes): ready filters first (predicates, `not`, functions binding
 * only bound variables, patterns with every variable bound); then the generator with the fewest
 * estimated output rows — constants and AVET lookups before scans, probes on bound entities for
 * star joins, hash joins otherwise, cross products last.
 */
import { valueEquals } from '@dataloom/core';
import type { Clause, FnArg, FnCall, Not, Or, Pattern, Predicate, RuleCall } from '../ast.js';
import { bindingVars } from '../ast.js';
import { collectVars } from '../parse-where.js';
import { queryError } from '../errors.js';
import { bindValue } from './bind.js';
import { BUILTINS, DB_FNS, type QueryFn, truthy } from './builtins.js';
import { type Ctx, sourceOf, withDefaultSource } from './context.js';
import { estimatePattern, isDb, joinPattern, type ValueRange } from './pattern.js';
import { antijoin, join, project, type Relation, union, UNIT } from './relation.js';

// ---------------------------------------------------------------------------------------------
// Static analysis (written order)

export interface Analysis {
  /** Variables bound before each clause, in written order. */
  readonly before: ReadonlyMap<Clause, ReadonlySet<string>>;
  /** Variables bound after the whole body. */
  readonly after: ReadonlySet<string>;
  /** Whether some clause (here or nested) may throw when reached. */
  readonly mayThrow: boolean;
}

const analysisCache = new WeakMap<readonly Clause[], Map<string, Analysis>>();
const rulesIds = new WeakMap<object, number>();
let nextRulesId = 1;
function rulesId(r: object | null): number {
  if (!r) return 0;
  let id = rulesIds.get(r);
  if (id === undefined) {
    id = nextRulesId++;
    rulesIds.set(r, id);
  }
  return id;
}

/** Variables a `not` joins on, given the variables bound before it. */
export function notJoinVars(c: Not, bound: ReadonlySet<string>): string[] {
  if (c.vars) return c.vars.map((v) => v.name);
  return c.joinVars.map((v) => v.name).filter((v) => bound.has(v));
}

/** Input variables of an `or`, given the variables bound before it. */
export function orInputVars(c: Or, bound: ReadonlySet<string>): string[] {
  return c.joinVars.map((v) => v.name).filter((v) => bound.has(v));
}

/** The variables a clause binds (for the written-order replay). */
function boundBy(c: Clause): string[] {
  switch (c.kind) {
    case 'pattern':
      return c.terms.filter((t) => t.kind === 'var').map((t) => (t as { name: string }).name);
    case 'fn':
      return bindingVars(c.binding).map((v) => v.name);
    case 'rule-call':
      return c.args.filter((t) => t.kind === 'var').map((t) => (t as { name: string }).name);
    case 'or':
      return c.joinVars.map((v) => v.name);
    case 'and':
      return collectVars(c.clauses).map((v) => v.name);
    default:
      return [];
  }
}

/** The error DataScript raises when clause `c` is reached with `bound` variables bound, or null. */
export function clauseError(ctx: Ctx, c: Clause, bound: ReadonlySet<string>): Error | null {
  switch (c.kind) {
    case 'pred':
    case 'fn': {
      const unbound = c.args.filter((a) => a.kind === 'var' && !bound.has(a.name)).map((a) => (a as { name: string }).name);
      if (unbound.length > 0) {
        return queryError('query/unbound', `Insufficient bindings: #{${unbound.join(' ')}} not bound`, clauseForm(c), { vars: unbound });
      }
      if (c.fn.kind === 'var' ? !bound.has(c.fn.name) : !BUILTINS.has(c.fn.name)) {
        return queryError('query/unknown-function', `Unknown ${c.kind === 'pred' ? 'predicate' : 'function'} '${c.fn.name}`, clauseForm(c), {
          fn: c.fn.name,
        });
      }
      if (c.fn.kind === 'sym' && DB_FNS.has(c.fn.name) && c.args[0]?.kind === 'src' && !isDb(ctx.sources.get(c.args[0].name))) {
        const name = c.args[0].name;
        const what = ctx.sources.has(name) ? 'is a collection' : 'is not given';
        return queryError('query/source', `${c.fn.name} needs a database, but source ${name} ${what}`, clauseForm(c), { fn: c.fn.name, source: name });
      }
      return null;
    }
    case 'not': {
      const jv = notJoinVars(c, bound);
      if (c.vars) {
        const unbound = jv.filter((v) => !bound.has(v));
        if (unbound.length > 0) return queryError('query/unbound', `Insufficient bindings: #{${unbound.join(' ')}} not bound`, clauseForm(c), { vars: unbound });
      } else if (jv.length === 0 || (ctx.constVars && jv.every((v) => ctx.constVars!.has(v)))) {
        return queryError('query/unbound', `Insufficient bindings: none of #{${c.joinVars.map((v) => v.name).join(' ')}} is bound`, clauseForm(c));
      }
      return null;
    }
    case 'or': {
      if (c.vars) {
        const unbound = c.vars.required.filter((v) => !bound.has(v.name)).map((v) => v.name);
        if (unbound.length > 0) return queryError('query/unbound', `Insufficient bindings: #{${unbound.join(' ')}} not bound`, clauseForm(c), { vars: unbound });
      }
      return null;
    }
    case 'rule-call':
      if (!ctx.rules || !ctx.rules.has(c.name)) return queryError('query/unknown-rule', `Unknown rule '${c.name}`, clauseForm(c), { rule: c.name });
      return null;
    default:
      return null;
  }
}

/** The names of the sources that are collections (part of the analysis cache key). */
function collectionSources(ctx: Ctx): string {
  let out = '';
  for (const [name, src] of ctx.sources) if (!isDb(src)) out += name + ' ';
  return out;
}

/** Written-order replay of `clauses` starting with `bound` (cached per clause list and bound set). */
export function analyze(ctx: Ctx, clauses: readonly Clause[], bound: ReadonlySet<string>, seenRules: Set<string> = new Set()): Analysis {
  const key =
    rulesId(ctx.rules) + '|' + [...bound].sort().join(' ') + '|' + (ctx.constVars ? [...ctx.constVars].sort().join(' ') : '') + '|' + collectionSources(ctx);
  let byKey = analysisCache.get(clauses);
  const hit = byKey?.get(key);
  if (hit) return hit;
  const before = new Map<Clause, ReadonlySet<string>>();
  const cur = new Set(bound);
  let mayThrow = false;
  for (const c of clauses) {
    const b = new Set(cur);
    before.set(c, b);
    if (clauseError(ctx, c, b)) mayThrow = true;
    switch (c.kind) {
      case 'not':
        if (analyze(ctx, c.clauses, new Set(notJoinVars(c, b)), seenRules).mayThrow) mayThrow = true;
        break;
      case 'or': {
        const inVars = new Set(orInputVars(c, b));
        for (const br of c.clauses) {
          const sub = analyze(ctx, br.kind === 'and' ? br.clauses : [br], inVars, seenRules);
          if (sub.mayThrow) mayThrow = true;
          // every join variable must come out of every branch
          for (const v of c.joinVars) if (!sub.after.has(v.name)) mayThrow = true;
        }
        break;
      }
      case 'and':
        if (analyze(ctx, c.clauses, b, seenRules).mayThrow) mayThrow = true;
        break;
      case 'rule-call': {
        const rule = ctx.rules?.get(c.name);
        if (rule) {
          const adorn = c.args.map((t) => t.kind === 'const' || (t.kind === 'var' && b.has(t.name)));
          const rk = c.name + '/' + c.args.map((t, i) => (t.kind === 'const' ? 'c' : adorn[i] ? 'b' : 'f')).join('');
          if (!seenRules.has(rk)) {
            seenRules.add(rk);
            for (const br of rule.branches) {
              const head = [...br.vars.required, ...br.vars.free];
              const hb = new Set(head.filter((_, i) => adorn[i]).map((v) => v.name));
              const constVars = new Set(head.filter((_, i) => c.args[i]?.kind === 'const').map((v) => v.name));
              if (analyze({ ...ctx, constVars }, br.clauses, hb, seenRules).mayThrow) mayThrow = true;
            }
          }
        }
        break;
      }
      default:
    }
    for (const v of boundBy(c)) cur.add(v);
  }
  const a: Analysis = { before, after: cur, mayThrow };
  if (!byKey) {
    byKey = new Map();
    analysisCache.set(clauses, byKey);
  }
  byKey.set(key, a);
  return a;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** Evaluates `clauses` joined with `input`; the result has input's columns plus every bound variable. */
export function evalBody(ctx: Ctx, clauses: readonly Clause[], input: Relation): Relation {
  const info = analyze(ctx, clauses, new Set(input.vars));
  let rel = input;
  const emptyResult = () => {
    const vars = [...rel.vars];
    for (const v of info.after) if (!vars.includes(v)) vars.push(v);
    return { vars, rows: [] };
  };
  if (ctx.ordered) {
    for (const c of clauses) {
      if (rel.rows.length === 0) return emptyResult();
      const err = clauseError(ctx, c, new Set(rel.vars));
      if (err) throw err;
      rel = applyClause(ctx, c, rel, new Set(rel.vars));
    }
    return rel.rows.length === 0 ? emptyResult() : rel;
  }
  const remaining = clauses.slice();
  // With stable plans, the order chosen so far for these input variables is followed and extended.
  let plan: Clause[] | null = null;
  if (ctx.stable) {
    const plans = (ctx.state.plans ??= new WeakMap()) as WeakMap<readonly Clause[], Map<string, Clause[]>>;
    let m = plans.get(clauses);
    if (!m) plans.set(clauses, (m = new Map()));
    const planKey = rel.vars.join(' ');
    plan = m.get(planKey) ?? null;
    if (!plan) m.set(planKey, (plan = []));
  }
  let step = 0;
  while (remaining.length > 0) {
    if (rel.rows.length === 0) return emptyResult();
    let i: number;
    if (plan && step < plan.length) i = remaining.indexOf(plan[step]!);
    else {
      i = choose(ctx, remaining, rel, info);
      plan?.push(remaining[i]!);
    }
    step++;
    const c = remaining[i]!;
    remaining.splice(i, 1);
    if (c.kind === 'pattern') {
      rel = joinPattern(sourceOf(ctx, c.source), c, rel, rangeFor(c, remaining, rel));
      continue;
    }
    rel = applyClause(ctx, c, rel, info.before.get(c)!);
  }
  return rel.rows.length === 0 ? emptyResult() : rel;
}

const RANGE_OPS = new Set(['<', '>', '<=', '>=']);

/** Bounds for a scan of pattern `p`'s value variable from comparison predicates still to run. */
function rangeFor(p: Pattern, remaining: readonly Clause[], rel: Relation): ValueRange | undefined {
  const v = p.terms[2];
  if (!v || v.kind !== 'var' || rel.vars.includes(v.name) || p.terms.length > 3) return undefined;
  const e = p.terms[0];
  if (!e || e.kind !== 'var' || rel.vars.includes(e.name) || e.name === v.name) return undefined;
  const valueOf = (a: FnArg): { ok: boolean; x?: unknown } => {
    if (a.kind === 'const') return { ok: a.value !== null && a.value !== undefined, x: a.value };
    if (a.kind === 'var' && rel.rows.length === 1) {
      const i = rel.vars.indexOf(a.name);
      if (i >= 0) return { ok: rel.rows[0]![i] !== null && rel.rows[0]![i] !== undefined, x: rel.rows[0]![i] };
    }
    return { ok: false };
  };
  let range: ValueRange | undefined;
  for (const c of remaining) {
    if (c.kind !== 'pred' || c.fn.kind !== 'sym' || !RANGE_OPS.has(c.fn.name) || c.args.length !== 2) continue;
    const [a0, a1] = c.args as [FnArg, FnArg];
    let op = c.fn.name;
    let other: FnArg;
    if (a0.kind === 'var' && a0.name === v.name) other = a1;
    else if (a1.kind === 'var' && a1.name === v.name) {
      other = a0;
      op = op.startsWith('<') ? op.replace('<', '>') : op.replace('>', '<');
    } else continue;
    const o = valueOf(other);
    if (!o.ok) continue;
    range ??= {};
    if (op.startsWith('>') && range.lo === undefined) range.lo = o.x;
    if (op.startsWith('<') && range.hi === undefined) range.hi = o.x;
  }
  return range;
}

function varsOfArgs(args: readonly FnArg[]): string[] {
  return args.filter((a) => a.kind === 'var').map((a) => (a as { name: string }).name);
}

/** Index of the clause to run next. */
function choose(ctx: Ctx, clauses: readonly Clause[], rel: Relation, info: Analysis): number {
  const bound = new Set(rel.vars);
  const allBound = (vs: readonly string[]) => vs.every((v) => bound.has(v));
  // 1. Ready filters, in written order.
  for (let i = 0; i < clauses.length; i++) {
    const c = clauses[i]!;
    switch (c.kind) {
      case 'pred':
        if (allBound(varsOfArgs(c.args)) && (c.fn.kind !== 'var' || bound.has(c.fn.name))) return i;
        break;
      case 'fn':
        if (allBound(varsOfArgs(c.args)) && (c.fn.kind !== 'var' || bound.has(c.fn.name)) && allBound(bindingVars(c.binding).map((v) => v.name))) return i;
        break;
      case 'not':
        // join vars as fixed by the written order (a superset of what is bound is fine)
        if (allBound(notJoinVars(c, info.before.get(c)!))) return i;
        break;
      case 'pattern':
        if (c.terms.every((t) => t.kind !== 'var' || bound.has(t.name))) return i;
        break;
      default:
    }
  }
  // 2. Cheapest generator.
  let best = -1;
  let bestRows = Infinity;
  let bestCost = Infinity;
  const n = rel.rows.length;
  for (let i = 0; i < clauses.length; i++) {
    const c = clauses[i]!;
    let est: { rows: number; cost: number } | null = null;
    switch (c.kind) {
      case 'pattern':
        est = estimatePattern(sourceOf(ctx, c.source), c, rel.vars, n, ctx.estimates, rel.rows);
        break;
      case 'fn':
        if (allBound(varsOfArgs(c.args)) && (c.fn.kind !== 'var' || bound.has(c.fn.name))) est = { rows: n, cost: n };
        break;
      case 'rule-call': {
        // Never call a rule with fewer bound arguments than the written order gives it (its body
        // was analysed for that adornment).
        const before = info.before.get(c)!;
        if (!c.args.every((t) => t.kind !== 'var' || !before.has(t.name) || bound.has(t.name))) break;
        const anyBound = c.args.some((t) => t.kind === 'const' || (t.kind === 'var' && bound.has(t.name)));
        est = anyBound ? { rows: n * 4, cost: n * 4 } : { rows: n * 1e6, cost: 1e6 };
        break;
      }
      case 'or': {
        if (c.vars && !allBound(c.vars.required.map((v) => v.name))) break;
        if (!allBound(orInputVars(c, info.before.get(c)!))) break;
        const shares = c.joinVars.some((v) => bound.has(v.name));
        est = shares ? { rows: n * 2, cost: n * 2 } : { rows: n * 1e5, cost: 1e5 };
        break;
      }
      case 'and':
        est = { rows: n, cost: n };
        break;
      default:
    }
    if (est && (est.rows < bestRows || (est.rows === bestRows && est.cost < bestCost))) {
      best = i;
      bestRows = est.rows;
      bestCost = est.cost;
    }
  }
  if (best >= 0) return best;
  // Nothing else ready: the earliest remaining clause in written order always is (every clause
  // written before it has run).
  return 0;
}

/** Runs one clause. `before`: variables bound before it in written order. */
function applyClause(ctx: Ctx, c: Clause, rel: Relation, before: ReadonlySet<string>): Relation {
  switch (c.kind) {
    case 'pattern':
      return joinPattern(sourceOf(ctx, c.source), c, rel);
    case 'pred':
      return applyPred(ctx, c, rel);
    case 'fn':
      return applyFn(ctx, c, rel);
    case 'not':
      return applyNot(ctx, c, rel, before);
    case 'or':
      return applyOr(ctx, c, rel, before);
    case 'and':
      return evalBody(ctx, c.clauses, rel);
    case 'rule-call':
      return ctx.callRule(withDefaultSource(ctx, c.source), c as RuleCall, rel, before);
  }
}

type ArgGetter = (row: readonly unknown[]) => unknown;

function argGetters(ctx: Ctx, args: readonly FnArg[], rel: Relation): ArgGetter[] {
  return args.map((a) => {
    if (a.kind === 'const') {
      const v = a.value;
      return () => v;
    }
    if (a.kind === 'src') {
      const s = ctx.sources.get(a.name) ?? null;
      return () => s;
    }
    const i = rel.vars.indexOf(a.name);
    return (row) => row[i];
  });
}

function resolveFn(c: Predicate | FnCall, rel: Relation): (row: readonly unknown[]) => QueryFn {
  if (c.fn.kind === 'var') {
    const i = rel.vars.indexOf(c.fn.name);
    return (row) => {
      const f = row[i];
      if (typeof f !== 'function') {
        throw queryError('query/unknown-function', `Unknown ${c.kind === 'pred' ? 'predicate' : 'function'} '${c.fn.name}`, clauseForm(c), {
          fn: c.fn.name,
        });
      }
      return f as QueryFn;
    };
  }
  const f = BUILTINS.get(c.fn.name);
  if (!f) throw queryError('query/unknown-function', `Unknown ${c.kind === 'pred' ? 'predicate' : 'function'} '${c.fn.name}`, clauseForm(c), { fn: c.fn.name });
  return () => f;
}

function applyPred(ctx: Ctx, c: Predicate, rel: Relation): Relation {
  const getters = argGetters(ctx, c.args, rel);
  const fnOf = resolveFn(c, rel);
  let rows: (readonly unknown[])[];
  if (c.fn.kind !== 'var' && getters.length === 2) {
    const f = fnOf([]);
    const [g0, g1] = getters as [ArgGetter, ArgGetter];
    rows = rel.rows.filter((row) => truthy(f(g0(row), g1(row))));
  } else {
    rows = rel.rows.filter((row) => {
      const args = getters.map((g) => g(row));
      return truthy(fnOf(row)(...args));
    });
  }
  return { vars: rel.vars, rows, distinct: rel.distinct };
}

function applyFn(ctx: Ctx, c: FnCall, rel: Relation): Relation {
  const getters = argGetters(ctx, c.args, rel);
  const fnOf = resolveFn(c, rel);
  const b = c.binding;
  // Fast path: scalar binding.
  if (b.kind === 'bind-scalar') {
    const existing = rel.vars.indexOf(b.variable.name);
    const rows: unknown[][] = [];
    for (const row of rel.rows) {
      const r = fnOf(row)(...getters.map((g) => g(row)));
      if (r === null || r === undefined) continue;
      if (existing >= 0) {
        if (valueEquals(row[existing], r)) rows.push(row as unknown[]);
      } else {
        const out = row.slice();
        out.push(r);
        rows.push(out);
      }
    }
    return { vars: existing >= 0 ? rel.vars : [...rel.vars, b.variable.name], rows, distinct: rel.distinct };
  }
  const parts: Relation[] = [];
  let outVars: string[] | null = null;
  for (const row of rel.rows) {
    const r = fnOf(row)(...getters.map((g) => g(row)));
    if (r === null || r === undefined) continue;
    const bound = join({ vars: rel.vars, rows: [row] }, bindValue(b, r));
    outVars ??= bound.vars as string[];
    parts.push(bound);
  }
  if (!outVars) {
    const vars = [...rel.vars];
    for (const v of bindingVars(b)) if (!vars.includes(v.name)) vars.push(v.name);
    return { vars, rows: [] };
  }
  return union(outVars, parts);
}

function applyNot(ctx: Ctx, c: Not, rel: Relation, before: ReadonlySet<string>): Relation {
  const jv = notJoinVars(c, before).filter((v) => rel.vars.includes(v));
  const input = project(rel, jv, true);
  const sub = evalBody(withDefaultSource(ctx, c.source), c.clauses, input);
  return antijoin(rel, project(sub, jv, false), jv);
}

/**
 * Whether a body contains a plain `not` (whose join variables depend on what is bound before it):
 * only then must an `or` receive exactly the written-order bindings; otherwise every bound
 * variable may flow in (fewer rows, same result).
 */
export function hasPlainNot(clauses: readonly Clause[]): boolean {
  const memo = plainNotMemo.get(clauses);
  if (memo !== undefined) return memo;
  let found = false;
  for (const c of clauses) {
    if ((c.kind === 'not' && c.vars === null) || ((c.kind === 'not' || c.kind === 'or' || c.kind === 'and') && hasPlainNot(c.clauses))) {
      found = true;
      break;
    }
  }
  plainNotMemo.set(clauses, found);
  return found;
}
const plainNotMemo = new WeakMap<readonly Clause[], boolean>();

function applyOr(ctx: Ctx, c: Or, rel: Relation, before: ReadonlySet<string>): Relation {
  const inVars = (hasPlainNot(c.clauses) ? orInputVars(c, before) : c.joinVars.map((v) => v.name)).filter((v) => rel.vars.includes(v));
  const input = inVars.length === 0 ? UNIT : project(rel, inVars, true);
  const sctx = withDefaultSource(ctx, c.source);
  const outVars = c.joinVars.map((v) => v.name);
  const results: Relation[] = [];
  for (const br of c.clauses) {
    const r = evalBody(sctx, br.kind === 'and' ? br.clauses : [br], input);
    const missing = outVars.filter((v) => !r.vars.includes(v));
    if (missing.length > 0) {
      throw queryError('query/or-vars', `All clauses in 'or' must use same set of free vars, had #{${missing.join(' ')}} not bound`, clauseForm(br), {
        vars: missing,
      });
    }
    results.push(project(r, outVars, false));
  }
  return join(rel, project(union(outVars, results), outVars, true));
}

/** A printable form of a clause for error messages. */
export function clauseForm(c: Clause): string {
  return printClause(c);
}

function printArg(a: { kind: string; name?: string; value?: unknown }): string {
  if (a.kind === 'var' || a.kind === 'src' || a.kind === 'sym') return a.name!;
  if (a.kind === 'blank') return '_';
  if (a.kind === 'rules') return '%';
  const v = a.value;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'nil';
  return typeof (v as { toString?: unknown }).toString === 'function' && !Array.isArray(v) ? String(v) : JSON.stringify(v);
}

function printClause(c: Clause): string {
  switch (c.kind) {
    case 'pattern':
      return '[' + (c.source.name !== '$' ? c.source.name + ' ' : '') + c.terms.map(printArg).join(' ') + ']';
    case 'pred':
      return `[(${[c.fn, ...c.args].map(printArg).join(' ')})]`;
    case 'fn':
      return `[(${[c.fn, ...c.args].map(printArg).join(' ')}) ${bindingVars(c.binding).map((v) => v.name).join(' ')}]`;
    case 'rule-call':
      return `(${c.name} ${c.args.map(printArg).join(' ')})`;
    case 'not':
      return `(${c.vars ? 'not-join [' + c.vars.map((v) => v.name).join(' ') + '] ' : 'not '}${c.clauses.map(printClause).join(' ')})`;
    case 'or':
      return `(${c.vars ? 'or-join [' + c.joinVars.map((v) => v.name).join(' ') + '] ' : 'or '}${c.clauses.map(printClause).join(' ')})`;
    case 'and':
      return `(and ${c.clauses.map(printClause).join(' ')})`;
  }
}

