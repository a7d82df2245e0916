/**
 * Five-element data patterns for the history database.
 *
 * `@dataloom/query`'s evaluator matches patterns of 1 to 5 terms (`[?e ?a ?v ?tx ?added]`)
 * against a collection-of-tuples source, but its parser follows DataScript 1.8 and refuses a
 * fifth term. Until the parser accepts it, {@link parseHistoryQuery} works around that on the
 * client side: each 5-term pattern `[$? e a v tx added]` of the `:where` clause (also inside
 * `not`, `not-join`, `or`, `or-join`, `and`) is split into `[$? e a v tx]` followed by the marker
 * pattern `[$__dataloom_added added]` (so the parser sees every variable bound), and after parsing
 * the two are fused back into one 5-term pattern in the AST; the marker source is dropped from
 * `:in`. Semantics are exactly those of a 5-term pattern. Patterns inside rules passed as `%` are
 * not rewritten (4 terms there).
 *
 * Queries given as an EDN string or vector are rewritten; map/object forms and already parsed
 * queries are passed through unchanged.
 */
import { Keyword, List, Sym, kw, parseEdn, sym } from '@dataloom/core';
import { parseQuery, type Clause, type Pattern, type Query } from '@dataloom/query';

const MARK = '$__dataloom_added';
const cache = new Map<string, Query>();
const CACHE_MAX = 256;

const isSrc = (x: unknown): x is Sym => x instanceof Sym && x.ns === null && x.name.startsWith('$');

/** A pattern vector (not a `[(pred …)]` / `[(fn …) binding]` call)? */
function isPatternVector(x: unknown): x is unknown[] {
  return Array.isArray(x) && x.length > 0 && !(x[0] instanceof List);
}

/** Rewrites one clause into one or two clauses (two for a 5-term pattern). */
function rewriteClause(c: unknown, state: { n: number }): unknown[] {
  if (isPatternVector(c)) {
    const src = isSrc(c[0]) ? c[0] : null;
    const terms = src ? c.slice(1) : c;
    if (terms.length !== 5) return [c];
    state.n++;
    return [[...(src ? [src] : []), ...terms.slice(0, 4)], [sym(MARK), terms[4]]];
  }
  if (c instanceof List) {
    const items = c.items;
    // `($src or …)` etc.: the operator follows an optional source
    const off = isSrc(items[0]) ? 1 : 0;
    const op = items[off] instanceof Sym ? (items[off] as Sym).name : null;
    if (op === 'not' || op === 'and') return [new List([...items.slice(0, off + 1), ...rewriteAll(items.slice(off + 1), state)] as never)];
    if (op === 'not-join') return [new List([...items.slice(0, off + 2), ...rewriteAll(items.slice(off + 2), state)] as never)];
    if (op === 'or' || op === 'or-join') {
      const start = off + (op === 'or' ? 1 : 2);
      const branches = items.slice(start).map((b) => {
        const out = rewriteClause(b, state);
        return out.length === 1 ? out[0] : new List([sym('and'), ...out] as never);
      });
      return [new List([...items.slice(0, start), ...branches] as never)];
    }
  }
  return [c];
}

function rewriteAll(cs: readonly unknown[], state: { n: number }): unknown[] {
  return cs.flatMap((c) => rewriteClause(c, state));
}

/** Fuses `[… e a v tx]` + `[$__dataloom_added added]` back into one 5-term pattern. */
function fuse(cs: readonly Clause[]): Clause[] {
  const out: Clause[] = [];
  for (const c of cs) {
    if (c.kind === 'pattern' && c.source.name === MARK) {
      const prev = out.pop() as Pattern;
      out.push(Object.freeze({ ...prev, terms: Object.freeze([...prev.terms, c.terms[0]!]) }));
    } else if (c.kind === 'not' || c.kind === 'or' || c.kind === 'and') {
      out.push(Object.freeze({ ...c, clauses: Object.freeze(fuse(c.clauses)) }) as Clause);
    } else out.push(c);
  }
  return out;
}

/**
 * Parses `query` for the history database, accepting 5-term data patterns (see module docs).
 * Returns the query unchanged when it is not an EDN string or vector.
 */
export function parseHistoryQuery(query: unknown): unknown {
  const key = typeof query === 'string' ? query : null;
  if (key !== null) {
    const hit = cache.get(key);
    if (hit) return hit;
  }
  const form = typeof query === 'string' ? parseEdn(query) : query;
  if (!Array.isArray(form)) return query;
  const whereAt = form.findIndex((x) => x instanceof Keyword && x.fqn === 'where');
  if (whereAt < 0) return query;
  let end = form.findIndex((x, i) => i > whereAt && x instanceof Keyword);
  if (end < 0) end = form.length;
  const state = { n: 0 };
  const where = rewriteAll(form.slice(whereAt + 1, end), state);
  if (state.n === 0) return query;
  let rewritten = [...form.slice(0, whereAt + 1), ...where, ...form.slice(end)];
  const inAt = rewritten.findIndex((x) => x instanceof Keyword && x.fqn === 'in');
  if (inAt >= 0) {
    let inEnd = rewritten.findIndex((x, i) => i > inAt && x instanceof Keyword);
    if (inEnd < 0) inEnd = rewritten.length;
    rewritten = [...rewritten.slice(0, inEnd), sym(MARK), ...rewritten.slice(inEnd)];
  } else {
    rewritten = [...rewritten.slice(0, whereAt), kw('in'), sym('$'), sym(MARK), ...rewritten.slice(whereAt)];
  }
  const parsed = parseQuery(rewritten as never);
  const ins = parsed.in.filter((b) => !(b.kind === 'src' && b.name === MARK));
  const fixed: Query = Object.freeze({ ...parsed, in: Object.freeze(ins), where: Object.freeze(fuse(parsed.where)), form: form as never });
  if (key !== null) {
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(key, fixed);
  }
  return fixed;
}
