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
 *
 * Here: the query map, `:find`, `:in`, the query-level checks and rule sets; terms and bindings are
 * in `parse-terms.ts`, `:where` clauses in `parse-where.ts`.
 */
import { type EdnValue, isKeyword, Keyword, List, parseEdn, Sym } from '@dataloom/core';
import type { Aggregate, Constant, FindElem, FindSpec, PlainSymbol, PullElem, Query, ReturnMap, Rule, RuleBranch, Rules, SrcVar, Variable } from './ast.js';
import { bindingVars, walkClauses } from './ast.js';
import { queryError } from './errors.js';
import { DEFAULT_SRC, isVarSym, isSrcSym, isSymNamed, variable, constant, plainSymbol, parseVariable, parseSrcVar, items, parseFnArg, parseIn } from './parse-terms.js';
import { newCtx, parseClauses, tryRuleVars, collectVars } from './parse-where.js';

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
    // DataScript's query->map: values after each keyword are collected under it; a keyword with
    // no values adds no section (`[:find ?e :in :where …]` has the default `:in`).
    const out: Record<string, unknown[]> = {};
    let key: string | null = null;
    for (const x of q) {
      if (isKeyword(x)) {
        key = x.fqn;
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
  const declaredIn = qm.in !== undefined ? parseIn(qm.in) : null;
  const inBound: Variable[] = [];
  for (const b of declaredIn ?? []) if (b.kind !== 'src' && b.kind !== 'rules') bindingVars(b, inBound);
  const ctx = newCtx(new Set(inBound.map((v) => v.name)));
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
  const inb = Object.freeze(declaredIn ?? (hasPattern ? [DEFAULT_SRC] : []));
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
    // the head's variables may be bound by the call
    const clauses = Object.freeze(parseClauses(r.slice(1), newCtx(new Set(names))));
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
