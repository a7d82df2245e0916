/**
 * What each connected user may read, maintained incrementally: the committed database (entity ids
 * interned) lives in a `@dataloom/dataflow` connection with the views `(can-read ?user ?e)` and,
 * where defined, `(can-read-attr ?user ?e ?a)`, in one of two modes:
 *
 * - **shared** (when every rule binds `?user` from the data — memberships, owners, a user
 *   registry): one pair of views with `?user` free serves every user, so a transaction costs what
 *   it changes whatever the number of connected users; the sets of all users are kept (memory
 *   proportional to the (user, entity) pairs the rules derive);
 * - **per user** (a rule names users by constants or predicates only, so `?user` cannot be free):
 *   each connected user has views of their own with `?user` bound — demand-driven, exploring only
 *   what that user reaches; a transaction then costs a little per connected user;
 * - **shared per variant**: where a branch names its users by a test of `?user` alone
 *   (`[(= ?u "auditor")]`), each user keeps the branches whose tests pass for them
 *   (`variants.ts`); the users of one variant share its views when those rules bind `?user` from
 *   the data, so only the users the tests single out have views of their own.
 *
 * Each kind of set (`can-read`, `can-read-attr`, drafts) is served on its own: shared, shared per
 * variant, or per user.
 *
 * A committed transaction's datom changes go through the engine once; view diffs update the
 * users' sets and, for connected users, are remembered as gained / lost keys until
 * {@link ReadEngine.takeChanges}.
 *
 * Keys: an entity's global id (`e`, every attribute readable) or `e\u0000a` (one attribute). Entity
 * ids are the merge state's representatives (`MergeState.rep`).
 */
import {
  DataloomError,
  Keyword,
  List,
  kw,
  sym,
  type EdnValue,
  type Sym,
  type WireValue,
  type DatomChange,
  type GlobalId,
} from '@dataloom/core';
import { Interner, TX0, fromWireValue, initDb, type MergeSchema, type MergeState } from '@dataloom/core/internals';
import { createConn, type Conn, type View } from '@dataloom/dataflow';
import type { UserId } from '../drafts/visibility.js';
import { HEADS, type Permissions } from './rules.js';
import { pullReach } from './pull-reach.js';
import { QuietRules } from './quiet.js';
import { guardScopeQuery, type Guard } from './scope-guard.js';
import { ALL_BRANCHES, RuleVariants } from './variants.js';

type Kind = 'read' | 'attr' | 'see' | 'edit';
interface KindSpec {
  kind: Kind;
  head: string;
  arity: 2 | 3;
}

/** A scope query's entities (and those its pull pattern reaches), followed (see {@link ReadEngine.watchEntities}). */
interface Watch {
  query: string;
  inputs: readonly unknown[];
  pull: string | undefined;
  /** The user whose read permission the query is evaluated under (null: no read rules). */
  user: UserReadable | null;
  onChange: (added: GlobalId[], removed: GlobalId[]) => void;
  entities: Set<GlobalId>;
  /** How many of the watch's views hold each entity (the query's, the pull's). */
  counts: Map<GlobalId, number>;
  views: View[];
}

/** Every key a user may read. */
function keysOf(u: UserReadable): Set<string> {
  const out = new Set<string>(u.entities);
  for (const [e, as] of u.attrs) for (const a of as) out.add(attrKey(e, a));
  return out;
}

/** The key of attribute `a` of entity `e`. */
export const attrKey = (e: GlobalId, a: string): string => e + '\u0000' + a;

let userSeq = 0;

/** One user's readable sets (shared by that user's connections). */
export class UserReadable {
  /** Names this user's own views (`perm-read-<seq>`) so guarded scope queries can read them. */
  readonly seq = ++userSeq;
  readonly entities = new Set<GlobalId>();
  /** Entity → attributes readable through `can-read-attr`. */
  readonly attrs = new Map<GlobalId, Set<string>>();
  refs = 0;
  /** The user's own views (kinds no shared view serves them). */
  views: View[] = [];
  /**
   * Kind → the name of the shared view serving this user's set of that kind (its rows are keyed by
   * user), or null when the user keeps no branch of that kind's rules (reads nothing by it).
   */
  readonly served = new Map<Kind, string | null>();
  /** Drafts (their entities) the user may see / edit by `can-see-draft` / `can-edit-draft`. */
  readonly drafts = new Set<GlobalId>();
  readonly editable = new Set<GlobalId>();
  /** Drafts the user gained sight of since the last {@link ReadEngine.takeChanges}. */
  draftsGained = new Set<GlobalId>();
  /** Keys gained / lost since the last {@link ReadEngine.takeChanges}. */
  gained = new Set<string>();
  lost = new Set<string>();

  constructor(readonly user: UserId) {}

  clear(): void {
    this.entities.clear();
    this.attrs.clear();
    this.drafts.clear();
    this.editable.clear();
  }

  /** Empties the set of one kind. */
  clearKind(kind: Kind): void {
    if (kind === 'read') this.entities.clear();
    else if (kind === 'attr') this.attrs.clear();
    else if (kind === 'see') this.drafts.clear();
    else this.editable.clear();
  }

  get empty(): boolean {
    return this.entities.size === 0 && this.attrs.size === 0 && this.drafts.size === 0 && this.editable.size === 0;
  }

  /** Whether the user may read attribute `a` of (representative) entity `e`; `a` undefined: the whole entity. */
  reads(e: GlobalId, a: string | undefined): boolean {
    return this.entities.has(e) || (a !== undefined && this.attrs.get(e)?.has(a) === true);
  }

  note(key: string, added: boolean): void {
    if (this.refs === 0) return; // nobody to tell
    const [on, off] = added ? [this.gained, this.lost] : [this.lost, this.gained];
    if (!off.delete(key)) on.add(key);
  }
}

/** A database schema input with what queries need of the merge schema (refs, cardinality, identity). */
export function schemaInput(s: MergeSchema): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [a, m] of s.entries()) {
    if (a.startsWith('db/')) continue;
    const p: Record<string, string> = {};
    if (m.ref) p[':db/valueType'] = ':db.type/ref';
    if (m.many) p[':db/cardinality'] = ':db.cardinality/many';
    if (m.identity) p[':db/unique'] = ':db.unique/identity';
    out[':' + a] = p;
  }
  return out;
}

function attrName(v: unknown): string | null {
  if (v instanceof Keyword) return v.fqn;
  if (typeof v === 'string') return v.startsWith(':') ? v.slice(1) : v;
  return null;
}

export class ReadEngine {
  private conn!: Conn;
  private ids!: Interner;
  private schema: MergeSchema | null = null;
  private tx = TX0;
  private readonly users = new Map<UserId, UserReadable>();
  /** Scope queries being watched, and a counter naming their views. */
  private readonly watches = new Set<Watch>();
  private watchSeq = 0;
  /** Connected users whose sets changed since the last {@link takeChanges}. */
  private readonly dirty = new Set<UserReadable>();
  /**
   * Per kind and variant key (`kind key`): the shared view serving every user of that variant and
   * its name, or null when those rules cannot be evaluated with `?user` free (each such user then
   * has a view of their own). Filled as users of a variant first connect.
   */
  private readonly sharedViews = new Map<string, { name: string; view: View } | null>();
  private variants!: RuleVariants;
  private variantSeq = 0;

  constructor(
    private readonly perms: Permissions,
    private readonly merged: () => MergeState,
    /** Wraps the rules' built-ins, so none throws in the engine every connection shares (`quiet.ts`). */
    private readonly quiet: QuietRules = new QuietRules(),
  ) {
    this.reset();
  }

  /** Rebuilds the database from the merged state; every user's sets are recomputed (changes noted). */
  reset(): void {
    const m = this.merged();
    this.schema = m.schema;
    this.ids = new Interner();
    this.tx = TX0;
    const datoms = [];
    const txId = ++this.tx;
    for (const d of m.datoms()) datoms.push(this.ids.datom({ ...d, added: true }, txId));
    // one bulk load from sorted arrays (initDb), not a transaction of every datom: 300k datoms 0.38 -> 0.15 s
    this.conn = createConn(initDb(datoms, schemaInput(m.schema) as never));
    const connected = [...this.users.values()].filter((u) => u.refs > 0);
    const before = new Map(connected.map((u) => [u, { keys: keysOf(u), gained: u.gained, lost: u.lost, drafts: new Set(u.drafts), draftsGained: u.draftsGained }]));
    this.users.clear();
    for (const u of connected) {
      u.clear();
      u.views = [];
      u.served.clear();
      this.users.set(u.user, u);
    }
    this.sharedViews.clear();
    this.variants = new RuleVariants(this.perms.data, this.kinds().map((k) => k.head));
    // the rules as given, with `?user` free: every user's sets when they bind `?user` from the data
    for (const k of this.kinds()) this.sharedView(k, ALL_BRANCHES);
    for (const u of connected) this.attach(u);
    for (const w of this.watches) {
      const before = new Set(w.entities);
      w.entities.clear();
      w.counts.clear();
      try {
        this.registerWatch(w);
      } catch {
        for (const v of w.views.splice(0)) v.close(); // cannot happen for a query that registered before; the scope is then empty
        w.entities.clear();
        w.counts.clear();
      }
      const added = [...w.entities].filter((e) => !before.has(e));
      const removed = [...before].filter((e) => !w.entities.has(e));
      if (added.length || removed.length) w.onChange(added, removed);
    }
    for (const [u, b] of before) {
      [u.gained, u.lost, u.draftsGained] = [b.gained, b.lost, b.draftsGained];
      for (const d of u.drafts) if (!b.drafts.has(d)) u.draftsGained.add(d);
      const after = keysOf(u);
      for (const k of b.keys) if (!after.has(k)) u.note(k, false);
      for (const k of after) if (!b.keys.has(k)) u.note(k, true);
      if (u.gained.size || u.lost.size || u.draftsGained.size) this.dirty.add(u);
    }
  }

  /**
   * The entities of a scope query (its first find variable), kept up to date: `onChange(added,
   * removed)` after each transaction that changes them (and after a rebuild). Throws the query's
   * own error when it cannot be registered.
   */
  watchEntities(
    query: string,
    inputs: readonly unknown[],
    onChange: (added: GlobalId[], removed: GlobalId[]) => void,
    pull?: string,
    user: UserReadable | null = null,
  ): { entities: Set<GlobalId>; close(): void } {
    const w: Watch = { query, inputs, pull, user, onChange, entities: new Set(), counts: new Map(), views: [] };
    try {
      this.registerWatch(w);
    } catch (e) {
      for (const v of w.views.reverse()) v.close();
      throw e;
    }
    this.watches.add(w);
    return {
      entities: w.entities,
      close: () => {
        for (const v of w.views.splice(0).reverse()) v.close();
        this.watches.delete(w);
      },
    };
  }

  private registerWatch(w: Watch): void {
    // inputs are wire values: `{ref: <global id>}` names an entity, `{kw}` a keyword
    const inputs = w.inputs.map((x) => fromWireValue(x as WireValue, this.ids.eidOf));
    w.views = [];
    const name = `scope-${++this.watchSeq}`;
    // under read rules the query sees only what the user may read (scope-guard.ts)
    const guard = w.user ? this.guardOf(w.user) : null;
    // (without read rules too: its built-ins are wrapped, so none can throw in the engine every connection shares)
    const guarded = guardScopeQuery(w.query, guard);
    const root = this.conn.register(name, guarded.query, ...inputs, ...guarded.inputs);
    w.views.push(root);
    const reach = w.pull === undefined ? null : pullReach(w.query, name, w.pull, this.merged().schema, guard);
    if (reach) w.views.push(this.conn.register(`${name}-pull`, reach.query, reach.rules, ...(guard?.user !== undefined ? [guard.user] : [])));
    const first = (row: unknown) => this.ids.gid((row as [number])[0] as number);
    const add = (e: GlobalId) => {
      const n = w.counts.get(e) ?? 0;
      w.counts.set(e, n + 1);
      if (n === 0) w.entities.add(e);
    };
    const remove = (e: GlobalId) => {
      const n = w.counts.get(e) ?? 0;
      if (n > 1) w.counts.set(e, n - 1);
      else if (n === 1) w.counts.delete(e), w.entities.delete(e);
    };
    for (const v of w.views) {
      for (const row of v.result() as Set<unknown>) {
        const e = first(row);
        if (e !== null) add(e);
      }
      v.subscribe((diffs) => {
        // whether each entity the diffs touch was in the watch before them
        const was = new Map<GlobalId, boolean>();
        for (const [row, , m] of diffs) {
          const e = first(row);
          if (e === null) continue;
          if (!was.has(e)) was.set(e, w.entities.has(e));
          if (m > 0) add(e);
          else remove(e);
        }
        const added: GlobalId[] = [];
        const removed: GlobalId[] = [];
        for (const [e, before] of was) {
          const now = w.entities.has(e);
          if (now && !before) added.push(e);
          else if (before && !now) removed.push(e);
        }
        if (added.length || removed.length) w.onChange(added, removed);
      });
    }
  }

  /**
   * How a scope query of `u` reads the permission views: a datom of `e` is readable when the user
   * reads `e` whole or, with `can-read-attr`, its attribute `a`. Shared views are keyed by user
   * (the user is the query's last input); per-user views are the user's own. A pattern with a
   * variable attribute needs the whole entity readable.
   */
  private guardOf(u: UserReadable): Guard {
    const shared = [...u.served.values()].some((n) => n !== null);
    const read = this.perms.read;
    const attr = this.perms.readAttr;
    const rel = (kind: 'read' | 'attr', uv: Sym, e: Sym, ...args: EdnValue[]): EdnValue => {
      const name = u.served.get(kind);
      if (name === null) return [new List([sym('='), e, -1])]; // the user keeps no branch of this kind (variants.ts): nothing
      return name !== undefined ? [sym(name), uv, e, ...args] : [sym(`perm-${kind}-${u.seq}`), e, ...args];
    };
    return {
      user: shared ? u.user : undefined,
      clause(e, a, uv) {
        const constAttr = a instanceof Keyword;
        if (!attr || (read && !constAttr)) return rel('read', uv, e);
        if (!read) return rel('attr', uv, e, constAttr ? a : sym('_'));
        return new List([sym('or-join'), shared ? [uv, e] : [e], rel('read', uv, e), rel('attr', uv, e, a!)]);
      },
    };
  }

  /** A committed transaction's visible changes (in log order). */
  apply(changes: readonly DatomChange[]): void {
    if (this.merged().schema !== this.schema) return this.reset();
    if (changes.length === 0) return;
    const txId = ++this.tx;
    this.conn.applyDatoms(
      changes.map((c) => this.ids.datom(c, txId)),
      txId,
    );
  }

  /** Whether the rules as given serve every user from shared views (see {@link sharedView}). */
  get isShared(): boolean {
    return this.kinds().every((k) => this.sharedViews.get(`${k.kind} ${ALL_BRANCHES}`));
  }

  /** How many views serve the connected users: shared ones, and users' own. */
  get viewCount(): { shared: number; own: number } {
    let own = 0;
    for (const u of this.users.values()) own += u.views.length;
    return { shared: [...this.sharedViews.values()].filter((v) => v !== null).length, own };
  }

  /** The readable sets of `user`, computed on first use; {@link release} when the connection ends. */
  acquire(user: UserId): UserReadable {
    let u = this.users.get(user);
    if (!u) this.users.set(user, (u = new UserReadable(user)));
    if (u.refs === 0) {
      u.gained.clear();
      u.lost.clear();
      u.draftsGained.clear();
      try {
        this.attach(u);
      } catch (e) {
        for (const k of this.kinds()) if (!u.served.has(k.kind)) u.clearKind(k.kind);
        if (u.empty) this.forget(u);
        throw e;
      }
    }
    u.refs++;
    return u;
  }

  release(u: UserReadable): void {
    if (--u.refs > 0) return;
    for (const v of u.views) v.close();
    u.views = [];
    // sets of kinds the user's own views kept are stale now; shared views keep the others
    for (const k of this.kinds()) if (!u.served.has(k.kind)) u.clearKind(k.kind);
    if (u.empty) this.forget(u);
  }

  /**
   * Throws `server/permissions` when the rules cannot be evaluated for a user — at start rather
   * than at a first connection: every branch, including those only some users keep.
   */
  check(): void {
    const probe = '\u0000check';
    this.release(this.acquire(probe));
    const u = new UserReadable(probe);
    try {
      for (const k of this.kinds()) if (!this.sharedViews.get(`${k.kind} ${ALL_BRANCHES}`)) this.register(u, k, this.perms.data);
    } finally {
      for (const v of u.views) v.close();
    }
  }

  private forget(u: UserReadable): void {
    if (this.users.get(u.user) === u) this.users.delete(u.user);
    this.variants.forget(u.user);
  }

  /**
   * Gives a connecting user their sets, kind by kind: from the shared view of the user's variant
   * of the rules where there is one (registered on first use), else from views of their own.
   */
  private attach(u: UserReadable): void {
    for (const v of u.views) v.close();
    u.views = [];
    for (const k of this.kinds()) {
      const key = this.keyOf(k, u.user);
      const rules = this.variants.rules(k.head, key);
      const shared = rules === null ? null : this.sharedView(k, key);
      if (rules === null || shared) u.served.set(k.kind, shared?.name ?? null);
      else {
        u.served.delete(k.kind);
        this.register(u, k, rules);
      }
    }
  }

  /** The variant of `k`'s rules that `user` reads by ({@link ALL_BRANCHES} when the rules as given are shared). */
  private keyOf(k: KindSpec, user: unknown): string {
    if (this.sharedViews.get(`${k.kind} ${ALL_BRANCHES}`)) return ALL_BRANCHES;
    return this.variants.key(k.head, user as UserId);
  }

  /** Connected users whose sets changed since the last call, with the keys gained and lost (then cleared). */
  takeChanges(): Array<{ user: UserReadable; gained: Set<string>; lost: Set<string>; drafts: Set<GlobalId> }> {
    const out = [];
    const dirty = [...this.dirty];
    this.dirty.clear();
    for (const u of dirty) {
      if (u.refs === 0 || (u.gained.size === 0 && u.lost.size === 0 && u.draftsGained.size === 0)) continue;
      out.push({ user: u, gained: u.gained, lost: u.lost, drafts: u.draftsGained });
      u.gained = new Set();
      u.lost = new Set();
      u.draftsGained = new Set();
    }
    return out;
  }

  /**
   * The view of kind `k` serving every user of variant `key` (see `variants.ts`; {@link ALL_BRANCHES}:
   * the rules as given), registered on first use with `?user` free: possible when every branch
   * binds `?user` from the data (memberships, owners), and then a transaction costs what it
   * changes, whatever the number of connected users. Its rows are the sets of every user of the
   * variant (connected or not). Null when it cannot be registered (a branch names users by
   * constants or predicates only): each such user then gets views of their own with `?user` bound.
   */
  private sharedView(k: KindSpec, key: string): { name: string; view: View } | null {
    const id = `${k.kind} ${key}`;
    const known = this.sharedViews.get(id);
    if (known !== undefined) return known;
    const rules = this.variants.rules(k.head, key);
    let out: { name: string; view: View } | null = null;
    if (rules !== null) {
      const name = key === ALL_BRANCHES ? `perm/${k.kind}` : `perm-v${++this.variantSeq}/${k.kind}`;
      const vars = k.arity === 3 ? '?user ?e ?a' : '?user ?e';
      const mine = (u: unknown) => key === ALL_BRANCHES || this.variants.key(k.head, u as UserId) === key;
      try {
        const view = this.conn.register(name, `[:find ${vars} :in $ % :where (${k.head} ${vars})]`, this.quiet.rules(rules));
        for (const [u, e, a] of view.result() as Set<[unknown, number, unknown]>) if (mine(u)) this.row(this.userOf(u), k.kind, e, a, true);
        view.subscribe((diffs) => {
          for (const [row, , m] of diffs) {
            const [u, e, a] = row as [unknown, number, unknown];
            if (mine(u)) this.row(this.userOf(u), k.kind, e, a, m > 0);
          }
        });
        out = { name, view };
      } catch {
        out = null;
      }
    }
    this.sharedViews.set(id, out);
    return out;
  }

  /** The heads the rules define, with the kind of set each fills. */
  private kinds(): KindSpec[] {
    const p = this.perms;
    const all = [
      { kind: 'read' as const, head: HEADS.read, arity: 2 as const, on: p.read },
      { kind: 'attr' as const, head: HEADS.readAttr, arity: 3 as const, on: p.readAttr },
      { kind: 'see' as const, head: HEADS.seeDraft, arity: 2 as const, on: p.seeDraft },
      { kind: 'edit' as const, head: HEADS.editDraft, arity: 2 as const, on: p.editDraft },
    ];
    return all.filter((k) => k.on);
  }

  private row(u: UserReadable | null, kind: Kind, e: number, a: unknown, added: boolean): void {
    if (kind === 'read') this.setEntity(u, e, added);
    else if (kind === 'attr') this.setAttr(u, e, a, added);
    else this.setDraft(u, e, kind, added);
  }

  /** The sets of the user a shared view's row names (made on first sight), or null for a non-user value. */
  private userOf(v: unknown): UserReadable | null {
    if (typeof v !== 'string' && typeof v !== 'number') return null;
    let u = this.users.get(v);
    if (!u) this.users.set(v, (u = new UserReadable(v)));
    return u;
  }

  /** A view of `u`'s own for kind `k`, with `?user` bound, over `rules`. */
  private register(u: UserReadable, k: KindSpec, rules: EdnValue): void {
    try {
      const vars = k.arity === 3 ? '?e ?a' : '?e';
      const v = this.conn.register(`perm-${k.kind}-${u.seq}`, `[:find ${vars} :in $ % ?user :where (${k.head} ?user ${vars})]`, this.quiet.rules(rules), u.user);
      u.views.push(v);
      for (const [e, a] of v.result() as Set<[number, unknown]>) this.row(u, k.kind, e, a, true);
      v.subscribe((diffs) => {
        for (const [row, , m] of diffs) {
          const [e, a] = row as [number, unknown];
          this.row(u, k.kind, e, a, m > 0);
        }
      });
    } catch (e) {
      for (const v of u.views) v.close();
      u.views = [];
      if (e instanceof DataloomError && e.code === 'server/permissions') throw e;
      const err = e as { code?: string; message: string };
      throw new DataloomError('server/permissions', `permission rules cannot be evaluated (${err.code ?? 'error'}): ${err.message}`, { user: String(u.user) });
    }
  }

  private setDraft(u: UserReadable | null, eid: number, kind: 'see' | 'edit', added: boolean): void {
    const d = this.ids.gid(eid);
    if (d === null || u === null) return;
    const set = kind === 'see' ? u.drafts : u.editable;
    if (added) set.add(d);
    else set.delete(d);
    if (kind === 'see' && added && u.refs > 0) {
      u.draftsGained.add(d);
      this.dirty.add(u);
    }
  }

  /** Whether `user` may see (or, with `edit`, edit) the draft whose entity is `draft`, by the rules. */
  draftAllowed(user: UserId, draft: GlobalId, edit: boolean): boolean {
    const u = this.users.get(user);
    if (!u) return false;
    const d = this.merged().rep(draft);
    return edit && this.perms.editDraft ? u.editable.has(d) : u.drafts.has(d);
  }

  private setEntity(u: UserReadable | null, eid: number, added: boolean): void {
    const e = this.ids.gid(eid);
    if (e === null || u === null) return;
    if (added) u.entities.add(e);
    else u.entities.delete(e);
    u.note(e, added);
    if (u.refs > 0) this.dirty.add(u);
  }

  private setAttr(u: UserReadable | null, eid: number, av: unknown, added: boolean): void {
    const e = this.ids.gid(eid);
    const a = attrName(av);
    if (e === null || a === null || u === null) return;
    let s = u.attrs.get(e);
    if (added) {
      if (!s) u.attrs.set(e, (s = new Set()));
      s.add(a);
    } else if (s) {
      s.delete(a);
      if (s.size === 0) u.attrs.delete(e);
    }
    u.note(attrKey(e, a), added);
    if (u.refs > 0) this.dirty.add(u);
  }
}
