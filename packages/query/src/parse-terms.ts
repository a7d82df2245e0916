/**
 * The smallest parts of the query language's forms: variables, source variables, constants and
 * plain symbols as pattern and function terms, and `:in` bindings (`datascript.parser`'s terms).
 */
import { type EdnValue, List, Sym } from '@dataloom/core';
import type { Binding, Blank, Constant, FnArg, InBinding, Pattern, PatternTerm, PlainSymbol, SrcVar, Variable } from './ast.js';
import { queryError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Constants
export const DEFAULT_SRC: SrcVar = Object.freeze({ kind: 'src', name: '$' });
export const BLANK: Blank = Object.freeze({ kind: 'blank' });

// ---------------------------------------------------------------------------------------------
// Terms

export const isVarSym = (x: unknown): x is Sym => x instanceof Sym && x.fqn.length > 0 && x.fqn[0] === '?';
export const isSrcSym = (x: unknown): x is Sym => x instanceof Sym && x.fqn.length > 0 && x.fqn[0] === '$';
export const isSymNamed = (x: unknown, name: string): boolean => x instanceof Sym && x.fqn === name;

export const varCache = new Map<string, Variable>();
/** The (shared, frozen) Variable node for `name`. */
export function variable(name: string): Variable {
  let v = varCache.get(name);
  if (v === undefined) {
    v = Object.freeze({ kind: 'var', name });
    varCache.set(name, v);
  }
  return v;
}
export function srcVar(name: string): SrcVar {
  return name === '$' ? DEFAULT_SRC : Object.freeze({ kind: 'src', name });
}
export function constant(value: EdnValue): Constant {
  return Object.freeze({ kind: 'const', value });
}
export function plainSymbol(s: Sym): PlainSymbol {
  return Object.freeze({ kind: 'sym', name: s.fqn, sym: s });
}

export function parseVariable(x: unknown): Variable | null {
  return isVarSym(x) ? variable(x.fqn) : null;
}
const EXPLICIT_DOLLAR: SrcVar = Object.freeze({ kind: 'src', name: '$', explicit: true });
/** A source variable as written (`$` written out is {@link SrcVar.explicit}). */
export function parseSrcVar(x: unknown): SrcVar | null {
  if (!isSrcSym(x)) return null;
  return x.fqn === '$' ? EXPLICIT_DOLLAR : srcVar(x.fqn);
}

export function items(x: List | readonly unknown[]): readonly unknown[] {
  return x instanceof List ? (x.items as readonly unknown[]) : x;
}

/** Pattern / rule-call term: variable, `_`, or constant (any non-variable value, symbols included). */
export function parsePatternTerm(x: unknown): PatternTerm {
  if (isSymNamed(x, '_')) return BLANK;
  const v = parseVariable(x);
  if (v) return v;
  return constant(x as EdnValue);
}

/** Function argument: variable, source variable or constant. */
export function parseFnArg(x: unknown): FnArg {
  return parseVariable(x) ?? parseSrcVar(x) ?? constant(x as EdnValue);
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

export function parseBindTuple(x: unknown[], form: unknown): Binding {
  if (x.length === 0) throw queryError('query/parse', 'Cannot parse binding, expected (bind-scalar | bind-tuple | bind-coll | bind-rel)', form, { part: 'binding' });
  return Object.freeze({ kind: 'bind-tuple', elements: Object.freeze(x.map(parseBinding)) });
}

export function parseIn(xs: unknown[]): InBinding[] {
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
