/**
 * What a server node knows of the committed log: the database it denotes, held as core's
 * {@link MergeState} — the same merge code and schema reader the replicas run — plus what judging
 * needs besides (who holds `:db.unique/value` values, the entities of drafts). It is the
 * {@link Judge} handed to `ServerStore.append`, so every check runs under the store's writer lock
 * against a state that includes everything committed before (by any node).
 *
 * Judging an envelope is "would every replica accept and merge this" by construction: the
 * envelope rules of `@dataloom/protocol`, then the server's checks (`judge.ts`) against the merged
 * state, then the envelope is merged and the result checked for uniqueness; a rejected envelope's
 * ops are removed again (the state is a function of its op set, so that restores it exactly).
 *
 * Schema is data (`@dataloom/core` `schema-data.ts`): an envelope that changes the merge-relevant
 * schema makes a new merge state with the new schema, rebuilt from the ops held.
 *
 * Every envelope applied to the committed view is reported once, in log order, with the datoms
 * it changed ({@link CommittedEntry}) — the feed a server-side query engine follows.
 *
 * Invariant: `head` is the highest log position applied. Envelopes are applied exactly once, in
 * log order. An accepted-but-uncommitted envelope leaves the state `dirty`; the node then rebuilds
 * the state from the store (see `sync-node.ts`).
 */
import { parseHlc, type DatomChange, type GlobalId, type Op, type TxEnvelope, type WireValue } from '@dataloom/core';
import {
  MergeSchema,
  MergeState,
  dataMergeSchema,
  schemaFromDatoms,
  schemaOps,
  visibleByKey,
  visibleChanges,
  type MergeAttr,
} from '@dataloom/core/internals';
import { checkEnvelope } from '@dataloom/protocol';
import type { Judge, LogEntry, Verdict } from '../storage/types.js';
import { checkCas, checkData, checkSchemaValues, reject, touchesSchema, upsertTargets } from './judge.js';
import { UniqueIndex } from './unique-index.js';
import type { WriteGate } from '../permissions/writable.js';

/** One envelope applied to the committed view, with the visible datoms it changed. */
export interface CommittedEntry {
  pos: number;
  env: TxEnvelope;
  /** Retractions first, then additions; empty for drafts (kept out of the committed view). */
  changes: readonly DatomChange[];
}

export interface ServerStateOptions {
  /** Reject transactions stamped more than this many ms ahead of `now()`. */
  maxClockDriftMs: number;
  now?: () => number;
  /**
   * Drop superseded ops (older values of a register) after this many ops were added since the
   * last time; 0 never. Keeps memory proportional to the database rather than to its history.
   */
  compactEvery?: number;
  /** Also drop superseded ops after this many bytes of new values (strings, text updates) were added; default unbounded. */
  compactBytes?: number;
  /** Called for every envelope applied to the committed view, in log order. */
  onCommit?: (entry: CommittedEntry) => void;
  /** Permissions judged with an envelope (`permissions/writable.ts`): its identity upserts, then its writes once merged; null: none. */
  writeGate?: () => WriteGate | null;
}

/** The committed state at a log position, without history (a checkpoint, `checkpoint.ts`). */
export interface StateBase {
  head: number;
  maxMs: number;
  /** The ops the merged state holds (drafts excluded), in any order. */
  ops: readonly Op[];
  /** Whether superseded ops were dropped from them (else they are every committed op up to `head`). */
  compacted: boolean;
}

/** A merge state with its uniqueness index. */
interface Db {
  merge: MergeState;
  unique: UniqueIndex;
}

function dbOf(schema: MergeSchema, ops: Iterable<Op>): Db {
  const merge = new MergeState(schema);
  merge.apply(Array.isArray(ops) ? ops : [...ops]);
  return { merge, unique: UniqueIndex.of(merge) };
}

/**
 * The first attribute whose new definition needs op history the state may have dropped: a
 * component or text attribute (their rules look at past states), or cardinality one turned many
 * (every value ever asserted and not retracted becomes visible; compaction keeps only the latest
 * op of a cardinality-one register, so the state's memory follows the database, not the history).
 */
function needsHistory(from: MergeSchema, to: MergeSchema): string | null {
  for (const [a, t] of to.entries()) {
    const f: MergeAttr = from.get(a);
    if ((t.component && !f.component) || (t.text && !f.text) || (t.many && !f.many)) return a;
  }
  return null;
}

export class ServerState implements Judge {
  /** Highest applied log position. */
  head = 0;
  /** True after `check` accepted an envelope that is not yet known to be committed. */
  dirty = false;
  /** True when a committed schema change needed history this state had compacted: rebuild from the store. */
  stale = false;
  /** Highest wall-clock ms of any applied stamp. */
  maxMs = 0;
  private db: Db;
  /** Entities that ever held a schema attribute. */
  private readonly schemaEntities = new Set<GlobalId>();
  /** Draft id → entities its envelopes wrote (for refs within the draft). */
  private readonly drafts = new Map<string, Set<GlobalId>>();
  /** Accepted by `check`, waiting for `settle` to learn their positions. */
  private pending: Array<{ env: TxEnvelope; changes: readonly DatomChange[] }> = [];
  private compacted = false;
  private sinceCompaction = 0;
  private bytesSinceCompaction = 0;
  private readonly now: () => number;

  constructor(private readonly opts: ServerStateOptions) {
    this.now = opts.now ?? Date.now;
    this.db = { merge: new MergeState(), unique: new UniqueIndex(new MergeSchema()) };
  }

  /**
   * A state holding `entries` (a prefix of the log, in order), built in one pass. With `base` (a
   * checkpoint, `checkpoint.ts`): the committed ops of the log up to `base.head` are `base.ops`,
   * and `entries` are the draft entries at or below it (remembered, not merged) and the tail after
   * it; the state has lost history when the checkpoint's had (`base.compacted`).
   */
  static fromLog(entries: readonly LogEntry[], opts: ServerStateOptions, base?: StateBase): ServerState {
    const s = new ServerState(opts);
    const ops: Op[] = base ? base.ops.slice() : [];
    if (base) {
      s.head = base.head;
      s.maxMs = base.maxMs;
    }
    let tailOps = 0;
    for (const { pos, env } of entries) {
      if (pos > s.head) s.head = pos;
      s.noteStamp(env);
      if (env.draft !== undefined) s.noteDraft(env);
      else if (!base || pos > base.head) {
        for (const op of env.ops) ops.push(op);
        tailOps += env.ops.length;
      }
    }
    s.db = dbOf(dataMergeSchema(ops), ops);
    for (const op of schemaOps(ops)) s.schemaEntities.add(op.e);
    s.sinceCompaction = base ? tailOps : ops.length;
    if (!base) for (const op of ops) if (typeof op.v === 'string') s.bytesSinceCompaction += op.v.length;
    // not compacted yet: the server may still bootstrap a schema that needs the history
    // (its node calls `compactIfDue` once it has)
    if (base) s.compacted = base.compacted;
    return s;
  }

  /** Whether superseded ops were dropped (schema changes that need history are then refused). */
  get historyCompacted(): boolean {
    return this.compacted;
  }

  /** The log this state is built from lost superseded ops (compaction below a retention horizon). */
  markHistoryCompacted(): void {
    this.compacted = true;
  }

  // ---- reading (the committed view; between `check` and `settle` it includes accepted envelopes)

  /** The merged database. Read it; never apply to it. */
  get merged(): MergeState {
    return this.db.merge;
  }
  get schema(): MergeSchema {
    return this.db.merge.schema;
  }
  /** The value of cardinality-one `(e, a)` (the least visible value for many), or null. */
  value(e: GlobalId, a: string): WireValue | null {
    return this.db.merge.values(e, a)[0] ?? null;
  }
  /** Whether any committed op was written on `e`. */
  hasEntity(e: GlobalId): boolean {
    return this.db.merge.hasEntity(e);
  }
  /** Whether `op` writes schema as data: a schema attribute, or retractEntity of an entity that held one. */
  touchesSchema(op: Op): boolean {
    return touchesSchema(op, this.schemaEntities);
  }
  /** The entity defining attribute `ident` as data, or null. */
  attributeEntity(ident: string): GlobalId | null {
    return this.db.merge.lookup('db/ident', { kw: ident });
  }

  // ---- Judge

  catchUp(entries: readonly LogEntry[]): void {
    for (const { pos, env } of entries) {
      if (pos <= this.head) continue;
      const changes = this.applyCommitted(env);
      this.opts.writeGate?.()?.applied(changes);
      this.head = pos;
      this.opts.onCommit?.({ pos, env, changes });
    }
  }

  /** Entries (already applied by `check` or `catchUp`) are committed: learn their positions. */
  settle(entries: readonly LogEntry[]): void {
    for (const { pos, env } of entries) {
      if (pos <= this.head) continue;
      const p = this.pending.shift();
      if (!p || p.env.tx !== env.tx) throw new Error(`settle: entry ${pos} (${env.tx}) was not judged by this state`);
      this.head = pos;
      this.opts.onCommit?.({ pos, env, changes: p.changes });
    }
    this.dirty = this.pending.length > 0;
    if (!this.dirty) this.maybeCompact();
  }

  check(env: TxEnvelope): Verdict {
    const v = this.judge(env);
    if (v.ok) this.dirty = true;
    return v;
  }

  // ---- internals

  private judge(input: TxEnvelope): Verdict {
    let env: TxEnvelope;
    try {
      env = checkEnvelope(input);
    } catch (e) {
      const err = e as { code: string; message: string; data?: Record<string, unknown> };
      return reject(err.code, err.message, err.data);
    }
    const ms = parseHlc(env.tx).ms;
    const now = this.now();
    if (ms > now + this.opts.maxClockDriftMs) {
      return reject('sync/clock-drift', `transaction stamp ${env.tx} is ${ms - now} ms ahead of the server clock`, { tx: env.tx });
    }
    const merge = this.db.merge;
    if (env.draft !== undefined) {
      // Drafts stay out of the committed view: judged against it, then only remembered.
      const mine = this.drafts.get(env.draft);
      const known = (e: GlobalId) => merge.hasEntity(e) || mine?.has(e) === true;
      const bad = checkSchemaValues(env) ?? checkData(env, merge.schema, known) ?? checkCas(env, merge);
      if (bad) return bad;
      this.noteStamp(env);
      this.noteDraft(env);
      this.pending.push({ env, changes: [] });
      return { ok: true };
    }
    const schemaTouched = env.ops.some((op) => touchesSchema(op, this.schemaEntities));
    let db = this.db;
    if (schemaTouched) {
      const bad = checkSchemaValues(env);
      if (bad) return bad;
      const next = this.schemaAfter(env, true);
      if (!next.ok) return next.verdict;
      if (!next.schema.sameAs(merge.schema)) {
        const attr = this.compacted ? needsHistory(merge.schema, next.schema) : null;
        if (attr !== null) {
          return reject('sync/schema-history', `making :${attr} a component, text or cardinality-many attribute needs the full op history; restart the server with the new schema`, { a: attr });
        }
        db = dbOf(next.schema, merge.allOps());
      }
    }
    const bad = checkData(env, db.merge.schema, (e) => db.merge.hasEntity(e)) ?? checkCas(env, db.merge);
    if (bad) return bad;
    const gate = this.opts.writeGate?.();
    // identity upserts are judged against the state the envelope merges into (everything committed or accepted before it)
    const into = gate ? upsertTargets(env, db.merge) : [];
    const hidden = into.length > 0 ? gate!.upserts(input, into) : null;
    if (hidden) return hidden;
    const before = db === this.db ? null : visibleByKey(merge);
    let changes = db.merge.apply(env.ops);
    db.unique.update(changes);
    const clash = db.unique.conflict(changes);
    if (clash) {
      if (db === this.db) db.unique.update(db.merge.remove(env.ops.map((o) => o.id)));
      return reject('sync/unique', `:${clash.a} ${JSON.stringify(clash.v).slice(0, 80)} is already held by another entity (:db.unique/value)`, {
        a: clash.a,
        holders: clash.holders.join(' '),
      });
    }
    // A schema change re-merged everything: report the whole difference to the previous view.
    if (before !== null) changes = visibleChanges(before, db.merge);
    const refused = gate?.check(input, changes, db.merge);
    if (refused) {
      if (db === this.db) db.unique.update(db.merge.remove(env.ops.map((o) => o.id)));
      return refused;
    }
    gate?.applied(changes);
    this.db = db;
    this.noteApplied(env);
    this.pending.push({ env, changes });
    return { ok: true };
  }

  /** Applies a committed envelope (no judging) and returns the changes. */
  private applyCommitted(env: TxEnvelope): readonly DatomChange[] {
    if (env.draft !== undefined) {
      this.noteStamp(env);
      this.noteDraft(env);
      return [];
    }
    if (env.ops.some((op) => touchesSchema(op, this.schemaEntities))) {
      const next = this.schemaAfter(env, false);
      if (next.ok && !next.schema.sameAs(this.db.merge.schema)) {
        if (this.compacted && needsHistory(this.db.merge.schema, next.schema) !== null) this.stale = true;
        const before = visibleByKey(this.db.merge);
        this.db = dbOf(next.schema, [...this.db.merge.allOps(), ...env.ops]);
        this.noteApplied(env);
        return visibleChanges(before, this.db.merge);
      }
    }
    const changes = this.db.merge.apply(env.ops);
    this.db.unique.update(changes);
    this.noteApplied(env);
    return changes;
  }

  /**
   * The schema after `env`: the attributes defined by the schema entities' ops plus `env`'s. With
   * `strict`, a definition this envelope touches must validate (`sync/schema-invalid`).
   */
  private schemaAfter(env: TxEnvelope, strict: boolean): { ok: true; schema: MergeSchema } | { ok: false; verdict: Verdict } {
    const touched = new Set<GlobalId>();
    for (const op of env.ops) if (touchesSchema(op, this.schemaEntities)) touched.add(op.e);
    const ents = new Set([...this.schemaEntities, ...touched]);
    const ops: Op[] = [];
    for (const e of ents) ops.push(...this.db.merge.opsOf(e));
    for (const op of env.ops) if (ents.has(op.e)) ops.push(op);
    const scratch = new MergeState();
    scratch.apply(schemaOps(ops));
    const reps = new Set([...touched].map((e) => scratch.rep(e)));
    const entries: Array<[string, MergeAttr]> = [];
    for (const [ident, d] of schemaFromDatoms(scratch.datoms())) {
      if (d.attr) entries.push([ident, d.attr]);
      else if (strict && reps.has(d.entity)) {
        return { ok: false, verdict: reject('sync/schema-invalid', `the definition of :${ident} would not be a valid schema: ${JSON.stringify(d.props).slice(0, 160)}`, { a: ident }) };
      }
    }
    return { ok: true, schema: new MergeSchema(entries) };
  }

  private noteStamp(env: TxEnvelope): void {
    const ms = parseHlc(env.tx).ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  private noteDraft(env: TxEnvelope): void {
    let s = this.drafts.get(env.draft!);
    if (!s) this.drafts.set(env.draft!, (s = new Set()));
    for (const op of env.ops) s.add(op.e);
  }

  private noteApplied(env: TxEnvelope): void {
    this.noteStamp(env);
    for (const op of schemaOps(env.ops)) this.schemaEntities.add(op.e);
    this.sinceCompaction += env.ops.length;
    for (const op of env.ops) if (typeof op.v === 'string') this.bytesSinceCompaction += op.v.length;
  }

  /** Drop superseded ops if enough ops or bytes arrived since the last time (see the options). */
  compactIfDue(): void {
    if (!this.dirty) this.maybeCompact();
  }

  private maybeCompact(): void {
    const every = this.opts.compactEvery ?? 20_000;
    const byOps = every > 0 && this.sinceCompaction >= every;
    if (!byOps && !(this.bytesSinceCompaction >= (this.opts.compactBytes ?? Infinity))) return;
    this.sinceCompaction = 0;
    this.bytesSinceCompaction = 0;
    // Per register, not per value: a later cardinality one → many change rebuilds from the store
    // (`needsHistory`).
    const ids = this.db.merge.supersededBelow('~');
    if (ids.length === 0) return;
    this.compacted = true;
    this.db.unique.update(this.db.merge.remove(ids));
  }
}
