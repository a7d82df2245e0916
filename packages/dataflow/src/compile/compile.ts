/**
 * Compiles a parsed query (the AST of `@dataloom/query`) to flat rules over relations:
 *
 * - data patterns → atoms over the shared per-attribute base relations (lookup refs → an extra
 *   atom on the unique attribute); a pattern whose first element names a registered query
 *   (`[chic/sub-earnings ?t ?name ?sum]`) → an atom over that query's result relation;
 * - rule calls, `or`/`or-join` and `not`/`not-join` → calls of rule instances (one per rule and
 *   binding pattern). Arguments bound from constants or inputs are passed down as demand
 *   (magic sets), so `(follows 1 ?y)` computes only what is reachable from 1; a body that needs
 *   its caller's bindings (a predicate-only `or` branch) gets them the same way;
 * - the query itself → a head relation over the distinct find ∪ with variables, then the output
 *   operator (projection / aggregation).
 *
 * Then relations are grouped into strongly connected components; negation inside a component is
 * rejected (`dataflow/unstratifiable`).
 */
import { DataloomError, Keyword, Sym, kw, parseEdn } from '@dataloom/core';
import type { Binding, Clause, FindElem, PatternTerm, Query, Rule, RuleBranch, Rules, SrcVar, Variable } from '@dataloom/query';
import { collectVars, parseRules } from '@dataloom/query';
import type { BindPat, FnRef, RelSource, RuleIR, Step, Term } from '../ir/types.js';
import { builtinFn } from '../eval/functions.js';
import { DerivedRel } from '../operators/derived.js';
import type { FindCol } from '../operators/reduce.js';
import { CollectionSources, collectionTuples } from './collections.js';
import { RuleBuilder } from './rule-builder.js';
import { components, type LocalRel } from './components.js';
import { bindValue } from '@dataloom/query/internals';
import { rangeRestricted, type RuleDef } from './range.js';

/** What the compiler needs from the engine. */
export interface CompileEnv {
  /** The base relation `(e, v, tx)` of attribute `a`. */
  base(a: Keyword): RelSource;
  /** Every datom as `(e, a, v, tx)` (for variable attributes). */
  allDatoms(): RelSource;
  /** Entities with at least one datom, as `(e)`. */
  entities(): RelSource;
  /** The result relation of the registered query `name`, if any. */
  named(name: string): RelSource | undefined;
  isRef(a: Keyword): boolean;
  isMany(a: Keyword): boolean;
  /**
   * Resolves an entity reference (lookup ref `[:attr value]` or ident) against the database at
   * registration time, throwing core's `entity-id/missing` (or `lookup-ref/…`) like one-shot `q`.
   * When absent, lookup refs are not checked (engine-level tests without a database).
   */
  entid?(x: unknown): number;
  /**
   * The environment of another database given as the input of source `name` (`:in $ $2`): a
   * connection (followed incrementally) or a database value (fixed). Undefined when `x` is neither.
   */
  other?(x: unknown, name: string): CompileEnv | undefined;
}

export interface CompiledQuery {
  /** Relations in dependency order, grouped into components. */
  readonly components: { members: LocalRel[]; recursive: boolean }[];
  /** The head relation (distinct find ∪ with tuples). */
  readonly head: DerivedRel;
  readonly findCols: FindCol[];
  /** Constant input relation (already filled), or null. */
  readonly input: DerivedRel | null;
  /** Per find element: the pull pattern when it is a pull, else null. */
  readonly pulls: (unknown | null)[];
  /** Whether the result is a bag (`:with`) / needs an array (aggregates, pull). */
  readonly hasWith: boolean;
}

interface Instance {
  readonly rel: DerivedRel;
  readonly magic: DerivedRel | null;
  readonly demand: number[];
}

function err(code: string, message: string, form: unknown, extra: Record<string, unknown> = {}): DataloomError {
  return new DataloomError(code, message, { form, ...extra });
}

export class Compiler {
  private readonly locals: LocalRel[] = [];
  private readonly localByRel = new Map<DerivedRel, LocalRel>();
  private readonly instances = new Map<string, Instance>();
  private rules: Rules = new Map();
  private readonly ruleDefs = new Map<string, RuleDef>();
  private anonCount = 0;
  private defCount = 0;
  private readonly inputScalars = new Map<string, unknown>();
  private readonly collections: CollectionSources;
  /** Other databases by source name (`$2` → its environment). */
  private readonly dbs = new Map<string, CompileEnv>();

  constructor(
    private readonly env: CompileEnv,
    private readonly label: string,
  ) {
    this.collections = new CollectionSources(label);
  }

  compile(q: Query, inputs: readonly unknown[]): CompiledQuery {
    // ---- :in
    const inVars: string[] = [];
    let inRows: unknown[][] = [[]];
    let k = 0;
    // `$` is the connection's database: an input for it may be given (then there is one input per
    // `:in` binding) or left out (`register(name, '[… :in $ $2 …]', other)`).
    const dollarGiven = inputs.length >= q.in.length && q.in.some((b) => b.kind === 'src' && b.name === '$');
    for (const b of q.in) {
      if (b.kind === 'src') {
        if (b.name === '$') {
          if (dollarGiven && k < inputs.length) k++;
          continue;
        }
        const x = k < inputs.length ? inputs[k++] : undefined;
        const tuples = collectionTuples(typeof x === 'string' ? parseEdn(x) : x);
        if (tuples !== null) {
          this.collections.add(b.name, tuples);
          continue;
        }
        const other = x === undefined ? undefined : this.env.other?.(x, b.name);
        if (other === undefined) {
          throw err('query/source', `Source ${b.name}: expected a database, a connection or a collection of tuples, got ${describe(x)}`, q.form, { source: b.name });
        }
        this.dbs.set(b.name, other);
        continue;
      }
      if (k >= inputs.length) throw err('query/inputs', `Wrong number of inputs: the query expects more than ${inputs.length}`, q.form, { in: q.in.length });
      const value = inputs[k++];
      if (b.kind === 'rules') {
        this.rules = parseRules(value as never);
        continue;
      }
      // As in `q`: an EDN string is read as EDN where a string cannot be the value; bound by the
      // same rules (`bindValue`).
      const v = typeof value === 'string' && b.kind !== 'bind-scalar' ? parseEdn(value) : value;
      const { vars: names, rows } = bindValue(b, v);
      if (b.kind === 'bind-scalar') this.inputScalars.set(b.variable.name, value);
      const next: unknown[][] = [];
      for (const r of inRows) for (const s of rows) next.push([...r, ...s]);
      inRows = next;
      inVars.push(...names);
    }
    if (k < inputs.length) throw err('query/inputs', `Wrong number of inputs: expected ${k}, got ${inputs.length}`, q.form);
    inRows = this.resolveInputRefs(q.where, inVars, inRows);
    for (const [name, r] of this.rules) this.ruleDefs.set(name, { id: this.defCount++, name, branches: r.branches, anon: null });

    // ---- head variables: find ∪ with (distinct, in order)
    const headVars: string[] = [];
    const addVar = (n: string) => {
      if (!headVars.includes(n)) headVars.push(n);
    };
    const findCols: FindCol[] = [];
    const pulls: (unknown | null)[] = [];
    for (const el of q.find.elements) this.findVarsOf(el, addVar);
    for (const v of q.with) addVar(v.name);
    for (const el of q.find.elements) {
      if (el.kind === 'pull' && el.source.name !== '$') {
        throw err('dataflow/unsupported', `(pull ${el.source.name} …): registered queries pull from their own database $`, q.form, { source: el.source.name });
      }
      pulls.push(el.kind === 'pull' ? (el.pattern.kind === 'const' ? el.pattern.value : this.inputScalars.get(el.pattern.name)) : null);
      findCols.push(this.findCol(el, headVars, q));
    }

    // ---- the query rule
    const head = new DerivedRel(this.label, headVars.length);
    const local: LocalRel = { rel: head, rules: [] };
    this.addLocal(local);
    const b = new RuleBuilder();
    let input: DerivedRel | null = null;
    if (inVars.length > 0) {
      input = new DerivedRel(`${this.label}:in`, inVars.length, true);
      for (const r of inRows) input.arr.insert(r);
      b.push({ kind: 'atom', src: input, args: inVars.map((n) => b.varTerm(n)), neg: false }, true);
    } else if (inRows.length === 0) {
      // An input collection was empty: the query has no rows.
      input = new DerivedRel(`${this.label}:in`, 0, true);
      b.push({ kind: 'atom', src: input, args: [], neg: false }, true);
    }
    this.lowerClauses(q.where, b, '$');
    local.rules.push({ headArgs: headVars.map((n) => b.varTerm(n)), body: b.steps, nslots: b.nslots, slotNames: b.names });
    return {
      components: components(this.locals),
      head,
      findCols,
      input,
      pulls,
      hasWith: q.with.length > 0,
    };
  }

  private findVarsOf(el: FindElem, add: (n: string) => void): void {
    if (el.kind === 'var') add(el.name);
    else if (el.kind === 'pull') add(el.variable.name);
    else {
      const last = el.args[el.args.length - 1];
      if (last && last.kind === 'var') add(last.name);
    }
  }

  private findCol(el: FindElem, headVars: string[], q: Query): FindCol {
    if (el.kind === 'var') return { kind: 'col', col: headVars.indexOf(el.name) };
    if (el.kind === 'pull') return { kind: 'col', col: headVars.indexOf(el.variable.name) };
    const last = el.args[el.args.length - 1];
    if (!last || last.kind !== 'var') throw err('query/parse', 'Aggregate must end with a variable', q.form);
    const params = el.args.slice(0, -1).map((a) => {
      if (a.kind === 'const') return a.value;
      if (a.kind === 'var') {
        if (!this.inputScalars.has(a.name)) throw err('query/unbound', `Aggregate argument ${a.name} must be bound by :in`, q.form);
        return this.inputScalars.get(a.name);
      }
      throw err('dataflow/unsupported', 'Aggregate arguments must be constants or inputs', q.form);
    });
    if (el.fn.kind === 'var') {
      const f = this.inputScalars.get(el.fn.name);
      if (typeof f !== 'function') throw err('query/unknown-aggregate', `Aggregate ${el.fn.name} is not a function input`, q.form);
      return { kind: 'agg', col: headVars.indexOf(last.name), name: null, params, custom: f as (...a: unknown[]) => unknown };
    }
    return { kind: 'agg', col: headVars.indexOf(last.name), name: el.fn.name, params };
  }

  private addLocal(l: LocalRel): void {
    this.locals.push(l);
    this.localByRel.set(l.rel, l);
  }

  // ------------------------------------------------------------------------------------------
  // Clauses

  private term(t: PatternTerm | { kind: 'src'; name: string }, b: RuleBuilder): Term {
    if (t.kind === 'var') return b.varTerm(t.name);
    if (t.kind === 'blank') return { kind: 'var', slot: b.fresh() };
    if (t.kind === 'const') return { kind: 'const', value: t.value };
    throw err('query/parse', 'A source variable cannot be used here', t.name);
  }

  /**
   * Lowers clauses whose default source (the one read by clauses that name none) is `d`: `$`, or
   * the source of an enclosing `($2 not …)`, `($2 or …)`, `($2 rule …)`.
   */
  private lowerClauses(cs: readonly Clause[], b: RuleBuilder, d: string): void {
    for (const c of cs) this.lowerClause(c, b, d);
  }

  /** The source a clause reads: the one it names, or the default `d` when it names none. */
  private resolve(src: SrcVar, d: string): string {
    return src.name === '$' && !src.explicit ? d : src.name;
  }

  /** The environment of database source `name`; null for a collection source. */
  private envOf(name: string, form: unknown): CompileEnv | null {
    if (name === '$') return this.env;
    const e = this.dbs.get(name);
    if (e !== undefined) return e;
    if (this.collections.has(name)) return null;
    throw err('query/source', `Source ${name} is not among the query's inputs (:in)`, form, { source: name });
  }

  private lowerClause(c: Clause, b: RuleBuilder, d: string): void {
    if (c.kind === 'not' || c.kind === 'or' || c.kind === 'rule-call') {
      const name = this.resolve(c.source, d);
      this.envOf(name, c);
      d = name;
    }
    switch (c.kind) {
      case 'pattern':
        return this.lowerPattern(c, b, d);
      case 'pred':
      case 'fn':
        return this.lowerFn(c, b, d);
      case 'rule-call': {
        const def = this.ruleDefs.get(c.name);
        if (def === undefined) {
          const named = this.env.named(c.name);
          if (named !== undefined) {
            return b.push({ kind: 'atom', src: named, args: c.args.map((a) => this.term(a, b)), neg: false }, false);
          }
          throw err('query/unknown-rule', `Unknown rule '${c.name}'`, c.name);
        }
        const args = c.args.map((a) => this.term(a, b));
        return this.call(def, args, b, false, d);
      }
      case 'not': {
        const jv = (c.vars ?? collectVars(c.clauses)).map((v) => v.name).filter((n) => c.vars !== null || b.bound.has(n));
        if (c.vars !== null) {
          for (const n of jv) if (!b.bound.has(n)) throw err('query/unbound', `Insufficient bindings: ${n} not bound in not-join`, n);
        }
        if (jv.length === 0) throw err('query/unbound', 'Insufficient bindings: none of the variables of not are bound', null);
        const def: RuleDef = {
          id: this.defCount++,
          name: `${this.label}/not${this.anonCount++}`,
          branches: [{ vars: { required: [], free: jv.map(varNode) }, clauses: c.clauses }],
          anon: 'not',
        };
        return this.call(def, jv.map((n) => b.varTerm(n)), b, true, d);
      }
      case 'or': {
        const jv = c.joinVars.map((v) => v.name);
        const branches: RuleBranch[] = c.clauses.map((br) => ({
          vars: { required: [], free: jv.map(varNode) },
          clauses: br.kind === 'and' ? br.clauses : [br],
        }));
        const def: RuleDef = { id: this.defCount++, name: `${this.label}/or${this.anonCount++}`, branches, anon: 'or' };
        return this.call(def, jv.map((n) => b.varTerm(n)), b, false, d);
      }
      case 'and':
        return this.lowerClauses(c.clauses, b, d);
    }
  }

  private lowerPattern(c: Extract<Clause, { kind: 'pattern' }>, b: RuleBuilder, d: string): void {
    const name = this.resolve(c.source, d);
    const env = this.envOf(name, c);
    if (env === null) {
      const rel = this.collections.relation(name, c.terms.length);
      const args = c.terms.map((t) => this.term(t, b));
      return b.push({ kind: 'atom', src: rel, args, neg: false }, args.some((t) => b.isSelectiveTerm(t)));
    }
    const [e, a, v, tx, added] = c.terms;
    // A registered query used as a relation: [chic/sub-earnings ?t ?name ?sum]
    if (name === '$' && e && e.kind === 'const' && e.value instanceof Sym) {
      const named = this.env.named(e.value.fqn);
      if (named === undefined) throw err('query/unknown-relation', `No registered query named ${e.value.fqn}`, e.value.fqn);
      const args = c.terms.slice(1).map((t) => this.term(t, b));
      if (args.length !== named.arr.arity) {
        throw err('query/arity', `${e.value.fqn} has ${named.arr.arity} columns, the clause gives ${args.length}`, e.value.fqn);
      }
      const sel = args.some((t) => b.isSelectiveTerm(t));
      return b.push({ kind: 'atom', src: named, args, neg: false }, sel);
    }
    if (!a) {
      // [?e]: entities that have a datom.
      const eT = this.lookupRef(this.term(e!, b), b, env);
      return b.push({ kind: 'atom', src: env.entities(), args: [eT], neg: false }, b.isSelectiveTerm(eT));
    }
    if (a.kind !== 'const') {
      // [?e ?a ?v …]: read the all-datoms relation.
      const eT = this.lookupRef(this.term(e!, b), b, env);
      const args: Term[] = [eT, a ? this.term(a, b) : { kind: 'var', slot: b.fresh() }, v ? this.term(v, b) : { kind: 'var', slot: b.fresh() }];
      if (tx) args.push(this.term(tx, b));
      b.push({ kind: 'atom', src: env.allDatoms(), args, neg: false }, args.slice(0, 3).some((t) => b.isSelectiveTerm(t)));
      if (added && added.kind !== 'blank') this.bindAdded(added, b);
      return;
    }
    const attr = a.value instanceof Keyword ? a.value : typeof a.value === 'string' ? kw(a.value) : null;
    if (attr === null) throw err('query/parse', `Attribute must be a keyword: ${String(a.value)}`, a.value);
    const src = env.base(attr);
    let eT = this.term(e!, b);
    let vT: Term = v ? this.term(v, b) : { kind: 'var', slot: b.fresh() };
    eT = this.lookupRef(eT, b, env);
    if (env.isRef(attr)) vT = this.lookupRef(vT, b, env);
    const args: Term[] = [eT, vT];
    if (tx) args.push(this.term(tx, b));
    const sel = args.slice(0, 2).some((t) => b.isSelectiveTerm(t));
    b.push({ kind: 'atom', src, args, neg: false }, sel);
    if (added && added.kind !== 'blank') this.bindAdded(added, b);
  }

  /** The `added` position of a pattern: current datoms are all assertions. */
  private bindAdded(added: PatternTerm, b: RuleBuilder): void {
    const t = this.term(added, b);
    if (t.kind === 'const') {
      if (t.value !== true) b.push({ kind: 'pred', fn: { kind: 'builtin', name: '__false', f: () => false }, args: [], form: null }, false);
    } else b.push({ kind: 'fn', fn: { kind: 'builtin', name: '__true', f: () => true }, args: [], out: { k: 'scalar', slot: t.slot }, form: null }, false);
  }

  /**
   * Input values bound to variables used as entities (a pattern's `e`, or `v` of a ref attribute)
   * that are lookup refs or idents are resolved to entity ids now, as `q` resolves them when they
   * reach a pattern; one that matches nothing throws `entity-id/missing`. Resolution happens once,
   * at registration (see DESIGN.md "Lookup refs").
   */
  private resolveInputRefs(where: readonly Clause[], inVars: readonly string[], inRows: unknown[][]): unknown[][] {
    const entid = this.env.entid;
    if (entid === undefined || inVars.length === 0) return inRows;
    const entVars = new Set<string>();
    const walk = (cs: readonly Clause[]): void => {
      for (const c of cs) {
        // Patterns of `$` only (another source's entities are not `$`'s to resolve).
        if (c.kind === 'pattern' && (c.source.name === '$' || c.source.name === undefined)) {
          const [e, a, v] = c.terms;
          if (e?.kind === 'var') entVars.add(e.name);
          if (v?.kind === 'var' && a?.kind === 'const') {
            const attr = a.value instanceof Keyword ? a.value : typeof a.value === 'string' ? kw(a.value) : null;
            if (attr !== null && this.env.isRef(attr)) entVars.add(v.name);
          }
        } else if (c.kind === 'not' || c.kind === 'or' || c.kind === 'and') walk(c.clauses);
      }
    };
    walk(where);
    const cols = inVars.map((n, i) => (entVars.has(n) ? i : -1)).filter((i) => i >= 0);
    if (cols.length === 0) return inRows;
    return inRows.map((r) => {
      let out: unknown[] | null = null;
      for (const i of cols) {
        const x = r[i];
        if (Array.isArray(x) || x instanceof Keyword) (out ??= [...r])[i] = entid.call(this.env, x);
      }
      return out ?? r;
    });
  }

  /**
   * A lookup-ref constant `[:attr value]` becomes a fresh variable bound through the unique
   * attribute, so it follows the unique value across later transactions. At registration it must
   * resolve (else `entity-id/missing`, as in `q`).
   */
  private lookupRef(t: Term, b: RuleBuilder, env: CompileEnv): Term {
    if (t.kind !== 'const' || !Array.isArray(t.value) || t.value.length !== 2) return t;
    const [la, lv] = t.value as unknown[];
    const attr = la instanceof Keyword ? la : typeof la === 'string' ? kw(la) : null;
    if (attr === null) return t;
    if (env.entid !== undefined) env.entid(t.value);
    const slot = b.fresh('lookup');
    b.push({ kind: 'atom', src: env.base(attr), args: [{ kind: 'var', slot }, { kind: 'const', value: lv }], neg: false }, true);
    return { kind: 'var', slot };
  }

  private lowerFn(c: Extract<Clause, { kind: 'pred' | 'fn' }>, b: RuleBuilder, d: string): void {
    const name = c.fn.kind === 'sym' ? c.fn.name : null;
    const form = c;
    if (name === 'get-else' || name === 'get-some' || name === 'missing?') {
      // A source argument names a query input as written (`$` is the query's own, as in `q`).
      const s = c.args[0];
      const srcName = s?.kind === 'src' ? s.name : '$';
      const env = this.envOf(srcName, c);
      if (env === null) this.collections.refuse(srcName, name, c);
      const args = c.args.filter((x) => x.kind !== 'src');
      const eT = this.term(args[0] as PatternTerm, b);
      const attrOf = (x: unknown): Keyword => {
        const t = x as PatternTerm;
        if (t.kind !== 'const') throw err('dataflow/unsupported', `${name} needs a constant attribute`, name);
        return t.value instanceof Keyword ? t.value : kw(String(t.value));
      };
      if (name === 'missing?') {
        if (c.kind !== 'pred') throw err('query/parse', 'missing? is a predicate', name);
        const ma = attrOf(args[1]);
        if (env.isRef(ma) && !env.isMany(ma) && args[0]!.kind === 'var') {
          // DataScript: a card-one reference to an entity without datoms also counts as missing:
          // (or-join [?e] (not [?e :a _]) (and [?e :a ?v] (not [?v])))
          const ev = args[0] as Variable;
          const v: Variable = { kind: 'var', name: `?__missing${this.anonCount++}` };
          const blank = { kind: 'blank' } as const;
          const src: SrcVar = srcName === '$' ? { kind: 'src', name: '$', explicit: true } : { kind: 'src', name: srcName };
          const pat = (terms: PatternTerm[]) => ({ kind: 'pattern', source: src, terms }) as Clause;
          const not = (clauses: Clause[], jv: Variable[]) => ({ kind: 'not', source: src, vars: null, clauses, joinVars: jv }) as Clause;
          const ka: PatternTerm = { kind: 'const', value: ma };
          const orClause = {
            kind: 'or',
            source: src,
            vars: { required: [], free: [ev] },
            joinVars: [ev],
            clauses: [not([pat([ev, ka, blank])], [ev]), { kind: 'and', clauses: [pat([ev, ka, v]), not([pat([v])], [v])] }],
          } as Clause;
          return this.lowerClause(orClause, b, d);
        }
        return b.push({ kind: 'missing', src: env.base(ma), e: eT, form }, false);
      }
      if (c.kind !== 'fn') throw err('query/parse', `${name} must bind a result`, name);
      if (name === 'get-else') {
        const ga = attrOf(args[1]);
        if (env.isMany(ga)) throw err('query/call', `get-else: :${ga.fqn} of :db.cardinality/many is not supported`, ga);
        const out = this.bindPat(c.binding, b);
        if (out.k !== 'scalar') throw err('dataflow/unsupported', 'get-else binds one variable', name);
        const sel = b.isSelectiveTerm(eT);
        // A default bound by :in is a constant of the registration (entity changes need it known).
        const d = args[2] as PatternTerm;
        const dflt: Term = d.kind === 'var' && this.inputScalars.has(d.name) ? { kind: 'const', value: this.inputScalars.get(d.name) } : this.term(d, b);
        if (dflt.kind !== 'const') throw err('dataflow/unsupported', 'get-else needs a constant default (or one bound by :in)', d);
        return b.push({ kind: 'get-else', src: env.base(attrOf(args[1])), e: eT, dflt, out: out.slot, form }, sel);
      }
      const attrs = args.slice(1).map(attrOf);
      return b.push({ kind: 'get-some', srcs: attrs.map((x) => env.base(x)), attrs, e: eT, out: this.bindPat(c.binding, b), form }, b.isSelectiveTerm(eT));
    }
    let fn: FnRef;
    if (c.fn.kind === 'var') fn = { kind: 'var', slot: b.slot(c.fn.name) };
    else {
      const f = builtinFn(c.fn.name);
      if (f === undefined) throw err('query/unknown-function', `Unknown function '${c.fn.name}'`, c.fn.name);
      fn = { kind: 'builtin', name: c.fn.name, f };
    }
    const args = c.args.map((x) => {
      if (x.kind === 'src') return { kind: 'const', value: null } as Term;
      return this.term(x, b);
    });
    if (c.kind === 'pred') return b.push({ kind: 'pred', fn, args, form }, false);
    const sel = args.every((t) => b.isSelectiveTerm(t));
    b.push({ kind: 'fn', fn, args, out: this.bindPat(c.binding, b), form }, sel);
  }

  private bindPat(x: Binding, b: RuleBuilder): BindPat {
    switch (x.kind) {
      case 'bind-scalar':
        return { k: 'scalar', slot: b.slot(x.variable.name) };
      case 'bind-ignore':
        return { k: 'ignore' };
      case 'bind-tuple':
        return { k: 'tuple', elems: x.elements.map((e) => this.bindPat(e, b)) };
      case 'bind-coll':
        return { k: 'coll', elem: this.bindPat(x.element, b) };
    }
  }

  // ------------------------------------------------------------------------------------------
  // Rule instances (with demand)

  private call(def: RuleDef, args: Term[], b: RuleBuilder, neg: boolean, d: string): void {
    const arity = def.branches[0]!.vars.required.length + def.branches[0]!.vars.free.length;
    if (args.length !== arity) throw err('query/arity', `Rule '${def.name}' takes ${arity} arguments, got ${args.length}`, def.name);
    const boundPos: number[] = [];
    const selPos: number[] = [];
    args.forEach((t, i) => {
      if (b.isBoundTerm(t)) boundPos.push(i);
      if (b.isSelectiveTerm(t)) selPos.push(i);
    });
    let demand: number[];
    if (def.anon === 'not') demand = rangeRestricted(def, []) ? [] : boundPos;
    else if (def.anon === 'or') demand = rangeRestricted(def, selPos) ? selPos : boundPos;
    else demand = rangeRestricted(def, selPos) ? selPos : boundPos;
    const inst = this.instance(def, demand, d);
    if (inst.magic !== null) {
      const idx = b.prefixIndexes();
      let body = idx.map((i) => b.steps[i]!);
      const calling = b.callingPrefix(idx);
      if (calling !== null) {
        // Evaluate the prefix once (a supplementary relation): the demand and the join back both
        // read its rows, so a function's result is the same value on both sides and runs once.
        const cols: Term[] = b.namedSlots(calling).map((slot) => ({ kind: 'var', slot }));
        // (flagged like a demand relation: the caller's rule starts from it, probing the call by its full key)
        const sup = new DerivedRel(`sup:${def.name}`, cols.length, true);
        this.addLocal({ rel: sup, rules: [{ headArgs: cols, body: calling, nslots: b.nslots, slotNames: [...b.names] }] });
        const atom: Step = { kind: 'atom', src: sup, args: cols, neg: false };
        b.replaceSteps(idx, atom);
        body = [atom];
      }
      this.localByRel.get(inst.magic)!.rules.push({ headArgs: demand.map((i) => args[i]!), body, nslots: b.nslots, slotNames: [...b.names] });
    }
    b.push({ kind: 'atom', src: inst.rel, args, neg }, inst.magic !== null);
  }

  /** The instance of `def` for `demand` whose body reads default source `d`. */
  private instance(def: RuleDef, demand: number[], d: string): Instance {
    const key = `${def.id}:${demand.join(',')}:${d}`;
    let inst = this.instances.get(key);
    if (inst !== undefined) return inst;
    const arity = def.branches[0]!.vars.required.length + def.branches[0]!.vars.free.length;
    const suffix = (demand.length > 0 ? `^${demand.join(',')}` : '') + (d === '$' ? '' : `@${d}`);
    const rel = new DerivedRel(`${def.name}${suffix}`, arity);
    const magic = demand.length > 0 ? new DerivedRel(`magic:${def.name}${suffix}`, demand.length, true) : null;
    inst = { rel, magic, demand };
    this.instances.set(key, inst);
    const local: LocalRel = { rel, rules: [] };
    this.addLocal(local);
    if (magic !== null) this.addLocal({ rel: magic, rules: [] });
    for (const br of def.branches) {
      const b = new RuleBuilder();
      const headVars = [...br.vars.required, ...br.vars.free].map((v) => v.name);
      const headArgs = headVars.map((n) => b.varTerm(n));
      if (magic !== null) b.push({ kind: 'atom', src: magic, args: demand.map((i) => headArgs[i]!), neg: false }, true);
      this.lowerClauses(br.clauses, b, d);
      local.rules.push({ headArgs, body: b.steps, nslots: b.nslots, slotNames: b.names });
    }
    return inst;
  }
}

function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'an object';
}

function varNode(name: string): Variable {
  return { kind: 'var', name };
}

export type { Rule };
