/**
 * Rule variants: the branches of a permission head a given user can use at all.
 *
 * A branch like `[(can-read ?u ?e) [(= ?u "auditor")] [?e :doc/team]]` names its user by a
 * predicate of `?u` alone (the branch's *user tests*: predicate clauses whose arguments are `?u`
 * and constants). With `?u` free such a branch cannot be evaluated, so without variants every
 * connected user needed views of their own, and every transaction went through all of them. But a
 * user test depends on the user only: for `u5` that branch can never derive anything. So each user
 * gets the head's branches whose tests pass for them (a *variant*, keyed by the kept branches'
 * indices); users of one variant share its views when the variant's rules bind `?user` from the
 * data (`ReadEngine`), and only the users the tests single out ("auditor") keep views of their own.
 *
 * Only heads no rule body calls are pruned (a call could pass another user than the connected one);
 * tests are evaluated once per (head, user) with one-shot `q` on an empty database (they read no
 * data). A test that cannot be evaluated keeps its branch (the rules then behave as before).
 */
import { createDb, List, Sym, printEdn, type EdnValue } from '@dataloom/core';
import { q } from '@dataloom/query';
import type { UserId } from '../drafts/visibility.js';

/** The key of a head's variant with every branch kept (the rules as given). */
export const ALL_BRANCHES = '*';

interface Head {
  /** Positions in the rules vector of the head's branches. */
  at: number[];
  /** Per branch: its user tests as a query, or null (kept for everyone). */
  tests: Array<string | null>;
  /** User → key (cached: a pure function of the user). */
  keys: Map<UserId, string>;
  rules: Map<string, EdnValue>;
}

const isVar = (x: unknown): x is Sym => x instanceof Sym && (x.fqn.startsWith('?') || x.fqn.startsWith('$') || x.fqn === '_');

/** Whether `x` calls rule `name` anywhere (`(name …)` in a body, `or`/`not` bodies too). */
function calls(x: unknown, name: string): boolean {
  if (x instanceof List) {
    const h = x.items[0];
    if (h instanceof Sym && h.fqn === name) return true;
    return x.items.some((i) => calls(i, name));
  }
  return Array.isArray(x) && x.some((i) => calls(i, name));
}

/** A branch's user tests (`[(pred ?u "const" …)]`), as a one-shot query of `?u`, or null. */
function userTests(rule: EdnValue[]): string | null {
  const head = rule[0];
  if (!(head instanceof List)) return null;
  let user = head.items[1];
  if (Array.isArray(user)) user = user[0]; // `(can-read [?u] ?e)`: required variables
  if (!(user instanceof Sym) || !user.fqn.startsWith('?')) return null;
  const tests = rule.slice(1).filter((c) => {
    if (!Array.isArray(c) || c.length !== 1 || !(c[0] instanceof List)) return false;
    const [fn, ...args] = c[0].items;
    if (!(fn instanceof Sym) || isVar(fn)) return false;
    return args.length > 0 && args.some((a) => a instanceof Sym && a.fqn === user.fqn) && args.every((a) => (a instanceof Sym ? a.fqn === user.fqn : !(a instanceof List) && !Array.isArray(a)));
  });
  if (tests.length === 0) return null;
  return `[:find ${user.fqn} :in $ ${user.fqn} :where ${tests.map((t) => printEdn(t as never)).join(' ')}]`;
}

export class RuleVariants {
  private readonly heads = new Map<string, Head>();
  private readonly empty = createDb();

  constructor(
    private readonly data: EdnValue,
    names: readonly string[],
  ) {
    if (!Array.isArray(data)) return;
    for (const name of names) {
      const at: number[] = [];
      data.forEach((r, i) => {
        if (Array.isArray(r) && r[0] instanceof List && r[0].items[0] instanceof Sym && r[0].items[0].fqn === name) at.push(i);
      });
      if (at.length === 0 || data.some((r) => Array.isArray(r) && calls(r.slice(1), name))) continue;
      const tests = at.map((i) => userTests(data[i] as EdnValue[]));
      if (tests.every((t) => t === null)) continue;
      this.heads.set(name, { at, tests, keys: new Map(), rules: new Map() });
    }
  }

  /** Whether some branch of `head` has user tests (else its key is {@link ALL_BRANCHES} for everyone). */
  varies(head: string): boolean {
    return this.heads.has(head);
  }

  /** The branches of `head` whose user tests pass for `user`, as a key ({@link ALL_BRANCHES}: all of them). */
  key(head: string, user: UserId): string {
    const h = this.heads.get(head);
    if (!h) return ALL_BRANCHES;
    let k = h.keys.get(user);
    if (k === undefined) {
      const kept = h.tests.flatMap((t, i) => (t === null || this.passes(t, user) ? [i] : []));
      k = kept.length === h.tests.length ? ALL_BRANCHES : kept.join(',');
      h.keys.set(user, k);
    }
    return k;
  }

  /** Forgets the key of `user` (kept only while the user is known to the engine). */
  forget(user: UserId): void {
    for (const h of this.heads.values()) h.keys.delete(user);
  }

  /** The rules with only the branches of `head` that `key` keeps (null: no branch left). */
  rules(head: string, key: string): EdnValue | null {
    const h = this.heads.get(head);
    if (!h || key === ALL_BRANCHES) return this.data;
    if (key === '') return null;
    let r = h.rules.get(key);
    if (r === undefined) {
      const kept = new Set(key.split(',').map((i) => h.at[Number(i)]!));
      const drop = new Set(h.at.filter((i) => !kept.has(i)));
      r = (this.data as EdnValue[]).filter((_, i) => !drop.has(i));
      h.rules.set(key, r);
    }
    return r;
  }

  private passes(test: string, user: UserId): boolean {
    try {
      return (q(test, this.empty, user) as Set<unknown>).size > 0;
    } catch {
      return true; // cannot tell: keep the branch
    }
  }
}
