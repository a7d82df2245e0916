/**
 * A hand-written oracle of the isolation property test's permission rules (test/sync/
 * permissions.property.test.ts), in plain TypeScript over the merged datoms: what each user may
 * read, computed by walking the team graph — a second implementation, independent of both the
 * server's dataflow views and one-shot `q`, and cheap enough to run after every transaction of
 * thousands. The property test checks it against `q` of the EDN rules at its checkpoints.
 *
 * The rules it mirrors (both forms of the test — constants, or an admin and a user registry in the
 * data — mean the same here):
 * - `member(u, t)`: `u` is in `:team/members` of `t`, or of a team `t` descends from by `:team/parent`;
 * - `can-read(u, e)`: `e`'s `:doc/owner` is `u`; `e`'s `:doc/team` has `u` as member; `e` is a
 *   team `u` is a member of; for the admin, every team, every doc with a title and (registry form)
 *   every registered user and the admin entity;
 * - `can-read-attr(u, e, :doc/title)` for a doc with `:doc/public true` (registry form: for
 *   registered users only).
 */
import type { GlobalId, WireValue } from '@dataloom/core';

/** The ref and cardinality schema of the team model (teams, parent teams, docs in teams). */
export const TEAM_SCHEMA = {
  ':team/members': { ':db/cardinality': ':db.cardinality/many' },
  ':team/parent': { ':db/valueType': ':db.type/ref' },
  ':doc/team': { ':db/valueType': ':db.type/ref' },
};

/** The team model's recursive rules in EDN (inside a rule vector): membership through parent teams; owners, team members and teams readable. */
export const TEAM_RULES = `[(member ?u ?t) [?t :team/members ?u]]
 [(member ?u ?t) [?t :team/parent ?p] (member ?u ?p)]
 [(can-read ?u ?e) [?e :doc/owner ?u]]
 [(can-read ?u ?e) (member ?u ?t) [?e :doc/team ?t]]
 [(can-read ?u ?t) (member ?u ?t)]`;

/**
 * The team rules in the three engine modes the in-process permission property tests run
 * (`packages/server/src/permissions/*.property.test.ts`), public titles readable as an attribute:
 * `shared` (every rule binds `?user` from the data: one set of views for all users), `perUser` (a
 * boss named by a constant: the other users share the views of the branches they keep) and
 * `ownViews` (a view per connected user).
 */
export const TEAM_MODES = {
  shared: `[${TEAM_RULES} [(can-read-attr ?u ?e ?a) [_ :user/name ?u] [?e :doc/public true] [(ground :doc/title) ?a]]]`,
  perUser: `[${TEAM_RULES} [(can-read ?u ?e) [(= ?u "boss")] [?e :doc/title]] [(can-read-attr ?u ?e ?a) [?e :doc/public true] [(ground :doc/title) ?a]]]`,
  /** The same, the boss named through a function of `?u` (not a test of `?u` alone, variants.ts): a view per connected user. */
  ownViews: `[${TEAM_RULES} [(can-read ?u ?e) [(str ?u) ?s] [(= ?s "boss")] [?e :doc/title]] [(can-read-attr ?u ?e ?a) [?e :doc/public true] [(ground :doc/title) ?a]]]`,
};
import type { MergeState } from '@dataloom/core/internals';

export interface Readable {
  es: Set<GlobalId>;
  attrs: Set<string>;
}

/** Whether `r` lets its user read attribute `a` of entity `e`. */
export const reads = (r: Readable, e: GlobalId, a: string): boolean => r.es.has(e) || r.attrs.has(e + '|' + a);

const refOf = (v: WireValue): GlobalId | null => (typeof v === 'object' && v !== null && 'ref' in v ? (v as { ref: GlobalId }).ref : null);

/** The entities' attributes, once per state. */
export class Facts {
  readonly byE = new Map<GlobalId, Map<string, WireValue[]>>();
  constructor(m: MergeState) {
    for (const d of m.datoms()) {
      if (d.a.startsWith('db/')) continue;
      let as = this.byE.get(d.e);
      if (!as) this.byE.set(d.e, (as = new Map()));
      const vs = as.get(d.a);
      if (vs) vs.push(d.v);
      else as.set(d.a, [d.v]);
    }
  }
  values(e: GlobalId, a: string): WireValue[] {
    return this.byE.get(e)?.get(a) ?? [];
  }
  has(e: GlobalId, a: string): boolean {
    return this.values(e, a).length > 0;
  }

  /** The teams `u` is a member of: those naming `u`, and their descendants by `:team/parent` (cycles too). */
  teamsOf(u: string): Set<GlobalId> {
    const children = new Map<GlobalId, GlobalId[]>();
    const direct: GlobalId[] = [];
    for (const [e, as] of this.byE) {
      if ((as.get('team/members') ?? []).includes(u)) direct.push(e);
      for (const p of as.get('team/parent') ?? []) {
        const r = refOf(p);
        if (r !== null) children.set(r, [...(children.get(r) ?? []), e]);
      }
    }
    const out = new Set<GlobalId>();
    const stack = [...direct];
    while (stack.length) {
      const t = stack.pop()!;
      if (out.has(t)) continue;
      out.add(t);
      stack.push(...(children.get(t) ?? []));
    }
    return out;
  }

  /** What `user` may read; `registry`: the rules' admin and user-registry form. */
  readable(user: string, registry: boolean): Readable {
    const teams = this.teamsOf(user);
    const isAdmin = registry ? [...this.byE.values()].some((as) => (as.get('admin/name') ?? []).includes(user)) : user === 'admin';
    const registered = !registry || [...this.byE.values()].some((as) => (as.get('user/name') ?? []).includes(user));
    const es = new Set<GlobalId>();
    const attrs = new Set<string>();
    for (const [e, as] of this.byE) {
      if ((as.get('doc/owner') ?? []).includes(user)) es.add(e);
      for (const t of as.get('doc/team') ?? []) if (teams.has(refOf(t)!)) es.add(e);
      if (teams.has(e)) es.add(e);
      if (isAdmin && (as.has('team/name') || as.has('doc/title'))) es.add(e);
      if (isAdmin && registry && (as.has('user/name') || (as.get('admin/name') ?? []).includes(user))) es.add(e);
      if (registered && (as.get('doc/public') ?? []).includes(true)) attrs.add(e + '|doc/title');
    }
    return { es, attrs };
  }
}
