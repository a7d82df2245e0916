/**
 * Write permissions: `(can-write ?user ?e)` for every entity a pushed transaction writes, judged
 * with the transaction under the store's writer lock (`ServerState` calls {@link WriteGate.check}
 * after merging it), against the database after it — and, where the rules name `$before`, the
 * database before it. An entity the transaction leaves without any datom (deleted) is judged on
 * the database before it. Schema (`db/*`) and draft-entity (`draft/*`) attributes are not asked
 * about: the server's schema setting and the draft directory decide those.
 *
 * Under read rules it also judges identity upserts, before the transaction merges and against the
 * same database (everything committed or accepted before it, under the lock): a
 * `:db.unique/identity` value held by an entity the writer may not read (`can-read`) is refused
 * `sync/unique` rather than merged — the writer would then read the holder's datoms. Judged here
 * rather than when the push arrives, so a holder committed meanwhile cannot slip in.
 *
 * The database the rules read is a core `Db` (entity ids interned) that follows the judging view
 * change by change, so a check costs the query, not a copy of the database. It is kept only while
 * something reads it: write rules, or read rules under a schema with a `:db.unique/identity`
 * attribute of the app (upserts). With read rules alone and no such attribute the gate holds
 * nothing and costs nothing per transaction (at 100k docs: 27 MiB and ~9 µs per transaction
 * saved); a schema change adding one builds it, and so does the first upsert by `:db/ident` (a
 * client declaring an attribute that exists), which then waits for the build (~0.5–0.9 s at 100k).
 */
import { type DatomChange, type Db, type GlobalId, type TxEnvelope } from '@dataloom/core';
import { Interner, TX0, applyDatoms, initDb, type MergeSchema, type MergeState } from '@dataloom/core/internals';
import { q } from '@dataloom/query';
import type { Verdict } from '../storage/types.js';
import { userIdOf } from '../drafts/visibility.js';
import { HEADS, type Permissions } from './rules.js';
import { schemaInput } from './readable.js';
import { QuietRules } from './quiet.js';

/** What `ServerState` asks while judging (see `ServerStateOptions.writeGate`). */
export interface WriteGate {
  /** Whether `env`'s writer may make `changes` (already merged into `merged`): a refusal, or null. */
  check(env: TxEnvelope, changes: readonly DatomChange[], merged: MergeState): Verdict | null;
  /** Whether `env`'s writer may upsert into `into` (the entities its identity values are held by, before it merges): a refusal, or null. */
  upserts(env: TxEnvelope, into: ReadonlyArray<{ a: string; e: GlobalId }>): Verdict | null;
  /** Changes accepted into the judging view (judged here, or committed by another node). */
  applied(changes: readonly DatomChange[]): void;
}

const ANONYMOUS = '\u0000anonymous';

export class WriteChecker implements WriteGate {
  /** Null while nothing reads it (see the module doc). */
  private db: Db | null = null;
  private ids!: Interner;
  private schema: MergeSchema | null = null;
  private tx = TX0;
  private readonly query: string;
  private readonly readQuery = `[:find [?e ...] :in $ % ?user [?e ...] :where (${HEADS.read} ?user ?e)]`;
  /** The database after the last transaction {@link check} accepted (taken by {@link applied}). */
  private accepted: { changes: readonly DatomChange[]; db: Db } | null = null;

  constructor(
    private readonly perms: Permissions,
    private readonly merged: () => MergeState,
    /** The user who pushed `env` (undefined: the server's own or trusted back-end writes, not checked). */
    private readonly writerOf: (env: TxEnvelope) => unknown,
    /** Wraps the rules' built-ins: one that throws on the data does not match (`quiet.ts`). */
    private readonly quiet: QuietRules = new QuietRules(),
  ) {
    this.query = perms.before
      ? `[:find [?e ...] :in $ $before % ?user [?e ...] :where (${HEADS.write} ?user ?e)]`
      : `[:find [?e ...] :in $ % ?user [?e ...] :where (${HEADS.write} ?user ?e)]`;
    this.reset();
  }

  /** Whether the gate holds (and follows) a database now. */
  get holdsDatabase(): boolean {
    return this.db !== null;
  }

  /** Whether anything reads the database under schema `s`: write rules, or read rules and an identity attribute. */
  private needed(s: MergeSchema): boolean {
    if (this.perms.write) return true;
    if (!(this.perms.read || this.perms.readAttr)) return false;
    for (const [a, m] of s.entries()) if (m.identity && !a.startsWith('db/')) return true;
    return false;
  }

  /** Rebuilds the database from the merged state (start, node rebuild, schema change), or drops it when nothing reads it. */
  reset(build = false): void {
    const m = this.merged();
    this.schema = m.schema;
    this.ids = new Interner();
    this.tx = TX0 + 1;
    this.accepted = null;
    if (!build && !this.needed(m.schema)) {
      this.db = null;
      return;
    }
    const datoms = [];
    for (const d of m.datoms()) datoms.push(this.ids.datom({ ...d, added: true }, this.tx));
    this.db = initDb(datoms, schemaInput(m.schema) as never); // one bulk load, not a transaction of every datom
  }

  applied(changes: readonly DatomChange[]): void {
    const done = this.accepted;
    this.accepted = null;
    if (this.merged().schema !== this.schema) return this.reset();
    if (this.db === null) return;
    if (done?.changes === changes) this.db = done.db;
    else if (changes.length) this.db = this.with(changes);
  }

  private with(changes: readonly DatomChange[]): Db {
    const txId = ++this.tx;
    return applyDatoms(
      this.db!,
      changes.map((c) => this.ids.datom(c, txId)),
      txId,
    ).db;
  }

  upserts(env: TxEnvelope, into: ReadonlyArray<{ a: string; e: GlobalId }>): Verdict | null {
    const writer = this.writerOf(env);
    if (writer === undefined || env.draft !== undefined || !(this.perms.read || this.perms.readAttr)) return null;
    // (an envelope adding an identity attribute may upsert by it: the database is then built here)
    if (this.merged().schema !== this.schema || this.db === null) this.reset(true);
    const readable = new Set<GlobalId>();
    if (this.perms.read) {
      // an entity read through `can-read-attr` only is not readable whole: its other datoms would come along
      try {
        const es = into.map((h) => this.ids.eid(h.e));
        for (const eid of q(this.readQuery, this.db!, this.quiet.oneShot(this.perms.data), userIdOf(writer) ?? ANONYMOUS, es) as number[]) readable.add(this.ids.gid(eid)!);
      } catch (e) {
        const err = e as { code?: string; message: string };
        // (the error's message is not passed on: it could name a value the writer may not read)
        return { ok: false, code: 'sync/forbidden', message: `(${HEADS.read} …) cannot be evaluated (${err.code ?? 'error'})`, data: {} };
      }
    }
    const hidden = into.find((h) => !readable.has(h.e));
    if (hidden === undefined) return null;
    return { ok: false, code: 'sync/unique', message: `:${hidden.a} value is held by an entity this user may not read (:db.unique/identity)`, data: { a: hidden.a } };
  }

  check(env: TxEnvelope, changes: readonly DatomChange[], merged: MergeState): Verdict | null {
    const writer = this.writerOf(env);
    if (!this.perms.write || writer === undefined || env.draft !== undefined) return null;
    const user = userIdOf(writer) ?? ANONYMOUS;
    const touched = new Set<GlobalId>();
    for (const op of env.ops) {
      if (op.a !== undefined && (op.a.startsWith('db/') || op.a.startsWith('draft/'))) continue;
      touched.add(merged.rep(op.e));
    }
    if (touched.size === 0) return null;
    if (merged.schema !== this.schema) this.reset();
    const before = this.db!;
    const after = this.with(changes);
    const live = [...touched].filter((e) => merged.exists(e));
    const gone = [...touched].filter((e) => !merged.exists(e));
    const allowed = new Set<GlobalId>();
    this.quiet.threw = null;
    try {
      for (const [db, es] of [[after, live], [before, gone]] as const) {
        if (es.length === 0) continue;
        const args = this.perms.before ? [db, before] : [db];
        const ok = q(this.query, ...args, this.quiet.oneShot(this.perms.data), user, es.map((e) => this.ids.eid(e))) as number[];
        for (const eid of ok) allowed.add(this.ids.gid(eid)!);
      }
    } catch (e) {
      // the judge must not throw: a rule that cannot be evaluated refuses (and says why)
      const err = e as { code?: string; message: string };
      // (the error's message is not passed on: it could name a value the writer may not read)
      return { ok: false, code: 'sync/forbidden', message: `(${HEADS.write} …) cannot be evaluated (${err.code ?? 'error'})`, data: {} };
    }
    const refused = [...touched].find((e) => !allowed.has(e));
    if (refused === undefined) {
      this.accepted = { changes, db: after };
      return null;
    }
    // a built-in that threw on the data matched nothing: say which, not on what value
    const threw = this.quiet.threw as QuietRules['threw'];
    const why = threw ? ` (permission rule (${threw.rule} …) calls ${threw.fn}, which failed on the data; the server reports it)` : '';
    return { ok: false, code: 'sync/forbidden', message: `not permitted to write entity ${refused}${why}`, data: threw ? { e: refused, rule: threw.rule, fn: threw.fn } : { e: refused } };
  }
}
