/**
 * The replica side of drafts: what `client.draft(id)` calls through the worker RPC (the
 * `draft*` methods of the method table, delegated by `ClientService`). Everything that reads or
 * opens a draft's overlay runs as a job of the replica's serial queue (`Replica.run`).
 *
 * Overlays stay open while a watch (a query or a conflict list) uses them; a few more recently
 * used ones are kept warm for `q`/`pull`/`transact` (least recently used first out).
 */
import { DataloomError, isGlobalId, kw, pull, type GlobalId, type HlcString } from '@dataloom/core';
import { replicaOfTx } from '@dataloom/core/internals';
import { q } from '@dataloom/query';
import type { View } from '@dataloom/dataflow';
import type { Replica } from '../replica/replica.js';
import type { DiffBatch, WatchInit } from '../runtime/mirror.js';
import type { TransactResult } from '../runtime/types.js';
import { DRAFT_ATTRS, closingForms } from './closing.js';
import { draftId } from './ids.js';
import type { DraftConflict, DraftOverlay } from './overlay.js';
import type { UndoMode } from '../undo/stacks.js';

/** Options of `client.createDraft`. */
export interface CreateDraftOptions {
  /**
   * A name everyone who should share the draft uses (e.g. `order-42/edit`): the draft id is
   * derived from it. Without a name the draft gets a fresh id.
   */
  name?: string;
  /** The author's user id (what `authenticate` returns on the server). Set: the draft is private to the author and `collaborators`. */
  author?: string | number;
  /** User ids invited to see and edit the draft. */
  collaborators?: Array<string | number>;
}

/** Who works on a draft. */
export interface DraftInfo {
  id: GlobalId;
  /** `:draft/author`, or null for an open draft. */
  author: unknown;
  /** `:draft/collaborators`. */
  collaborators: unknown[];
  /** `open`, `committed` or `discarded` (the last closing), or null when never written. */
  status: string | null;
  /** Replicas with live operations in the draft, with the stamp of their newest one. */
  editors: Array<{ replica: string; tx: HlcString }>;
  /** Number of live operations. */
  live: number;
}

/** Overlays kept open without a watch. */
const WARM = 4;

export class DraftService {
  private readonly watches = new Map<number, { draft: GlobalId; stop: () => void }>();
  private readonly users = new Map<GlobalId, number>();
  private warm: GlobalId[] = [];
  private nextWatch = 1;

  constructor(
    private readonly replica: Replica,
    private readonly transactFn: (tx: unknown, options?: { draft?: string; undo?: UndoMode }) => Promise<TransactResult>,
  ) {}

  /** A new draft id; with `author`/`collaborators` its draft entity is written (committed). */
  async create(options: CreateDraftOptions = {}): Promise<GlobalId> {
    const named = options.name !== undefined ? draftId(options.name) : null;
    const m: Record<string, unknown> = { ':db/id': named ?? 'draft', [':' + DRAFT_ATTRS.status]: kw('draft.status/open') };
    if (options.author !== undefined) m[':' + DRAFT_ATTRS.author] = options.author;
    if (options.collaborators?.length) m[':' + DRAFT_ATTRS.collaborators] = options.collaborators;
    if (named !== null && options.author === undefined && !options.collaborators?.length) return named;
    await this.replica.ready;
    this.checkSchema();
    const r = await this.transactFn([m], { undo: 'skip' });
    return named ?? r.globalIds['draft']!;
  }

  transact(id: string, tx: unknown): Promise<TransactResult> {
    return this.transactFn(tx, { draft: draftId(id) });
  }

  async q(id: string, query: unknown, inputs: unknown[]): Promise<unknown> {
    return this.withOverlay(id, (ov) => q(query as never, ov.db(), ...inputs));
  }

  async pull(id: string, pattern: unknown, eid: unknown): Promise<unknown> {
    return this.withOverlay(id, (ov) => pull(ov.db(), pattern as never, this.eidOf(eid) as never));
  }

  /** Registers `query` on the draft's view; `sink` gets each change's diffs. */
  async watch(id: string, query: unknown, inputs: unknown[], sink: (b: DiffBatch) => void): Promise<{ id: number; init: WatchInit }> {
    const d = draftId(id);
    return this.replica.run(() => {
      const ov = this.open(d);
      const wid = this.nextWatch++;
      let view: View;
      try {
        view = ov.conn.register(`dataloom/draft-watch-${wid}`, query as never, ...inputs);
      } catch (e) {
        this.close(d);
        throw e;
      }
        const init: WatchInit = { kind: view.kind, asSet: view.result() instanceof Set, rows: view.initialDiffs(null).map((x) => x[0]) };
      view.subscribe((diffs) => {
        if (diffs.length) sink({ tx: diffs[0]![1], rows: diffs.map((x) => x[0]), mults: diffs.map((x) => x[2]) });
      });
      this.watches.set(wid, { draft: d, stop: () => view.close() });
      return { id: wid, init };
    });
  }

  /** Streams the draft's conflicts: now, then whenever they change. Returns the watch id. */
  async watchConflicts(id: string, sink: (c: DraftConflict[]) => void): Promise<number> {
    const d = draftId(id);
    return this.replica.run(() => {
      const ov = this.open(d);
      const wid = this.nextWatch++;
      let last = JSON.stringify(ov.conflicts());
      sink(JSON.parse(last) as DraftConflict[]);
      const off = ov.onChange(() => {
        const now = JSON.stringify(ov.conflicts());
        if (now === last) return;
        last = now;
        sink(JSON.parse(now) as DraftConflict[]);
      });
      this.watches.set(wid, { draft: d, stop: off });
      return wid;
    });
  }

  unwatch(wid: number): void {
    const w = this.watches.get(wid);
    if (!w) return;
    this.watches.delete(wid);
    w.stop();
    this.close(w.draft);
  }

  async conflicts(id: string): Promise<DraftConflict[]> {
    return this.withOverlay(id, (ov) => ov.conflicts());
  }

  /**
   * Commits the draft: its net effect and a closing as one ordinary transaction (judged by the
   * server like any other; a refusal rolls it back and the draft is live again). Resolves once it
   * is durable locally; `{ tx: null }` when the draft has nothing live.
   */
  commit(id: string): Promise<{ tx: HlcString | null }> {
    return this.close1(id, 'committed');
  }

  /** Discards the draft: a closing alone. */
  discard(id: string): Promise<{ tx: HlcString | null }> {
    return this.close1(id, 'discarded');
  }

  private async close1(id: string, status: 'committed' | 'discarded'): Promise<{ tx: HlcString | null }> {
    const d = draftId(id);
    await this.replica.ready;
    this.checkSchema();
    const forms = await this.withOverlay(d, (ov) => {
      if (ov.liveOps().next().done) return null;
      const effect = status === 'committed' ? ov.netEffect() : [];
      return [...effect, ...closingForms(d, this.replica.drafts.closedStamps(d), this.replica.drafts.ops(d), status)];
    });
    if (forms === null) return { tx: null };
    // a commit is the user's change of the main database (undoable there); a discard is not
    const r = await this.transactFn(forms, { undo: status === 'committed' ? 'record' : 'skip' });
    return { tx: r.tx };
  }

  /** Who works on the draft. */
  async info(id: string): Promise<DraftInfo> {
    const d = draftId(id);
    await this.replica.readable;
    const merge = this.replica.merged();
    const editors = new Map<string, HlcString>();
    const live = this.replica.drafts.liveOps(d);
    for (const op of live) {
      const r = replicaOfTx(op.tx);
      if ((editors.get(r) ?? '') < op.tx) editors.set(r, op.tx);
    }
    const status = merge.values(d, DRAFT_ATTRS.status)[0];
    return {
      id: d,
      author: merge.values(d, DRAFT_ATTRS.author)[0] ?? null,
      collaborators: merge.values(d, DRAFT_ATTRS.collaborators),
      status: typeof status === 'object' && 'kw' in status ? status.kw.slice(status.kw.indexOf('/') + 1) : null,
      editors: [...editors].map(([replica, tx]) => ({ replica, tx })).sort((x, y) => (x.replica < y.replica ? -1 : 1)),
      live: live.length,
    };
  }

  /** Invites users to the draft (committed: `:draft/collaborators`). */
  async invite(id: string, users: Array<string | number>): Promise<void> {
    const d = draftId(id);
    await this.replica.ready;
    this.checkSchema();
    if (users.length) await this.transactFn(users.map((u) => [':db/add', d, ':' + DRAFT_ATTRS.collaborators, u]), { undo: 'skip' });
  }

  /** Stops every watch (the client closes). */
  stopAll(): void {
    for (const w of this.watches.values()) w.stop();
    this.watches.clear();
  }

  // ------------------------------------------------------------------ overlays

  /** Runs `fn` with the draft's overlay, as a job of the replica's queue. */
  async withOverlay<T>(id: string, fn: (ov: DraftOverlay) => T): Promise<T> {
    const d = draftId(id);
    await this.replica.readable;
    return this.replica.run(() => {
      const ov = this.open(d);
      try {
        return fn(ov);
      } finally {
        this.close(d);
      }
    });
  }

  /** Opens (or reuses) the overlay of `d` and counts a user. */
  private open(d: GlobalId): DraftOverlay {
    this.users.set(d, (this.users.get(d) ?? 0) + 1);
    this.warm = [d, ...this.warm.filter((x) => x !== d)];
    return this.replica.drafts.overlay(d);
  }

  /** One user less; an overlay without users stays open only among the few most recent. */
  private close(d: GlobalId): void {
    const n = (this.users.get(d) ?? 1) - 1;
    if (n > 0) this.users.set(d, n);
    else {
      this.users.delete(d);
      if (!this.warm.includes(d)) this.replica.drafts.release(d);
    }
    while (this.warm.length > WARM) {
      const x = this.warm.pop()!;
      if (!this.users.has(x)) this.replica.drafts.release(x);
    }
  }

  private eidOf(x: unknown): unknown {
    if (isGlobalId(x)) return this.replica.eid(this.replica.merged().rep(x));
    return x;
  }

  private checkSchema(): void {
    const s = this.replica.merged().schema;
    if (!s.get(DRAFT_ATTRS.closed).many || !s.get(DRAFT_ATTRS.collaborators).many) {
      throw new DataloomError('draft/schema', 'drafts need their attributes in the schema: add draftSchema (from @dataloom/core) to the schema of the client and of the server', {
        attribute: DRAFT_ATTRS.closed,
      });
    }
  }
}
