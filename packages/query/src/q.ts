/**
 * `q(query, ...inputs)`: DataScript's `d/q` on Dataloom databases.
 */
import { type EdnValue, parseEdn } from '@dataloom/core';
import type { Binding, Query, Rules } from './ast.js';
import { queryError } from './errors.js';
import { analyze, evalBody } from './eval/body.js';
import { bindValue, printBinding } from './eval/bind.js';
import type { Ctx } from './eval/context.js';
import { shapeResult } from './eval/find.js';
import { isDb, type Source } from './eval/pattern.js';
import { join, type Relation, UNIT } from './eval/relation.js';
import { callRule, type RuleEngine, type RuleTableStats } from './eval/rules.js';
import { parseQuery, parseRules } from './parser.js';

const QUERY_CACHE_MAX = 256;
const queryCache = new Map<string, Query>();
const rulesCache = new WeakMap<object, Rules>();
const rulesTextCache = new Map<string, Rules>();

/** Parses (with a small cache for EDN strings) a query given as text or data. */
export function toQuery(query: string | EdnValue | Query | Record<string, unknown>): Query {
  if (typeof query === 'string') {
    let parsed = queryCache.get(query);
    if (!parsed) {
      parsed = parseQuery(query);
      if (queryCache.size >= QUERY_CACHE_MAX) queryCache.delete(queryCache.keys().next().value as string);
      queryCache.set(query, parsed);
    }
    return parsed;
  }
  if (isParsedQuery(query)) return query;
  return parseQuery(query as EdnValue);
}

function isParsedQuery(x: unknown): x is Query {
  return typeof x === 'object' && x !== null && 'find' in x && 'where' in x && 'form' in x && typeof (x as Query).find === 'object' && (x as Query).find !== null && 'kind' in ((x as Query).find as object);
}

function toRules(x: unknown): Rules {
  if (x instanceof Map && [...x.values()].every((r) => r && typeof r === 'object' && 'branches' in r)) return x as Rules;
  if (typeof x === 'string') {
    let r = rulesTextCache.get(x);
    if (!r) {
      r = parseRules(x);
      if (rulesTextCache.size >= QUERY_CACHE_MAX) rulesTextCache.delete(rulesTextCache.keys().next().value as string);
      rulesTextCache.set(x, r);
    }
    return r;
  }
  if (x !== null && typeof x === 'object') {
    let r = rulesCache.get(x);
    if (!r) {
      r = parseRules(x as EdnValue);
      rulesCache.set(x, r);
    }
    return r;
  }
  return parseRules(x as EdnValue);
}

/**
 * Runs a DataScript query. `query` is an EDN string, parsed EDN (vector or map), a JS object
 * `{find, in, where, …}` or an already parsed {@link Query}. Inputs follow `:in` (default `[$]`
 * when `:where` has a data pattern, else `[]`): databases (or collections of tuples) for `$…`,
 * rules (EDN string or data) for `%`, values for bindings — an EDN string is read as EDN where a
 * string cannot be the value (rules, sources, collection/tuple/relation bindings).
 *
 * Result shapes: see docs/CONTRACTS.md ("Results of q").
 * Errors: `DataloomError` with a `query/…` code (see `errors.ts`); lookup refs that match nothing
 * raise core's `entity-id/missing`.
 */
export function q(query: string | EdnValue | Query | Record<string, unknown>, ...inputs: unknown[]): unknown {
  return run(query, inputs).result;
}

/**
 * Like {@link q}, also returning the rule tables' sizes (`rules`) — for tests and diagnostics of
 * demand-driven rule evaluation. Internal: not exported from the package index.
 */
export function qWithStats(query: string | EdnValue | Query | Record<string, unknown>, ...inputs: unknown[]): { result: unknown; rules: RuleTableStats[] } {
  return run(query, inputs);
}

function run(query: string | EdnValue | Query | Record<string, unknown>, inputs: unknown[]): { result: unknown; rules: RuleTableStats[] } {
  const parsed = toQuery(query);
  const ins = parsed.in;
  if (inputs.length !== ins.length) {
    const expected = '[' + ins.map(printIn).join(' ') + ']';
    throw queryError(
      'query/inputs',
      `${inputs.length < ins.length ? 'Too few' : 'Extra'} inputs passed, expected: ${expected}, got: ${inputs.length}`,
      parsed.form,
      { expected: ins.length, got: inputs.length },
    );
  }
  const sources = new Map<string, Source>();
  let rules: Rules | null = null;
  let rel: Relation = UNIT;
  ins.forEach((b, i) => {
    const x = inputs[i];
    if (b.kind === 'src') {
      let src: unknown = x;
      if (typeof src === 'string') src = parseEdn(src);
      if (!isDb(src) && !Array.isArray(src)) {
        if (src instanceof Set) src = [...src];
        else throw queryError('query/source', `Source ${b.name} must be a database or a collection of tuples`, b.name);
      }
      sources.set(b.name, src as Source);
    } else if (b.kind === 'rules') {
      rules = toRules(x);
    } else {
      rel = join(rel, bindValue(b, readInput(b, x)));
    }
  });
  const base: Ctx = { sources, implicit: sources.get('$'), rules, ordered: false, estimates: new Map(), state: {}, callRule };
  const info = analyze(base, parsed.where, new Set(rel.vars));
  const ctx: Ctx = info.mayThrow ? { ...base, ordered: true } : base;
  const result = evalBody(ctx, parsed.where, rel);
  const engine = ctx.state.rulesEngine as RuleEngine | undefined;
  return { result: shapeResult(ctx, parsed, result), rules: engine ? engine.stats() : [] };
}

function readInput(b: Binding, x: unknown): unknown {
  if (typeof x === 'string' && b.kind !== 'bind-scalar' && b.kind !== 'bind-ignore') return parseEdn(x);
  return x;
}

function printIn(b: Query['in'][number]): string {
  if (b.kind === 'src') return b.name;
  if (b.kind === 'rules') return '%';
  return printBinding(b);
}
