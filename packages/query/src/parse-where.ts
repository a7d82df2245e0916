/**
 * `:where` clauses: data patterns, predicates, function calls, `not`/`not-join`, `or`/`or-join`,
 * `and`, rule calls, with DataScript's validation of each form; `collectVars` of a clause list.
 */
import { kw, List, Sym } from '@dataloom/core';
import type { And, Clause, Not, Or, Pattern, Rule, RuleCall, RuleVars, SrcVar, Variable } from './ast.js';
import { bindingVars } from './ast.js';
import { queryError } from './errors.js';
import { DEFAULT_SRC, isVarSym, isSymNamed, variable, constant, plainSymbol, parseVariable, parseSrcVar, items, parsePatternTerm, parseFnArg, parseBinding } from './parse-terms.js';

// ---------------------------------------------------------------------------------------------
// :where

/** Context while parsing clauses: collects facts the query-level validation needs. */
export interface ClauseCtx {
  /** Explicit source variables used anywhere. */
  explicitSources: Set<string>;
  /** Rule calls seen. */
  ruleCalls: boolean;
  /**
   * Variables bound before the clause being parsed — the `:in` variables (a rule's head
   * variables), then those of the clauses before it, as DataScript evaluates them in written
   * order: the branches of an `or` must agree on the variables they use beyond these.
   */
  bound?: ReadonlySet<string>;
}

export function newCtx(bound?: ReadonlySet<string>): ClauseCtx {
  return { explicitSources: new Set(), ruleCalls: false, ...(bound ? { bound } : {}) };
}

/** Parses a vector of where-clauses. */
export function parseClauses(xs: readonly unknown[], ctx: ClauseCtx = newCtx()): Clause[] {
  const outer = ctx.bound;
  const bound = new Set(outer ?? []);
  const out: Clause[] = [];
  try {
    for (const x of xs) {
      ctx.bound = bound;
      const c = parseClause(x, ctx);
      out.push(c);
      // what a clause binds for those after it (a negation binds nothing; an or, its join variables)
      if (c.kind !== 'not') for (const v of c.kind === 'or' ? c.joinVars : collectVars([c])) bound.add(v.name);
    }
  } finally {
    ctx.bound = outer;
  }
  return out;
}

export function parseClause(x: unknown, ctx: ClauseCtx): Clause {
  if (x instanceof List) return parseListClause(x, ctx);
  if (Array.isArray(x)) {
    if (x.length === 0) throw queryError('query/parse', 'Pattern could not be empty', x, { part: 'where' });
    const head = x[0];
    if (head instanceof List && head.items.length > 0 && (x.length === 1 || x.length === 2)) {
      const [f, ...args] = head.items as unknown[];
      if (f instanceof Sym) {
        const fn = parseVariable(f) ?? plainSymbol(f);
        const fargs = Object.freeze(args.map(parseFnArg));
        for (const a of fargs) if (a.kind === 'src') ctx.explicitSources.add(a.name);
        if (x.length === 1) return Object.freeze({ kind: 'pred', fn, args: fargs });
        return Object.freeze({ kind: 'fn', fn, args: fargs, binding: parseBinding(x[1]) });
      }
    }
    return parsePattern(x, ctx);
  }
  throw unknownClause(x);
}

export function unknownClause(x: unknown) {
  return queryError(
    'query/parse',
    'Cannot parse clause, expected (data-pattern | pred-expr | fn-expr | rule-expr | not-clause | not-join-clause | or-clause | or-join-clause)',
    x,
    { part: 'where' },
  );
}

export function parsePattern(x: unknown[], ctx: ClauseCtx): Pattern {
  let source = DEFAULT_SRC;
  let rest: unknown[] = x;
  const s = parseSrcVar(x[0]);
  if (s) {
    source = s;
    ctx.explicitSources.add(s.name);
    rest = x.slice(1);
  }
  if (rest.length === 0) throw queryError('query/parse', 'Pattern could not be empty', x, { part: 'where' });
  // DataScript 1.8 accepts a fifth (`added`) term but throws "Index out of bounds" when it runs.
  if (rest.length > 4) throw queryError('query/parse', 'Pattern could have at most 4 elements [e a v tx]', x, { part: 'where' });
  const terms = rest.map(parsePatternTerm);
  const a = terms[1];
  if (a && a.kind === 'const' && typeof a.value === 'string') terms[1] = constant(kw(a.value));
  return Object.freeze({ kind: 'pattern', source, terms: Object.freeze(terms) });
}

export function parseListClause(x: List, ctx: ClauseCtx): Clause {
  const all = x.items as unknown[];
  let source: SrcVar = DEFAULT_SRC;
  let explicit = false;
  let rest = all;
  const s = parseSrcVar(all[0]);
  if (s) {
    source = s;
    explicit = true;
    rest = all.slice(1);
  }
  const head = rest[0];
  if (!(head instanceof Sym)) throw unknownClause(x);
  const body = rest.slice(1);
  switch (head.fqn) {
    case 'not': {
      if (body.length === 0) throw queryError('query/parse', "Cannot parse 'not' clause, expected [ src-var? 'not' clause+ ]", x, { part: 'where' });
      if (explicit) ctx.explicitSources.add(source.name);
      const clauses = Object.freeze(parseClauses(body, ctx));
      const joinVars = Object.freeze(collectVars(clauses));
      const n: Not = Object.freeze({ kind: 'not', source, vars: null, clauses, joinVars });
      return n;
    }
    case 'not-join': {
      const vs = body[0];
      if (!Array.isArray(vs) || body.length < 2 || !vs.every(isVarSym)) {
        throw queryError('query/parse', "Cannot parse 'not-join' clause, expected [ src-var? 'not-join' [variable+] clause+ ]", x, { part: 'where' });
      }
      if (vs.length === 0) throw queryError('query/parse', 'Join variables should not be empty', x, { part: 'where' });
      if (explicit) ctx.explicitSources.add(source.name);
      const vars = Object.freeze(vs.map((v) => variable((v as Sym).fqn)));
      const clauses = Object.freeze(parseClauses(body.slice(1), ctx));
      return Object.freeze({ kind: 'not', source, vars, clauses, joinVars: vars });
    }
    case 'or':
    case 'or-join': {
      const isJoin = head.fqn === 'or-join';
      let vars: RuleVars | null = null;
      let branchesRaw = body;
      if (isJoin) {
        vars = body.length > 0 ? tryRuleVars(body[0]) : null;
        if (!vars || body.length < 2) {
          throw queryError('query/parse', "Cannot parse 'or-join' clause, expected [ src-var? 'or-join' [variable+] clause+ ]", x, { part: 'where' });
        }
        branchesRaw = body.slice(1);
      } else if (body.length === 0) {
        throw queryError('query/parse', "Cannot parse 'or' clause, expected [ src-var? 'or' clause+ ]", x, { part: 'where' });
      }
      if (explicit) ctx.explicitSources.add(source.name);
      const clauses = Object.freeze(branchesRaw.map((b) => parseOrBranch(b, ctx)));
      let joinVars: readonly Variable[];
      if (vars) {
        joinVars = Object.freeze([...vars.required, ...vars.free]);
      } else {
        // DataScript: all branches of `or` must use the same set of free variables — those not
        // bound before the `or` (a branch may name `_` or test a bound variable the others do not)
        const bound = ctx.bound ?? new Set<string>();
        const sets = clauses.map((c) => collectVars([c]).map((v) => v.name).filter((n) => !bound.has(n)));
        const first = new Set(sets[0]!);
        for (const s2 of sets) {
          if (s2.length !== first.size || s2.some((n) => !first.has(n))) {
            throw queryError('query/or-vars', "All clauses in 'or' must use same set of free vars", x, { vars: sets });
          }
        }
        joinVars = Object.freeze(collectVars(clauses));
      }
      const o: Or = Object.freeze({ kind: 'or', source, vars, clauses, joinVars });
      return o;
    }
    default: {
      // rule call
      if (body.length === 0) throw queryError('query/parse', 'rule-expr requires at least one argument', x, { part: 'where' });
      if (explicit) ctx.explicitSources.add(source.name);
      ctx.ruleCalls = true;
      const r: RuleCall = Object.freeze({ kind: 'rule-call', source, name: head.fqn, args: Object.freeze(body.map(parsePatternTerm)) });
      return r;
    }
  }
}

export function parseOrBranch(b: unknown, ctx: ClauseCtx): Clause {
  if (b instanceof List && isSymNamed(b.items[0], 'and')) {
    const body = b.items.slice(1) as unknown[];
    if (body.length === 0) throw queryError('query/parse', "Cannot parse 'and' clause, expected [ 'and' clause+ ]", b, { part: 'where' });
    const a: And = Object.freeze({ kind: 'and', clauses: Object.freeze(parseClauses(body, ctx)) });
    return a;
  }
  return parseClause(b, ctx);
}

export function tryRuleVars(x: unknown): RuleVars | null {
  if (!Array.isArray(x) || x.length === 0) return null;
  let required: Variable[] = [];
  let rest = x;
  if (Array.isArray(x[0])) {
    const req = x[0] as unknown[];
    if (req.length === 0 || !req.every(isVarSym)) return null;
    required = req.map((v) => variable((v as Sym).fqn));
    rest = x.slice(1);
  }
  if (!rest.every(isVarSym)) return null;
  const free = rest.map((v) => variable((v as Sym).fqn));
  if (required.length === 0 && free.length === 0) return null;
  return Object.freeze({ required: Object.freeze(required), free: Object.freeze(free) });
}

/** All variables of clauses (nested bodies included), in first-appearance order, deduplicated. */
export function collectVars(clauses: readonly Clause[]): Variable[] {
  const seen = new Set<string>();
  const out: Variable[] = [];
  const add = (v: { kind: string }) => {
    if (v.kind === 'var' && !seen.has((v as Variable).name)) {
      seen.add((v as Variable).name);
      out.push(v as Variable);
    }
  };
  const visit = (c: Clause): void => {
    switch (c.kind) {
      case 'pattern':
        c.terms.forEach(add);
        break;
      case 'pred':
        add(c.fn);
        c.args.forEach(add);
        break;
      case 'fn':
        add(c.fn);
        c.args.forEach(add);
        bindingVars(c.binding).forEach(add);
        break;
      case 'rule-call':
        c.args.forEach(add);
        break;
      case 'not':
        if (c.vars) c.vars.forEach(add);
        c.clauses.forEach(visit);
        break;
      case 'or':
        if (c.vars) {
          c.vars.required.forEach(add);
          c.vars.free.forEach(add);
        } else c.clauses.forEach(visit);
        break;
      case 'and':
        c.clauses.forEach(visit);
        break;
    }
  };
  clauses.forEach(visit);
  return out;
}
