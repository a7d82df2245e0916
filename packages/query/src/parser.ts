/**
 * Parses DataScript queries and rule sets into the typed AST of `./ast.ts`, with DataScript's
 * validation (`datascript.parser`): the same forms are accepted and the same forms are rejected.
 *
 * Accepted inputs: an EDN string, a parsed EDN vector (`[:find … :where …]`), a parsed EDN map
 * (`{:find […] :where […]}`) or a plain JS object (`{find: […], in: […], where: […]}`, keys with or
 * without a leading `:`). Variables and function names must be symbols (`sym('?e')`) in parsed data.
 *
 * Normalisation: a string constant in the attribute position of a data pattern is read as the
 * keyword of that name (`"name"` and `":name"` both mean `:name`), as DataScript's JS API does.
 */
import { type EdnValue, isKeyword, Keyword, kw, List, parseEdn, Sym } from '@dataloom/core';
import type {
  Aggregate,
  And,
  Binding,
  Blank,
  Clause,
  Constant,
  FindElem,
  FindSpec,
  FnArg,
  InBinding,
  Not,
  Or,
  Pattern,
  PatternTerm,
  PlainSymbol,
  PullElem,
  Query,
  ReturnMap,
  Rule,
  RuleBranch,
  RuleCall,
  Rules,
  RuleVars,
  SrcVar,
  Variable,
} from './ast.js';
import { bindingVars, walkClauses } from './ast.js';
import { queryError } from './errors.js';

const DEFAULT_SRC: SrcVar = Object.freeze({ kind: 'src', name: '$' });
const BLANK: Blank = Object.freeze({ kind: 'blank' });

// ---------------------------------------------------------------------------------------------
// Terms

const isVarSym = (x: unknown): x is Sym => x instanceof Sym && x.fqn.length > 0 && x.fqn[0] === '?';
const isSrcSym = (x: unknown): x is Sym => x instanceof Sym && x.fqn.length > 0 && x.fqn[0] === '$';
const isSymNamed = (x: unknown, name: string): boolean => x instanceof Sym && x.fqn === name;

const varCache = new Map<string, Variable>();
/** The (shared, frozen) Variable node for `name`. */
export function variable(name: string): Variable {
  let v = varCache.get(name);
  if (v === undefined) {
    v = Object.freeze({ kind: 'var', name });
    varCache.set(name, v);
  }
  return v;
}
function srcVar(name: string): SrcVar {
  return name === '$' ? DEFAULT_SRC : Object.freeze({ kind: 'src', name });
}
function constant(value: EdnValue): Constant {
  return Object.freeze({ kind: 'const', value });
}
function plainSymbol(s: Sym): PlainSymbol {
  return Object.freeze({ kind: 'sym', name: s.fqn, sym: s });
}

function parseVariable(x: unknown): Variable | null {
  return isVarSym(x) ? variable(x.fqn) : null;
}
function parseSrcVar(x: unknown): SrcVar | null {
  return isSrcSym(x) ? srcVar(x.fqn) : null;
}

function items(x: List | readonly unknown[]): readonly unknown[] {
  return x instanceof List ? (x.items as readonly unknown[]) : x;
}

/** Pattern / rule-call term: variable, `_`, or constant (any non-variable value, symbols included). */
function parsePatternTerm(x: unknown): PatternTerm {
  if (isSymNamed(x, '_')) return BLANK;
  const v = parseVariable(x);
  if (v) return v;
  return constant(x as EdnValue);
}

/** Function argument: variable, source variable or constant. */
function parseFnArg(x: unknown): FnArg {
  return parseVariable(x) ?? parseSrcVar(x) ?? constant(x as EdnValue);
}

// ---------------------------------------------------------------------------------------------
// Query → map

interface QueryMap {
  find?: unknown[];
  with?: unknown[];
  in?: unknown[];
  where?: unknown[];
  keys?: unknown[];
  strs?: unknown[];
  syms?: unknown[];
}
const SECTIONS = new Set(['find', 'with', 'in', 'where', 'keys', 'strs', 'syms']);

function toQueryMap(q: unknown): QueryMap {
  if (Array.isArray(q)) {
    // DataScript's query->map: values after each keyword are collected under it.
    const out: Record<string, unknown[]> = {};
    let key: string | null = null;
    for (const x of q) {
      if (isKeyword(x)) {
        key = x.fqn;
        out[key] ??= [];
      } else {
        const k = key ?? '';
        (out[k] ??= []).push(x);
      }
    }
    return out as QueryMap;
  }
  if (q instanceof Map) {
    const out: Record<string, unknown[]> = {};
    for (const [k, v] of q) {
      const name = isKeyword(k) ? k.fqn : typeof k === 'string' ? k.replace(/^:/, '') : null;
      if (name === null) continue;
      out[name] = asSeq(v, name, q);
    }
    return out as QueryMap;
  }
  if (typeof q === 'object' && q !== null && !(q instanceof List) && !(q instanceof Sym) && !(q instanceof Keyword)) {
    const out: Record<string, unknown[]> = {};
    for (const [k, v] of Object.entries(q as Record<string, unknown>)) {
      const name = k.replace(/^:/, '');
      if (SECTIONS.has(name)) out[name] = asSeq(v, name, q);
    }
    return out as QueryMap;
  }
  throw queryError('query/parse', 'Query should be a vector or a map', q, { part: 'query' });
}

function asSeq(v: unknown, section: string, q: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v instanceof List) return [...v.items];
  if (section === 'find') throw queryError('query/parse', 'Cannot parse :find, expected: (find-rel | find-coll | find-tuple | find-scalar)', v, { part: 'find' });
  throw queryError('query/parse', `Query section :${section} should be a vector`, q, { part: section });
}

// ---------------------------------------------------------------------------------------------
// :find

function parseFindElem(x: unknown): FindElem | null {
  const v = parseVariable(x);
  if (v) return v;
  if (!(x instanceof List) || x.items.length === 0) return null;
  const [head, ...rest] = x.items as unknown[];
  if (isSymNamed(head, 'pull')) return parsePull(x, rest);
  if (isSymNamed(head, 'aggregate')) {
    // (aggregate ?f args… ?x): a custom aggregate bound by :in
    const f = parseVariable(rest[0]);
    if (!f || rest.length < 2) throw queryError('query/parse', 'Cannot parse custom aggregate, expected (aggregate ?fn args… ?x)', x, { part: 'find' });
    return parseAggregateArgs(f, rest.slice(1), x);
  }
  if (head instanceof Sym && rest.length >= 1) {
    const fn = parseVariable(head) ?? plainSymbol(head);
    return parseAggregateArgs(fn, rest, x);
  }
  return null;
}

function parseAggregateArgs(fn: PlainSymbol | Variable, rest: unknown[], form: unknown): Aggregate {
  const args = rest.map(parseFnArg);
  if (args[args.length - 1]!.kind !== 'var') {
    throw queryError('query/parse', 'Aggregate should end with a variable', form, { part: 'find' });
  }
  return Object.freeze({ kind: 'aggregate', fn, args: Object.freeze(args) });
}

function parsePull(form: List, rest: unknown[]): PullElem {
  let source = DEFAULT_SRC;
  let args = rest;
  const s = parseSrcVar(args[0]);
  if (s) {
    source = s;
    args = args.slice(1);
  }
  const v = parseVariable(args[0]);
  if (args.length !== 2 || !v) {
    throw queryError('query/parse', 'Cannot parse pull expression, expected (pull src-var? ?var (?pattern | pattern))', form, { part: 'find' });
  }
  const p = args[1];
  const pv = parseVariable(p);
  let pattern: Variable | Constant;
  if (pv) pattern = pv;
  else if (Array.isArray(p) || p instanceof List) pattern = constant(p as EdnValue);
  else throw queryError('query/parse', 'Expected pull pattern to be a vector', form, { part: 'find' });
  return Object.freeze({ kind: 'pull', source, variable: v, pattern });
}

function parseFind(find: unknown[] | undefined): FindSpec {
  const bad = () =>
    queryError('query/parse', 'Cannot parse :find, expected: (find-rel | find-coll | find-tuple | find-scalar)', find ?? null, { part: 'find' });
  if (!find || find.length === 0) throw bad();
  // scalar: ?x .
  if (find.length === 2 && isSymNamed(find[1], '.')) {
    const e = parseFindElem(find[0]);
    if (!e) throw bad();
    return Object.freeze({ kind: 'scalar', elements: Object.freeze([e]) as [FindElem] });
  }
  if (find.length === 1 && Array.isArray(find[0])) {
    const inner = find[0] as unknown[];
    if (inner.length === 2 && isSymNamed(inner[1], '...')) {
      const e = parseFindElem(inner[0]);
      if (!e) throw bad();
      return Object.freeze({ kind: 'coll', elements: Object.freeze([e]) as [FindElem] });
    }
    if (inner.length === 0) throw bad();
    const els = inner.map(parseFindElem);
    if (els.some((e) => e === null)) throw bad();
    return Object.freeze({ kind: 'tuple', elements: Object.freeze(els as FindElem[]) });
  }
  const els = find.map(parseFindElem);
  if (els.some((e) => e === null)) throw bad();
  return Object.freeze({ kind: 'rel', elements: Object.freeze(els as FindElem[]) });
}

function findElemVars(e: FindElem, out: Variable[]): void {
  if (e.kind === 'var') out.push(e);
  else if (e.kind === 'pull') {
    out.push(e.variable);
    if (e.pattern.kind === 'var') out.push(e.pattern);
  } else {
    if (e.fn.kind === 'var') out.push(e.fn);
    for (const a of e.args) if (a.kind === 'var') out.push(a);
  }
}

// ---------------------------------------------------------------------------------------------
// Bindings

/** Parses a binding form (`?x`, `_`, `[?a ?b]`, `[?x ...]`, `[[?a ?b]]`). */
export function parseBinding(x: unknown): Binding {
  if (isSymNamed(x, '_')) return Object.freeze({ kind: 'bind-ignore' });
  const v = parseVariable(x);
  if (v) return Object.freeze({ kind: 'bind-scalar', variable: v });
  if (Array.isArray(x) && x.length > 0) {
    if (x.length === 2 && isSymNamed(x[1], '...')) {
      return Object.freeze({ kind: 'bind-coll', element: parseBinding(x[0]) });
    }
    if (x.length === 1 && Array.isArray(x[0])) {
      // relation [[?a ?b]]
      return Object.freeze({ kind: 'bind-coll', element: parseBindTuple(x[0], x) });
    }
    return parseBindTuple(x, x);
  }
  throw queryError('query/parse', 'Cannot parse binding, expected (bind-scalar | bind-tuple | bind-coll | bind-rel)', x, { part: 'binding' });
}

function parseBindTuple(x: unknown[], form: unknown): Binding {
  if (x.length === 0) throw queryError('query/parse', 'Cannot parse binding, expected (bind-scalar | bind-tuple | bind-coll | bind-rel)', form, { part: 'binding' });
  return Object.freeze({ kind: 'bind-tuple', elements: Object.freeze(x.map(parseBinding)) });
}

function parseIn(xs: unknown[]): InBinding[] {
  return xs.map((x) => {
    const s = parseSrcVar(x);
    if (s) return s;
    if (isSymNamed(x, '%')) return Object.freeze({ kind: 'rules' as const });
    try {
      return parseBinding(x);
    } catch {
      throw queryError('query/parse', 'Cannot parse :in, expected (src-var | % | plain-symbol | bind-scalar | bind-tuple | bind-coll | bind-rel)', x, { part: 'in' });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// :where

/** Context while parsing clauses: collects facts the query-level validation needs. */
interface ClauseCtx {
  /** Explicit source variables used anywhere. */
  explicitSources: Set<string>;
  /** Rule calls seen. */
  ruleCalls: boolean;
}

function newCtx(): ClauseCtx {
  return { explicitSources: new Set(), ruleCalls: false };
}

/** Parses a vector of where-clauses. */
export function parseClauses(xs: readonly unknown[], ctx: ClauseCtx = newCtx()): Clause[] {
  return xs.map((x) => parseClause(x, ctx));
}

function parseClause(x: unknown, ctx: ClauseCtx): Clause {
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

function unknownClause(x: unknown) {
  return queryError(
    'query/parse',
    'Cannot parse clause, expected (data-pattern | pred-expr | fn-expr | rule-expr | not-clause | not-join-clause | or-clause | or-join-clause)',
    x,
    { part: 'where' },
  );
}

function parsePattern(x: unknown[], ctx: ClauseCtx): Pattern {
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

function parseListClause(x: List, ctx: ClauseCtx): Clause {
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
        // DataScript: all branches of `or` must use the same set of variables.
        const sets = clauses.map((c) => new Set(collectVars([c]).map((v) => v.name)));
        const first = sets[0]!;
        for (const s2 of sets) {
          if (s2.size !== first.size || [...s2].some((n) => !first.has(n))) {
            throw queryError('query/or-vars', "All clauses in 'or' must use same set of free vars", x, {
              vars: sets.map((s3) => [...s3]),
            });
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

function parseOrBranch(b: unknown, ctx: ClauseCtx): Clause {
  if (b instanceof List && isSymNamed(b.items[0], 'and')) {
    const body = b.items.slice(1) as unknown[];
    if (body.length === 0) throw queryError('query/parse', "Cannot parse 'and' clause, expected [ 'and' clause+ ]", b, { part: 'where' });
    const a: And = Object.freeze({ kind: 'and', clauses: Object.freeze(parseClauses(body, ctx)) });
    return a;
  }
  return parseClause(b, ctx);
}

function tryRuleVars(x: unknown): RuleVars | null {
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

// ---------------------------------------------------------------------------------------------
// Query

function toData(q: unknown): unknown {
  return typeof q === 'string' ? parseEdn(q) : q;
}

/**
 * Parses a query (EDN string, parsed EDN vector/map, or JS object) into a validated {@link Query}.
 * Throws `query/parse`, `query/unknown-vars` or `query/or-vars` (see `./errors.ts`).
 */
export function parseQuery(q: string | EdnValue | Record<string, unknown>): Query {
  const form = toData(q) as EdnValue;
  const qm = toQueryMap(form);
  const find = parseFind(qm.find);
  const ctx = newCtx();
  const where = Object.freeze(parseClauses(qm.where ?? [], ctx));
  const withVars = Object.freeze(
    (qm.with ?? []).map((x) => {
      const v = parseVariable(x);
      if (!v) throw queryError('query/parse', 'Cannot parse :with clause, expected [ variable+ ]', qm.with, { part: 'with' });
      return v;
    }),
  );
  let hasPattern = false;
  walkClauses(where, (c) => {
    if (c.kind === 'pattern') hasPattern = true;
  });
  const inb = Object.freeze(qm.in !== undefined ? parseIn(qm.in) : hasPattern ? [DEFAULT_SRC] : []);
  const returnMap = parseReturnMap(qm, form);

  // ---- validation (datascript.parser/validate-query)
  const inVars: Variable[] = [];
  const inSources = new Set<string>();
  let hasRulesVar = false;
  for (const b of inb) {
    if (b.kind === 'src') inSources.add(b.name);
    else if (b.kind === 'rules') hasRulesVar = true;
    else bindingVars(b, inVars);
  }
  const whereVars = new Set(collectVars(where).map((v) => v.name));
  const known = new Set([...whereVars, ...inVars.map((v) => v.name)]);
  const findVars: Variable[] = [];
  for (const e of find.elements) findElemVars(e, findVars);
  const unknown = [...findVars, ...withVars].filter((v) => !known.has(v.name));
  if (unknown.length > 0) {
    throw queryError('query/unknown-vars', `Query for unknown vars: [${[...new Set(unknown.map((v) => v.name))].join(' ')}]`, form, {
      vars: unknown.map((v) => v.name),
    });
  }
  const inNames = inVars.map((v) => v.name);
  if (new Set(inNames).size !== inNames.length) {
    throw queryError('query/parse', 'Vars used in :in should be distinct', form, { part: 'in' });
  }
  const withNames = new Set(withVars.map((v) => v.name));
  const shared = findVars.filter((v) => withNames.has(v.name));
  if (shared.length > 0) {
    throw queryError('query/parse', `:find and :with should not use same variables: [${shared.map((v) => v.name).join(' ')}]`, form, {
      part: 'with',
    });
  }
  const srcNames = inb.filter((b) => b.kind === 'src').map((b) => (b as SrcVar).name);
  if (new Set(srcNames).size !== srcNames.length) {
    throw queryError('query/parse', 'Vars used in :in should be distinct', form, { part: 'in' });
  }
  if (ctx.ruleCalls && !hasRulesVar) {
    throw queryError('query/parse', "Missing rules var '%' in :in", form, { part: 'in' });
  }
  const unknownSrc = [...ctx.explicitSources].filter((s) => !inSources.has(s));
  if (unknownSrc.length > 0) {
    throw queryError('query/parse', `Where uses unknown source vars: [${unknownSrc.join(' ')}]`, form, { part: 'where', vars: unknownSrc });
  }
  if (returnMap) {
    if (find.kind === 'scalar') throw queryError('query/parse', `:${returnMap.kind} does not work with single-scalar :find`, form, { part: 'find' });
    if (find.kind === 'coll') throw queryError('query/parse', `:${returnMap.kind} does not work with collection :find`, form, { part: 'find' });
    if (returnMap.names.length !== find.elements.length) {
      throw queryError('query/parse', `Count of :${returnMap.kind} must match count of :find`, form, { part: 'find' });
    }
  }
  return Object.freeze({ find, returnMap, with: withVars, in: inb, where, form });
}

function parseReturnMap(qm: QueryMap, form: unknown): ReturnMap | null {
  const kinds = (['keys', 'strs', 'syms'] as const).filter((k) => qm[k] !== undefined);
  if (kinds.length === 0) return null;
  if (kinds.length > 1) throw queryError('query/parse', 'Only one of :keys/:syms/:strs must be present', form, { part: 'find' });
  const kind = kinds[0]!;
  const names = qm[kind]!.map((x) => {
    if (x instanceof Sym) return x.fqn;
    if (x instanceof Keyword) return x.fqn;
    if (typeof x === 'string') return x.replace(/^:/, '');
    throw queryError('query/parse', `Cannot parse :${kind}, expected symbols`, qm[kind], { part: 'find' });
  });
  return Object.freeze({ kind, names: Object.freeze(names) });
}

// ---------------------------------------------------------------------------------------------
// Rules

/**
 * Parses a rule set: `[[(name ?a [?b] ?c) clause…] …]` as an EDN string or parsed data.
 * Branches with the same name form one {@link Rule}; all branches must have the same arity.
 */
export function parseRules(rules: string | EdnValue): Rules {
  const data = toData(rules);
  const out = new Map<string, { name: string; branches: RuleBranch[] }>();
  if (data === null || data === undefined) return out;
  if (!Array.isArray(data) && !(data instanceof List)) {
    throw queryError('query/parse', 'Cannot parse rules, expected [rule+]', data, { part: 'rule' });
  }
  for (const r of items(data)) {
    if (!Array.isArray(r) || r.length === 0) throw queryError('query/parse', 'Cannot parse rule, expected [rule-head clause+]', r, { part: 'rule' });
    const head = r[0];
    if (!(head instanceof List) || !(head.items[0] instanceof Sym) || isVarSym(head.items[0]) || isSrcSym(head.items[0])) {
      throw queryError('query/parse', 'Cannot parse rule head, expected [rule-name rule-vars]', r, { part: 'rule' });
    }
    const name = (head.items[0] as Sym).fqn;
    const rawVars = head.items.slice(1) as unknown[];
    for (const v of rawVars) {
      if (!(Array.isArray(v) ? v.every(isVarSym) : isVarSym(v))) {
        throw queryError('query/parse', 'Cannot parse var, expected symbol starting with ?', v, { part: 'rule' });
      }
    }
    const vars = tryRuleVars(rawVars);
    if (!vars) throw queryError('query/parse', 'Cannot parse rule-vars, expected [ variable+ | ([ variable+ ] variable*) ]', head, { part: 'rule' });
    const names = [...vars.required, ...vars.free].map((v) => v.name);
    if (new Set(names).size !== names.length) throw queryError('query/parse', 'Rule variables should be distinct', head, { part: 'rule' });
    if (r.length < 2) throw queryError('query/parse', 'Rule branch should have clauses', r, { part: 'rule' });
    const clauses = Object.freeze(parseClauses(r.slice(1)));
    let rule = out.get(name);
    if (!rule) {
      rule = { name, branches: [] };
      out.set(name, rule);
    } else {
      const b0 = rule.branches[0]!;
      const arity0 = b0.vars.required.length + b0.vars.free.length;
      if (arity0 !== names.length || b0.vars.required.length !== vars.required.length) {
        throw queryError('query/parse', `Arity mismatch for rule '${name}'`, r, { part: 'rule' });
      }
    }
    rule.branches.push(Object.freeze({ vars, clauses }));
  }
  const frozen = new Map<string, Rule>();
  for (const [k, v] of out) frozen.set(k, Object.freeze({ name: v.name, branches: Object.freeze(v.branches) }));
  return frozen;
}

