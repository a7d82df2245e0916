/**
 * What each connection may receive and push: one {@link NodeAccess} per server node follows the
 * committed log (draft visibility, `drafts/`; read permission rules, `readable.ts`); each
 * connection gets a {@link ConnectionAccess} bound to its user, which the connection asks:
 *
 * - `filter(entry)`: the envelope JSON this connection may receive for a log entry — whole, cut
 *   down to the ops the user may read (`partial.ts`), or null;
 * - `checkPush(env)`: why the user may not push this envelope, or null;
 * - `start(sentPos, send)`: after `welcome`, frames outside the stream — with read rules the
 *   bootstrap from what the user may read now (`bootstrap.ts`); drafts the user gained sight of
 *   (at hello, or when invited) — and later what the user gained or lost (`ops`, `drop`).
 *
 * Decisions are taken against the node's *current* committed state, whatever position the
 * connection's stream has reached: a connection never receives what its user may not read now.
 * Changes of what a user may read are noticed as each entry commits and sent when the node has
 * settled the batch (`onNew`), re-checked against the state then.
 */
import { type GlobalId, type TxEnvelope } from '@dataloom/core';
import type { TranslateState } from '@dataloom/core/internals';
import type { SyncNode } from '../node/sync-node.js';
import type { TailEntry } from '../node/log-tail.js';
import type { LogEntry } from '../storage/types.js';
import { DraftDirectory, type DraftEntry, type DraftRefusal } from '../drafts/directory.js';
import { userIdOf, type DraftFacts, type DraftRules, type UserId } from '../drafts/visibility.js';
import { ReadEngine, attrKey, type UserReadable } from './readable.js';
import { parsePermissions, type Permissions } from './rules.js';
import { QuietRules } from './quiet.js';
import { EntryFilter, redactRejection, stateEnvelopes } from './partial.js';
import { WriteChecker } from './writable.js';
import { bootstrapFrames } from './bootstrap.js';
import { ConnectionScope } from './scope.js';
import { replicaFamily, type Scope } from '@dataloom/protocol';

const ANONYMOUS = '\u0000anonymous';
/** An engine without permission heads: it only follows scopes. */
const NO_RULES: Permissions = { data: [], parsed: new Map(), read: false, readAttr: false, write: false, seeDraft: false, editDraft: false, before: false };

/** A rejection as the connection sends it. */
export interface Rejection {
  tx: string;
  code: string;
  message: string;
  data?: Record<string, unknown>;
}

/** What a client's hello says about the view it wants and the entities it holds (`HelloMsg`). */
export interface HelloView {
  scopes?: readonly Scope[] | undefined;
  held?: readonly GlobalId[] | undefined;
}

/**
 * A client resuming with a `held` list is told only what changed since its cursor when the log
 * since then is not much longer than what it may hold (else it gets the current state instead).
 */
const TAIL_ENTRIES = 10_000;
const TAIL_PER_ENTITY = 4;

/** A refusal of a pushed envelope (a `reject` with this code, message and data). */
export type PushRefusal = DraftRefusal;

/**
 * A back-end write made as a user (`server.transact(tx, { as })`, `NodeAccess.writerFor`): the
 * same rules as a push of that user's client — translated against what the user may read, the
 * same checks before judging, the same judge, rejections redacted the same way.
 */
export interface WriterAccess {
  /** The state to translate the user's transaction data against (see `EntryFilter.translateState`). */
  translateState(): TranslateState;
  /** The checks a push of this user gets before judging (its replica's binding aside), or null. */
  checkWrite(env: TxEnvelope): PushRefusal | null;
  redact<R extends Rejection>(r: R): R;
  close(): void;
}

export interface ConnectionAccess {
  filter(entry: TailEntry): string | null;
  checkPush(env: TxEnvelope): PushRefusal | null | Promise<PushRefusal | null>;
  /** A `scope` message: replace the connection's scopes (answers `scoped`). */
  setScope(v: number, scopes: readonly Scope[]): void;
  /**
   * The client's own transactions were acknowledged: what they wrote outside what the client may
   * hold now (unreadable, or out of its scopes) is dropped from it, so a replica holds its view only.
   */
  acknowledged(envs: readonly TxEnvelope[]): void;
  /** A rejection as this user may read it (what it names of unreadable datoms taken out). */
  redact<R extends Rejection>(r: R): R;
  /**
   * After `welcome`; returns the position the stream continues from when it is not the hello's
   * cursor. `hello` carries the scopes and the held entities the client named in its hello.
   */
  start(sentPos: () => number, send: (frames: string | Iterable<string>) => void, hello?: HelloView): number | undefined;
  /** Whether this connection receives only what read rules let through (said in `welcome`). */
  readonly filters: boolean;
  close(): void;
}

export interface NodeAccessOptions {
  drafts?: DraftRules;
  /** Permission rules (EDN text or data), see `rules.ts`. */
  permissions?: unknown;
  /** Hears of a permission rule's built-in that threw on the data (once per rule and function; `quiet.ts`). */
  onError?: (err: unknown) => void;
}

export class NodeAccess {
  readonly drafts: DraftDirectory;
  readonly permissions: Permissions | null;
  /** Whether read rules decide which datoms a connection receives. */
  get filtersEntities(): boolean {
    return this.permissions !== null && (this.permissions.read || this.permissions.readAttr);
  }
  /** Null without read rules (everyone reads everything). */
  private engine: ReadEngine | null = null;
  private readonly started = new Set<UserAccess>();
  private readonly offs: Array<() => void> = [];
  private readonly quiet: QuietRules;

  constructor(
    readonly node: SyncNode,
    opts: NodeAccessOptions = {},
  ) {
    this.quiet = new QuietRules(opts.onError);
    this.permissions = opts.permissions === undefined || opts.permissions === null ? null : parsePermissions(opts.permissions);
    const p = this.permissions;
    // with (can-see-draft …) rules, private drafts follow them (drafts without an author stay open)
    const byRules = (edit: boolean) => (user: UserId | null, f: DraftFacts) => f.author === undefined || (this.engine?.draftAllowed(user ?? ANONYMOUS, f.id, edit) ?? false);
    const draftRules: DraftRules | undefined = p?.seeDraft || p?.editDraft ? { canSee: byRules(false), canEdit: byRules(true) } : opts.drafts;
    this.drafts = new DraftDirectory((e, a) => node.state.merged.values(e, a), draftRules);
    this.offs.push(
      node.onCommitted((c) => {
        this.drafts.note(c.pos, c.env, undefined, c.changes);
        this.engine?.apply(c.changes);
      }),
      node.onReset((_state, entries) => this.refeed(entries)),
      node.onNew(() => this.flush()),
    );
  }

  /** The node rebuilt its state from `entries` (the whole log): follow it again. */
  private refeed(entries: readonly LogEntry[]): void {
    this.drafts.clear();
    for (const e of entries) this.drafts.note(e.pos, e.env, undefined, []);
    const p = this.permissions;
    if (p && (p.write || p.read || p.readAttr)) {
      if (this.node.writeGate instanceof WriteChecker) this.node.writeGate.reset();
      else this.node.writeGate = new WriteChecker(p, () => this.node.state.merged, (env) => this.node.writerOf(env), this.quiet);
    }
    if (this.engine) this.engine.reset();
    if (p && (p.read || p.readAttr || p.seeDraft || p.editDraft)) {
      this.engine ??= new ReadEngine(p, () => this.node.state.merged, this.quiet);
      // checks the rules evaluate at all, so a bad rule fails at start, not at the first connection
      this.engine.check();
    }
    this.flush();
  }

  /** Sends what users gained and lost to their started connections. */
  private flush(): void {
    if (!this.engine) return;
    const changes = this.engine.takeChanges();
    if (changes.length === 0) return;
    const byUser = new Map(changes.map((c) => [c.user, c]));
    for (const a of this.started) {
      const c = a.readable && byUser.get(a.readable);
      if (c) a.changed(c.gained, c.lost, c.drafts);
    }
  }

  /** Replica family → the user (JSON of its id) it is bound to; and bindings being looked up. */
  private readonly owners = new Map<string, Promise<string>>();

  /**
   * With permission rules, a replica id is bound to the user who first pushed from it (kept in the
   * store's meta table, shared by every node): whether `user` may push as `replica`.
   */
  async mayPushAs(replica: string, user: unknown): Promise<boolean> {
    const id = userIdOf(user);
    if (!this.permissions || id === null) return true;
    const family = replicaFamily(replica);
    const mine = JSON.stringify(id);
    let owner = this.owners.get(family);
    if (!owner) {
      const key = `perms:replica/${family}`;
      const store = this.node.store;
      owner = store.getMeta(key).then(async (v) => {
        if (v !== null) return v;
        await store.setMeta(key, mine);
        return mine;
      });
      this.owners.set(family, owner);
      owner.catch(() => this.owners.delete(family));
    }
    return (await owner) === mine;
  }

  /** The access of a connection authenticated as `user`. */
  forUser(user: unknown): ConnectionAccess {
    return new UserAccess(this, user);
  }

  /** A back-end write as `user` ({@link WriterAccess}); close it when the write is settled. */
  writerFor(user: unknown): WriterAccess {
    const a = new UserAccess(this, user);
    a.open();
    return a;
  }

  /** The engine scopes are followed by (made on first use when there are no read rules). */
  scopeEngine(): ReadEngine {
    return (this.engine ??= new ReadEngine(NO_RULES, () => this.node.state.merged));
  }

  /** @internal */
  acquire(user: unknown): UserReadable | null {
    if (!this.engine) return null;
    return this.engine.acquire(userIdOf(user) ?? ANONYMOUS);
  }

  /** @internal */
  track(a: UserAccess, on: boolean): void {
    if (on) this.started.add(a);
    else {
      this.started.delete(a);
      if (a.readable) this.engine?.release(a.readable);
    }
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
  }
}

class UserAccess implements ConnectionAccess, WriterAccess {
  readable: UserReadable | null = null;
  private filterer: EntryFilter | null = null;
  private scope: ConnectionScope | null = null;
  /** Sends a frame, or frames taken lazily at the pace of the socket (a bootstrap). */
  private send: ((frames: string | Iterable<string>) => void) | null = null;
  private sentPos: () => number = () => 0;
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly access: NodeAccess,
    private readonly user: unknown,
  ) {}

  private get cursor(): string {
    return `${this.access.node.logId}:${this.sentPos()}`;
  }

  filter(entry: TailEntry): string | null {
    if (!this.access.drafts.mayStream(this.user, entry.json)) return null;
    return this.filterer ? this.filterer.json(entry.env, entry.json) : entry.json;
  }

  async checkPush(env: TxEnvelope): Promise<PushRefusal | null> {
    if (!(await this.access.mayPushAs(env.replica, this.user))) {
      return { code: 'sync/forbidden', message: `replica ${replicaFamily(env.replica)} belongs to another user`, data: { replica: env.replica } };
    }
    return this.checkWrite(env);
  }

  checkWrite(env: TxEnvelope): PushRefusal | null {
    // an identity value held by an entity the user may not read is refused under the writer lock (`writable.ts`)
    const r = this.access.filtersEntities ? this.readable : null;
    if (r && env.checks?.length) {
      // a cas on what the user may not read would answer whether its guess is right: refused unseen
      const m = this.access.node.state.merged;
      for (const c of env.checks) {
        const made = !m.hasEntity(c.e) && env.ops.some((o) => o.e === c.e);
        if (!made && !r.reads(m.rep(c.e), c.a)) return { code: 'sync/forbidden', message: `cas on :${c.a} of ${c.e}, which this user may not read`, data: { e: c.e, a: c.a } };
      }
    }
    return this.access.drafts.checkPush(this.user, env);
  }

  get filters(): boolean {
    return this.access.filtersEntities;
  }

  /** Takes what the user may read (released by {@link close}). */
  open(): void {
    this.readable = this.access.acquire(this.user);
    if (this.readable && this.access.filtersEntities) {
      const merged = () => this.access.node.state.merged;
      this.filterer = new EntryFilter(this.readable, merged, (d) => this.access.drafts.canSee(this.user, d));
    }
  }

  translateState(): TranslateState {
    return this.filterer?.translateState() ?? this.access.node.state.merged;
  }

  start(sentPos: () => number, send: (frames: string | Iterable<string>) => void, hello: HelloView = {}): number | undefined {
    this.sentPos = sentPos;
    this.send = send;
    this.open();
    this.access.track(this, true);
    if (hello.scopes && hello.scopes.length > 0) {
      // scopes named at hello are in effect before the first frame; a bad one is refused when its `scope` message comes
      try {
        this.installScope(hello.scopes);
      } catch {
        this.scope = null;
      }
    }
    const drafts = this.access.drafts;
    const catchUp = (only?: ReadonlySet<GlobalId>) => this.sendEntries(drafts.catchUp(this.user, this.sentPos(), only));
    let head: number | undefined;
    const filtered = this.filterer !== null && ((this.readable !== null && this.access.filtersEntities) || this.scope !== null);
    if (filtered) {
      const f = this.filterer!;
      const node = this.access.node;
      const cursor = sentPos();
      const view = this.view();
      const size = view.entities.size + view.attrs.size;
      // what the client holds is known (and whole entities only): the drops and the entries are known too
      const held = cursor > 0 && hello.held && !this.access.permissions?.readAttr ? this.sortHeld(hello.held, view) : null;
      if (held && cursor >= node.horizon && node.head - cursor <= TAIL_ENTRIES + TAIL_PER_ENTITY * size) {
        // resuming: what left the view goes, what entered it comes whole, the rest streams from the cursor
        const from = this.cursor;
        if (held.drop.length) send(JSON.stringify({ t: 'drop', es: held.drop, attrs: [] }));
        const enter = new Set([...view.entities].filter((e) => !held.has.has(e)));
        if (enter.size > 0) send(bootstrapFrames({ entities: enter, attrs: new Map() }, f, () => node.state, false, from, from));
        if (userIdOf(this.user) !== null) catchUp();
      } else {
        // with read rules or scopes a hello bootstraps from what the client may hold now (see bootstrap.ts)
        head = node.head;
        const from = `${node.logId}:${cursor}`;
        const to = `${node.logId}:${head}`;
        if (held?.drop.length) send(JSON.stringify({ t: 'drop', es: held.drop, attrs: [] }));
        // the drafts first (cursor unmoved, more to come): the bootstrap's last part says "caught up"
        const frame = this.entriesFrame(drafts.catchUp(this.user, head, undefined, true), from, true);
        if (frame) send(frame);
        send(bootstrapFrames(view, f, () => node.state, cursor > 0 && !held, from, to));
      }
    } else if (sentPos() === 0 || sentPos() < this.access.node.horizon) {
      // a fresh client, or one whose cursor is below the retention horizon: the current state of
      // everything, then the stream from the head (see bootstrap.ts)
      const node = this.access.node;
      head = node.head;
      const to = `${node.logId}:${head}`;
      const f = new EntryFilter(null, () => node.state.merged, (d) => this.access.drafts.canSee(this.user, d));
      const from = `${node.logId}:${sentPos()}`;
      // the drafts first (cursor unmoved, more to come): the bootstrap's last part says "caught up"
      const frame = this.entriesFrame(drafts.catchUp(this.user, head, undefined, true), from, true);
      if (frame) send(frame);
      send(bootstrapFrames(null, f, () => node.state, false, from, to));
    } else if (userIdOf(this.user) !== null) catchUp(); // an anonymous user sees open drafts only, never left out of a stream
    if (userIdOf(this.user) !== null) this.offs.push(drafts.onVisibility((ds) => catchUp(ds)));
    return head;
  }

  /**
   * What this client may hold now: the entities (whole) and attributes its user may read, of
   * those its scopes find when it has scopes.
   */
  private view(): { entities: Set<GlobalId>; attrs: Map<GlobalId, Set<string>> } {
    const r = this.access.filtersEntities ? this.readable : null;
    if (!this.scope) return r ?? { entities: new Set(), attrs: new Map() };
    const entities = new Set<GlobalId>();
    const attrs = new Map<GlobalId, Set<string>>();
    for (const e of this.scope.entities()) {
      if (!r || r.entities.has(e)) entities.add(e);
      else {
        const as = r.attrs.get(e);
        if (as) attrs.set(e, as);
      }
    }
    return { entities, attrs };
  }

  /** The held entities (a hello's list) that may stay (`has`, by their ids here) and those to drop. */
  private sortHeld(held: readonly GlobalId[], view: { entities: Set<GlobalId> }): { has: Set<GlobalId>; drop: GlobalId[] } {
    const m = this.access.node.state.merged;
    const has = new Set<GlobalId>();
    const drop: GlobalId[] = [];
    for (const e of held) {
      const rep = m.rep(e);
      // an entity merged into another here: the client gets the representative's whole state
      if (view.entities.has(rep)) {
        if (rep === e) has.add(e);
      } else drop.push(e);
    }
    return { has, drop };
  }

  /** Stored entries outside the stream, as the stream would send them, at the current cursor. */
  private sendEntries(entries: readonly DraftEntry[]): void {
    const frame = this.entriesFrame(entries, this.cursor);
    if (frame) this.send?.(frame);
  }

  private entriesFrame(entries: readonly DraftEntry[], cursor: string, more = false): string | null {
    const out: DraftEntry[] = [];
    for (const e of entries) {
      const json = this.filterer ? this.filterer.json(JSON.parse(e.json) as TxEnvelope, e.json) : e.json;
      if (json !== null) out.push({ ...e, json });
    }
    return out.length > 0 ? opsFrame(out, cursor, more) : null;
  }

  setScope(v: number, scopes: readonly Scope[]): void {
    if (!this.send) return;
    let answer: Record<string, unknown> = { t: 'scoped', v };
    try {
      const { entered, left, fromAll } = this.installScope(scopes);
      // from everything to a scope: what the client may hold outside it goes
      this.scopeChanged(entered, fromAll && this.scope ? this.everything().filter((e) => this.scope!.has(e) === false) : left);
    } catch (e) {
      const err = e as { code?: string; message?: string };
      answer = { t: 'scoped', v, error: { code: err.code ?? 'sync/scope-invalid', message: String(err.message ?? e).slice(0, 300) } };
    }
    this.send(JSON.stringify(answer));
  }

  /** The scopes in effect, as JSON (the same scopes again change nothing). */
  private scopeJson = '[]';

  /** Puts `scopes` in effect; returns the entities that entered and left what the client may hold. Throws (nothing changed) on a bad scope. */
  private installScope(scopes: readonly Scope[]): { entered: GlobalId[]; left: GlobalId[]; fromAll: boolean } {
    const json = JSON.stringify(scopes);
    if (json === this.scopeJson) return { entered: [], left: [], fromAll: false };
    const f = (this.filterer ??= new EntryFilter(this.access.filtersEntities ? this.readable : null, () => this.access.node.state.merged, (d) => this.access.drafts.canSee(this.user, d)));
    let out = { entered: [] as GlobalId[], left: [] as GlobalId[], fromAll: false };
    if (scopes.length === 0) {
      if (this.scope) {
        const had = new Set(this.scope.entities());
        this.scope.close();
        this.scope = null;
        f.inScope = null;
        out = { entered: this.everything().filter((e) => !had.has(e)), left: [], fromAll: false };
      }
    } else {
      const all = this.scope === null;
      const user = this.access.filtersEntities ? this.readable : null;
      const scope = this.scope ?? new ConnectionScope(this.access.scopeEngine(), (entered, left) => this.scopeChanged(entered, left), user);
      const { entered, left } = scope.set(scopes);
      this.scope = scope;
      f.inScope = (e) => scope.has(e);
      out = { entered, left, fromAll: all };
    }
    this.scopeJson = json;
    return out;
  }

  /** Entities entered the scopes (their current state goes, where readable) or left them (dropped). */
  private scopeChanged(entered: readonly GlobalId[], left: readonly GlobalId[]): void {
    if (!this.send || !this.filterer) return;
    // a drop names only what the client may hold (what it may not read it never had)
    const r = this.access.filtersEntities ? this.readable : null;
    if (r) left = left.filter((e) => r.entities.has(e) || r.attrs.has(e));
    if (left.length) this.send(JSON.stringify({ t: 'drop', es: left, attrs: [] }));
    if (entered.length === 0) return;
    const keys: string[] = [];
    for (const e of entered) {
      keys.push(e);
      for (const a of this.readable?.attrs.get(e) ?? []) keys.push(attrKey(e, a));
    }
    const envs = stateEnvelopes(this.filterer, keys);
    const pos = this.sentPos();
    if (envs.length > 0) this.send(opsFrame(envs.map((env) => ({ pos, tx: env.tx, json: JSON.stringify(env) })), this.cursor));
  }

  /** Every entity the client may hold without scopes: what the user may read (or, without read rules, every entity). */
  private everything(): GlobalId[] {
    if (this.access.filtersEntities && this.readable) return [...new Set([...this.readable.entities, ...this.readable.attrs.keys()])];
    const out = new Set<GlobalId>();
    for (const d of this.access.node.state.merged.datoms()) if (!d.a.startsWith('db/')) out.add(d.e);
    return [...out];
  }

  acknowledged(envs: readonly TxEnvelope[]): void {
    const f = this.filterer;
    if (!f || !this.send || (!this.access.filtersEntities && !this.scope)) return;
    // by attribute: the client holds nothing else of such an attribute, and keeps what it may read
    // of the entity; an entity it deleted and may not read goes whole (its retraction with it)
    const es = new Set<GlobalId>();
    const attrs = new Map<string, [GlobalId, string]>();
    for (const env of envs) {
      if (env.draft !== undefined) continue;
      for (const op of env.ops) {
        if (op.a === undefined) {
          if (!f.reads(op)) es.add(op.e);
        } else if (!f.reads(op)) attrs.set(op.e + '\u0000' + op.a, [op.e, op.a]);
      }
    }
    if (es.size || attrs.size) this.send(JSON.stringify({ t: 'drop', es: [...es], attrs: [...attrs.values()].filter(([e]) => !es.has(e)) }));
  }

  redact<R extends Rejection>(r: R): R {
    return this.filterer ? redactRejection(r, this.filterer) : r;
  }

  /** What this user may read changed: send the current state of what was gained, drop what was lost. */
  changed(gained: ReadonlySet<string>, lost: ReadonlySet<string>, drafts: ReadonlySet<GlobalId>): void {
    if (drafts.size > 0 && userIdOf(this.user) !== null) this.sendEntries(this.access.drafts.catchUp(this.user, this.sentPos(), drafts));
    if (!this.filterer || !this.send) return;
    const drop = this.filterer.dropOf(lost);
    const grant = new Set(gained);
    if (drop) {
      this.send(JSON.stringify({ t: 'drop', ...drop }));
      // a dropped entity's attributes the user still reads (can-read-attr) come back at once
      for (const e of drop.es) for (const a of this.readable?.attrs.get(e) ?? []) grant.add(attrKey(e, a));
    }
    const envs = stateEnvelopes(this.filterer, grant);
    const pos = this.sentPos();
    if (envs.length > 0) this.send(opsFrame(envs.map((env) => ({ pos, tx: env.tx, json: JSON.stringify(env) })), this.cursor));
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
    this.scope?.close();
    this.scope = null;
    this.access.track(this, false);
    this.readable = null;
  }
}

/** An `ops` message of stored entries, leaving the client's cursor at `cursor`. */
export function opsFrame(entries: readonly DraftEntry[], cursor: string, more = false): string {
  return `{"t":"ops","txs":[${entries.map((e) => `{"pos":"${e.pos}","env":${e.json}}`).join(',')}],"cursor":"${cursor}","more":${more}}`;
}
