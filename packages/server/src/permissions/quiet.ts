/**
 * Built-ins that cannot throw in the engine every connection shares. The server evaluates scope
 * queries (`scope-guard.ts`) and the app's permission rules (`can-read`, `can-read-attr`,
 * `can-write`, draft rules and the helpers they call) over data any client may have written: a
 * function that throws on some value (`re-find` on a number, `<` across types) would otherwise
 * throw out of the shared `ReadEngine` on commit and stall every scope of the node, or let an error
 * name a value its reader may not read. So built-ins are called through {@link quiet} wrappers: a
 * call that throws lets nothing through (a predicate: false; a function: no binding), where `q`
 * would throw. Results where nothing throws are those of `q`.
 *
 * In rules a wrapped built-in is bound in the body itself — `[(re-find ?p ?v) ?m]` becomes
 * `[(ground <wrapper>) ?__perm-f0] [(?__perm-f0 ?p ?v) ?m]` — and an `or` whose branches this
 * gives variables of their own becomes an `or-join` on the variables its branches use. Wrappers
 * are kept per (rule, function), so the views of rule variants still share their operators.
 *
 * A throw answers whatever denies. Where a body is positive (under no `not`, or an even number of
 * them) that binding does not match. Where it is negated (an odd number of `not`s), matching makes
 * the `not` fail, so a throw must make the body match for that outer binding, never let it through:
 * a predicate that throws answers true (it binds nothing, so the body then matches exactly where
 * some answer of it would); a function that throws has no value to bind, so the body is taken as
 * matching once the clauses written before the function matched and the function threw on its
 * arguments, whatever follows: `(not P [(f ?x) ?y] R)` is judged as `(not P [(f ?x) ?y] R)` and
 * `(not P [(f-threw ?x)])` (an `or` in a negated body gives its conjunction such a case too; a
 * `not-join` keeps its variables the case uses). So a throw inside a negated body never grants:
 * `(not [(subs ?t 0 6) ?p] [(= ?p "SECRET")])` fails on a title that is a number. A rule called
 * in a negated body is inlined there (an `or-join` of its branches, head variables renamed to the
 * call's arguments), so its functions are judged the same way — but a recursive rule's call of
 * itself is left a call: a throw below its first level makes that call not match (the `not` lets
 * the binding through), so write recursive helpers used under `not` without throwing built-ins.
 *
 * Built-ins given a database (`get-else`, `get-some`, `missing?`) throw in `q` where the entity
 * argument is not an entity (a string or a keyword a client wrote where an id was expected:
 * `entity-id/syntax`; a lookup ref that matches nothing: `entity-id/missing`). The write judge
 * evaluates rules with `q`, so its rules ({@link QuietRules.oneShot}) wrap them too, the database
 * argument passed on: that binding does not match, reported like the others. The engine's rules
 * ({@link QuietRules.rules}) keep them as they are: the engine lowers them to lookups in the
 * attribute's relation, where a value that is not an entity simply has no datoms (the default, or
 * missing), so they cannot throw on data there.
 */
import { DataloomError, List, Sym, sym, type EdnValue } from '@dataloom/core';
import { BUILTINS } from '@dataloom/query';
import { cannotThrow, DB_FNS } from '@dataloom/query/internals';

type Fn = (...xs: unknown[]) => unknown;

/**
 * `f`, answering `fallback` where it throws — nil by default (a predicate: false; a function: no
 * binding); `onThrow` hears of each throw.
 */
export function quiet(f: Fn, onThrow?: (e: unknown) => void, fallback: unknown = null): Fn {
  return (...xs) => {
    try {
      return f(...xs);
    } catch (e) {
      onThrow?.(e);
      return fallback;
    }
  };
}

/**
 * The built-in a function clause `[(f …) …]` calls, where it needs a wrapper: one that can throw
 * (the query package marks those that cannot, `cannotThrow`: rules call them directly, so the
 * engine still plans them as built-ins — per-user views of a rule like `[(str ?u) ?s] [(= ?s
 * "auditor")]` cost 2–4× more per transaction wrapped), given no database unless `withDb` (then
 * `get-else`, `get-some`, `missing?` too).
 */
export function wrappableBuiltin(head: List, withDb = false): Fn | undefined {
  const f = head.items[0];
  if (!(f instanceof Sym) || cannotThrow(f.fqn)) return undefined;
  if (!(withDb && DB_FNS.has(f.fqn)) && head.items.slice(1).some((arg) => arg instanceof Sym && arg.fqn.startsWith('$'))) return undefined;
  return BUILTINS.get(f.fqn) as Fn | undefined;
}

const isVar = (x: unknown): x is Sym => x instanceof Sym && x.fqn.startsWith('?');

/** The variables of a form (`_` aside). */
export function varsOf(x: unknown, out: Set<string> = new Set()): Set<string> {
  if (x instanceof Sym) {
    if (isVar(x) && x.fqn !== '_') out.add(x.fqn);
  } else if (x instanceof List) for (const i of x.items) varsOf(i, out);
  else if (Array.isArray(x)) for (const i of x) varsOf(i, out);
  return out;
}

/** Permission rules with their built-ins wrapped; a throw is reported once per (rule, function). */
export class QuietRules {
  private readonly fns = new Map<string, Fn>();
  private readonly done = new WeakMap<object, EdnValue>();
  private readonly doneOneShot = new WeakMap<object, EdnValue>();
  /** Whether the rules being wrapped are for `q` (database built-ins wrapped too). */
  private withDb = false;
  private readonly reported = new Set<string>();
  private wrapped = 0;
  /** The branches of each rule being wrapped, and the rules being inlined (under `not`). */
  private byName = new Map<string, EdnValue[][]>();
  private readonly inlining: string[] = [];
  /** The first (rule, function) that threw since it was last cleared (the write gate reads it). */
  threw: { rule: string; fn: string } | null = null;

  constructor(private readonly report: (e: DataloomError) => void = () => {}) {}

  /** `rules` (a rules vector, as data) for the engine: every built-in call wrapped but those given a database (memoized per rules object). */
  rules(rules: EdnValue): EdnValue {
    return this.wrap(rules, false);
  }

  /** `rules` for one-shot `q` (the write judge): database built-ins wrapped too. */
  oneShot(rules: EdnValue): EdnValue {
    return this.wrap(rules, true);
  }

  private wrap(rules: EdnValue, withDb: boolean): EdnValue {
    if (!Array.isArray(rules)) return rules;
    const done = withDb ? this.doneOneShot : this.done;
    const hit = done.get(rules);
    if (hit !== undefined) return hit;
    this.withDb = withDb;
    this.byName = new Map();
    for (const b of rules) {
      const h = Array.isArray(b) && b[0] instanceof List ? b[0].items[0] : undefined;
      if (h instanceof Sym) this.byName.set(h.fqn, [...(this.byName.get(h.fqn) ?? []), b as EdnValue[]]);
    }
    const out = rules.map((branch) => {
      if (!Array.isArray(branch) || !(branch[0] instanceof List)) return branch;
      const head = branch[0].items[0];
      const rule = head instanceof Sym ? head.fqn : String(head);
      let fresh = 0;
      return [branch[0], ...this.clauses(branch.slice(1), rule, () => sym(`?__perm-f${fresh++}`))];
    });
    done.set(rules, out);
    return out;
  }

  /**
   * The wrapper of built-in `name` in `rule`. `plain`: a throw answers nil; `negated` (a predicate
   * under `not`): a throw answers true; `threw` (a predicate): true where the call throws, else false.
   */
  private wrapper(rule: string, name: string, f: Fn, mode: 'plain' | 'negated' | 'threw'): Fn {
    const key = rule + '\u0000' + name;
    const slot = key + '\u0000' + mode;
    let w = this.fns.get(slot);
    if (w === undefined) {
      const g: Fn = mode === 'threw' ? (...xs) => (f(...xs), false) : f;
      w = quiet(g, (e) => {
        this.threw ??= { rule, fn: name };
        if (this.reported.has(key)) return;
        this.reported.add(key);
        const err = e as { code?: string; message?: string };
        this.report(
          new DataloomError(
            'server/permissions',
            `permission rule (${rule} …) calls ${name}, which threw on the data (${err.code ?? 'error'}: ${String(err.message ?? e).slice(0, 200)}); that binding is taken as not matching (reported once per rule and function)`,
            { rule, fn: name },
          ),
        );
      }, mode === 'plain' ? null : true);
      this.fns.set(slot, w);
    }
    return w;
  }

  /**
   * `cs` (a conjunction) with their built-in calls wrapped. `neg`: under an odd number of `not`s,
   * where a throw must make the body match (so the `not` fails): a predicate that throws answers
   * true; a function that throws has no value to bind, so for each such function F the answer also
   * holds `alts`, the conjunctions "the clauses before F, then F threw on its arguments", which the
   * nearest `not` turns into `not`s of their own (the body matches if the clauses up to F match and
   * F throws, whatever follows).
   */
  private clauses(cs: readonly EdnValue[], rule: string, fresh: () => Sym, neg = false, alts: EdnValue[][] = []): EdnValue[] {
    const out: EdnValue[] = [];
    for (const c of cs) {
      if (Array.isArray(c) && c[0] instanceof List) {
        const builtin = wrappableBuiltin(c[0], this.withDb);
        if (builtin === undefined) out.push(c);
        else {
          const v = fresh();
          this.wrapped++;
          const name = (c[0].items[0] as Sym).fqn;
          const pred = c.length === 1;
          const args = c[0].items.slice(1);
          if (neg && !pred) {
            const t = fresh();
            alts.push([...out, [new List([sym('ground'), this.wrapper(rule, name, builtin, 'threw') as unknown as EdnValue]), t], [new List([t, ...args])]]);
          }
          out.push([new List([sym('ground'), this.wrapper(rule, name, builtin, neg && pred ? 'negated' : 'plain') as unknown as EdnValue]), v]);
          out.push([new List([v, ...args]), ...c.slice(1)]);
        }
      } else if (c instanceof List) {
        const [h, ...rest] = c.items;
        const name = h instanceof Sym ? h.fqn : '';
        if (name === 'not' || name === 'not-join') {
          const join = name === 'not-join' ? [rest[0]!] : [];
          const inner: EdnValue[][] = [];
          out.push(new List([h!, ...join, ...this.clauses(rest.slice(join.length), rule, fresh, !neg, inner)]));
          // the body matches where a function in it threw: each such case a `not` of its own
          for (const a of inner) {
            const own = varsOf(a);
            const j = join.map((vs) => (vs as EdnValue[]).filter((x) => x instanceof Sym && own.has(x.fqn)));
            out.push(new List([h!, ...j, ...a]));
          }
        } else if (name === 'and') {
          const inner: EdnValue[][] = [];
          const before = [...out];
          out.push(new List([h!, ...this.clauses(rest, rule, fresh, neg, inner)]));
          for (const a of inner) alts.push([...before, new List([h!, ...a])]);
        } else if (name === 'or' || name === 'or-join') {
          const given = name === 'or-join' ? rest.slice(1) : rest;
          const from = this.wrapped;
          const inner: EdnValue[][] = [];
          const branches = given.map((b) => {
            const body = b instanceof List && b.items[0] instanceof Sym && b.items[0].fqn === 'and' ? b.items.slice(1) : [b];
            return new List([sym('and'), ...this.clauses(body, rule, fresh, neg, inner)]);
          });
          // the branches' variables, before wrappers added their own (an `or`'s branches all use them)
          const vars = name === 'or-join' ? rest[0]! : [...varsOf(rest)].sort().map((v) => sym(v));
          // a branch where a function threw makes the conjunction the `or` is in match from there
          const own = varsOf(vars);
          for (const a of inner) {
            const av = varsOf(a);
            alts.push([...out, new List([sym('or-join'), [...own].filter((x) => av.has(x)).map((x) => sym(x)), new List([sym('and'), ...a])])]);
          }
          if (this.wrapped === from) out.push(c);
          else out.push(new List([sym('or-join'), vars, ...branches]));
        } else if (neg && this.byName.has(name) && !this.inlining.includes(name)) {
          // a rule called in a negated body: its branches inlined, so a throw in them is judged as here
          const from = this.wrapped;
          this.inlining.push(name);
          const inlined = this.clauses([this.inline(c, this.byName.get(name)!, fresh)], name, fresh, neg, alts);
          this.inlining.pop();
          out.push(...(this.wrapped === from ? [c] : inlined));
        } else out.push(c);
      } else out.push(c);
    }
    return out;
  }

  /** The call `c` as an `or-join` of the bodies of `branches`, head variables renamed to its arguments, others fresh. */
  private inline(c: List, branches: EdnValue[][], fresh: () => Sym): EdnValue {
    const args = c.items.slice(1);
    const join = new Set<string>();
    const bodies = branches.map((b) => {
      const head = (b[0] as List).items.slice(1).flatMap((x) => (Array.isArray(x) ? x : [x]));
      const names = new Map<string, EdnValue>();
      const pre: EdnValue[] = [];
      head.forEach((h, i) => {
        if (!(h instanceof Sym) || names.has(h.fqn)) return;
        const a = args[i];
        if (a instanceof Sym && isVar(a) && a.fqn !== '_') {
          names.set(h.fqn, a);
          join.add(a.fqn);
        } else {
          const k = fresh();
          names.set(h.fqn, k);
          if (!(a instanceof Sym && a.fqn === '_')) pre.push([new List([sym('ground'), a as EdnValue]), k]);
        }
      });
      const rename = (x: EdnValue): EdnValue => {
        if (x instanceof Sym) {
          if (!isVar(x) || x.fqn === '_') return x;
          let n = names.get(x.fqn);
          if (n === undefined) names.set(x.fqn, (n = fresh()));
          return n;
        }
        if (x instanceof List) return new List(x.items.map(rename));
        if (Array.isArray(x)) return x.map(rename);
        return x;
      };
      return new List([sym('and'), ...pre, ...b.slice(1).map(rename)]);
    });
    return new List([sym('or-join'), [...join].sort().map((v) => sym(v)), ...bodies]);
  }
}
