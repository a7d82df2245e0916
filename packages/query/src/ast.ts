/**
 * The typed AST of a DataScript query, produced by {@link parseQuery} and consumed by the one-shot
 * evaluator (`@dataloom/query`) and the incremental compiler (`@dataloom/dataflow`).
 *
 * The shapes follow DataScript's `datascript.parser` records closely, so DataScript's semantics map
 * one-to-one:
 *
 * ```
 * Query      = { find: FindSpec, returnMap?, with, in: InBinding[], where: Clause[] }
 * FindSpec   = rel `?a ?b` | coll `[?a ...]` | scalar `?a .` | tuple `[?a ?b]`
 * FindElem   = Variable | Aggregate `(f args… ?x)` | PullElem `(pull $? ?e pattern)`
 * InBinding  = SrcVar `$`, `$x` | RulesVar `%` | Binding
 * Binding    = BindScalar `?x` | BindTuple `[?a ?b]` | BindColl `[?x ...]` | BindIgnore `_`
 *              (a relation `[[?a ?b]]` is a BindColl of a BindTuple)
 * Clause     = Pattern `[$? e a v tx added]` | Predicate `[(f args)]` | FnCall `[(f args) binding]`
 *            | RuleCall `($? name args)` | Not / NotJoin | Or / OrJoin | And
 * ```
 *
 * Invariants (established by the parser, relied upon by every consumer):
 * - Every node is a plain, immutable object with a `kind` discriminant; nodes are never shared
 *   mutable state, so they can be cached and compiled freely.
 * - Variables are identified by `name` (the symbol text, e.g. `"?e"`); two `Variable` nodes with the
 *   same name denote the same variable within one query (rule bodies have their own scope).
 * - Source variables are named by their symbol text (`"$"`, `"$2"`); a clause with no explicit source
 *   gets `source = { kind: 'src', name: '$' }` (DataScript's default source).
 * - `Query.in` is already defaulted: when the query has no `:in` it is `[$]` if `:where` contains a
 *   data pattern (anywhere, including nested) and `[]` otherwise — DataScript's rule.
 * - `Query.where` keeps clause order as written; planners are free to reorder.
 * - Parse-time validation has run: find/with variables are bound by `:in` or `:where`, `:in`
 *   variables are distinct, `:find` and `:with` are disjoint, `:keys` counts match, sources used in
 *   `:where` are declared, rule calls require a `%` input, `or` branches use the same variables.
 *
 * @packageDocumentation
 */
import type { EdnValue, Sym } from '@dataloom/core';

/** A query variable such as `?e`. */
export interface Variable {
  readonly kind: 'var';
  /** The symbol text, e.g. `"?e"`. */
  readonly name: string;
}

/** A constant term: any EDN value that is not a symbol (keyword, string, number, vector, nil, …). */
export interface Constant {
  readonly kind: 'const';
  readonly value: EdnValue;
}

/** The placeholder `_`: matches anything, binds nothing. */
export interface Blank {
  readonly kind: 'blank';
}

/**
 * A data-source variable: `$` (the default source) or `$name`. A clause that names no source reads
 * the *current* default source, which `($2 not …)`, `($2 or …)` and `($2 rule …)` switch to `$2`
 * for their bodies; a clause that names `$` explicitly (`explicit`) always reads the query's `$`
 * input (DataScript's implicit source vs its `$` binding).
 */
export interface SrcVar {
  readonly kind: 'src';
  /** The symbol text, e.g. `"$"` or `"$2"`. */
  readonly name: string;
  /** Written in the query (absent on the default of a clause that names no source). */
  readonly explicit?: true;
}

/** The rules input `%`. */
export interface RulesVar {
  readonly kind: 'rules';
}

/**
 * A plain symbol that is not a variable: the function position of a predicate, function call or
 * aggregate (`<`, `str`, `clojure.string/blank?`, `count`).
 */
export interface PlainSymbol {
  readonly kind: 'sym';
  /** The symbol text, e.g. `"clojure.string/blank?"`. */
  readonly name: string;
  readonly sym: Sym;
}

// ---------------------------------------------------------------------------------------------
// :find

/** `(pull ?e pattern)` or `(pull $src ?e pattern)` in `:find`. */
export interface PullElem {
  readonly kind: 'pull';
  readonly source: SrcVar;
  /** The entity variable. */
  readonly variable: Variable;
  /** The pull pattern: a constant (`[*]`, `[:name {:friends [:name]}]`) or a variable bound by `:in`. */
  readonly pattern: Constant | Variable;
}

/**
 * An aggregate in `:find`: `(count ?x)`, `(max 3 ?x)`, `(sum ?x)`, `(?myagg ?x)`.
 * `args` are the arguments as written; the last one is always the aggregated variable and the
 * preceding ones (if any) are constants or variables bound by `:in` (e.g. the `n` of `(max n ?x)`).
 */
export interface Aggregate {
  readonly kind: 'aggregate';
  /** A built-in aggregate name, or a variable bound by `:in` to a custom aggregate function. */
  readonly fn: PlainSymbol | Variable;
  readonly args: readonly (Variable | Constant | SrcVar)[];
}

/** An element of a find spec. */
export type FindElem = Variable | Aggregate | PullElem;

/** `:find ?a ?b` — a set of tuples (a bag/array with `:with`, aggregates or pull). */
export interface FindRel {
  readonly kind: 'rel';
  readonly elements: readonly FindElem[];
}
/** `:find [?a ...]` — an array of single values. */
export interface FindColl {
  readonly kind: 'coll';
  readonly elements: readonly [FindElem];
}
/** `:find ?a .` — a single value or null. */
export interface FindScalar {
  readonly kind: 'scalar';
  readonly elements: readonly [FindElem];
}
/** `:find [?a ?b]` — a single tuple or null. */
export interface FindTuple {
  readonly kind: 'tuple';
  readonly elements: readonly FindElem[];
}
export type FindSpec = FindRel | FindColl | FindScalar | FindTuple;

/** `:keys`, `:strs` or `:syms`: each result tuple becomes a map with these keys. */
export interface ReturnMap {
  readonly kind: 'keys' | 'strs' | 'syms';
  /** The key names as written (without leading `:` for `:keys`). */
  readonly names: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Bindings (:in and function results)

/** `?x` — binds one value. */
export interface BindScalar {
  readonly kind: 'bind-scalar';
  readonly variable: Variable;
}
/** `_` — accepts one value and binds nothing. */
export interface BindIgnore {
  readonly kind: 'bind-ignore';
}
/** `[?a ?b _]` — destructures a sequence positionally. */
export interface BindTuple {
  readonly kind: 'bind-tuple';
  readonly elements: readonly Binding[];
}
/** `[?x ...]` — binds each element of a collection; `[[?a ?b]]` (a relation) is a coll of tuples. */
export interface BindColl {
  readonly kind: 'bind-coll';
  readonly element: Binding;
}
export type Binding = BindScalar | BindIgnore | BindTuple | BindColl;

/** One entry of `:in`. */
export type InBinding = SrcVar | RulesVar | Binding;

// ---------------------------------------------------------------------------------------------
// :where

/** A term of a data pattern. */
export type PatternTerm = Variable | Constant | Blank;

/** `[$? ?e :attr ?v ?tx ?added]` — matches datoms of `source`. 1 to 5 terms. */
export interface Pattern {
  readonly kind: 'pattern';
  readonly source: SrcVar;
  readonly terms: readonly PatternTerm[];
}

/** An argument of a predicate or function call. */
export type FnArg = Variable | Constant | SrcVar;

/** `[(pred args…)]` — keeps the rows for which the call is truthy. */
export interface Predicate {
  readonly kind: 'pred';
  /** A built-in name, or a variable bound by `:in` to a JS function. */
  readonly fn: PlainSymbol | Variable;
  readonly args: readonly FnArg[];
}

/** `[(f args…) binding]` — binds the call's result (nil result drops the row). */
export interface FnCall {
  readonly kind: 'fn';
  readonly fn: PlainSymbol | Variable;
  readonly args: readonly FnArg[];
  readonly binding: Binding;
}

/** `($? rule-name args…)` — calls a rule from the `%` input. */
export interface RuleCall {
  readonly kind: 'rule-call';
  readonly source: SrcVar;
  readonly name: string;
  readonly args: readonly PatternTerm[];
}

/**
 * `(not clauses…)` (`vars` = null: joins on every variable the body shares with the outside) or
 * `(not-join [?a ?b] clauses…)` (`vars` = the join variables, which must be bound).
 */
export interface Not {
  readonly kind: 'not';
  readonly source: SrcVar;
  readonly vars: readonly Variable[] | null;
  readonly clauses: readonly Clause[];
  /** The variables the body joins on: `vars` for not-join, else the body's free variables. */
  readonly joinVars: readonly Variable[];
}

/**
 * Rule / or-join variables: `[?a ?b]` (all free) or `[[?a] ?b]` (`?a` required to be bound at the
 * call site).
 */
export interface RuleVars {
  readonly required: readonly Variable[];
  readonly free: readonly Variable[];
}

/**
 * `(or branch…)` (`vars` = null: all branches must use the same variables) or
 * `(or-join [?a ?b] branch…)`. Each branch is a clause; an `(and …)` groups several.
 */
export interface Or {
  readonly kind: 'or';
  readonly source: SrcVar;
  readonly vars: RuleVars | null;
  readonly clauses: readonly Clause[];
  /** The variables the `or` exposes: required ++ free of or-join, else the branches' variables. */
  readonly joinVars: readonly Variable[];
}

/** `(and clauses…)` — only meaningful as a branch of `or`. */
export interface And {
  readonly kind: 'and';
  readonly clauses: readonly Clause[];
}

export type Clause = Pattern | Predicate | FnCall | RuleCall | Not | Or | And;

// ---------------------------------------------------------------------------------------------
// Rules

/** One branch (one definition) of a rule: `[(name ?a [?b] ?c) clauses…]`. */
export interface RuleBranch {
  readonly vars: RuleVars;
  readonly clauses: readonly Clause[];
}

/**
 * A named rule with one or more branches. Call arguments map positionally onto
 * `[...vars.required, ...vars.free]` of each branch (all branches have the same arity).
 */
export interface Rule {
  readonly name: string;
  readonly branches: readonly RuleBranch[];
}

/** A parsed rule set, keyed by rule name. */
export type Rules = ReadonlyMap<string, Rule>;

// ---------------------------------------------------------------------------------------------
// Query

export interface Query {
  readonly find: FindSpec;
  readonly returnMap: ReturnMap | null;
  /** `:with` variables ([] when absent). */
  readonly with: readonly Variable[];
  /** `:in`, defaulted (see the invariants above). */
  readonly in: readonly InBinding[];
  readonly where: readonly Clause[];
  /** The query as given (EDN value), for error messages. */
  readonly form: EdnValue;
}

/** Walks a clause tree, calling `f` on every clause (pre-order, including nested bodies). */
export function walkClauses(clauses: readonly Clause[], f: (c: Clause) => void): void {
  for (const c of clauses) {
    f(c);
    if (c.kind === 'not' || c.kind === 'or' || c.kind === 'and') walkClauses(c.clauses, f);
  }
}

/** Variables of a binding form, in order. */
export function bindingVars(b: Binding, out: Variable[] = []): Variable[] {
  switch (b.kind) {
    case 'bind-scalar':
      out.push(b.variable);
      break;
    case 'bind-tuple':
      for (const e of b.elements) bindingVars(e, out);
      break;
    case 'bind-coll':
      bindingVars(b.element, out);
      break;
    case 'bind-ignore':
      break;
  }
  return out;
}
