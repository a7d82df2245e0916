/**
 * `client.draft(id)` on the calling thread: a handle over the `draft*` methods of the worker RPC.
 * Holding a handle costs nothing; the replica opens the draft's overlay while something reads or
 * watches it.
 */
import type { HlcString } from '@dataloom/core';
import type { ServiceApi } from '../runtime/methods.js';
import { listenRemote, mirrorWatch, type WatchedQuery } from '../runtime/mirror.js';
import type { TransactResult } from '../runtime/types.js';
import { draftId } from './ids.js';
import type { DraftConflict } from './overlay.js';
import type { DraftInfo } from './service.js';

/**
 * A draft: work in progress laid over the committed database. Its operations are stored and
 * synced like any others, tagged with the draft, so every collaborator who opens it sees the
 * others' work live; main views never see them until `commit()`.
 */
export interface Draft {
  /** The draft id (a global entity id: the draft entity's). */
  readonly id: string;
  /** A transaction in the draft (resolved against the draft's view; durable before it resolves). */
  transact(tx: unknown): Promise<TransactResult>;
  /** A query over the committed database with the draft laid over it. */
  q(query: unknown, ...inputs: unknown[]): Promise<unknown>;
  pull(pattern: unknown, eid: unknown): Promise<unknown>;
  /** A live query over the draft's view, maintained incrementally like `client.watch`. */
  watch(query: unknown, ...inputs: unknown[]): WatchedQuery;
  /**
   * The draft's net effect as one ordinary, atomic transaction, with a closing that retires the
   * operations it covered. Resolves once durable locally (`tx` null: nothing to commit); the
   * server's verdict: `client.confirmed(tx)` — a refusal rolls the commit back and leaves the
   * draft as it was, and the reason arrives as the `rejected` event and the rejection of
   * `confirmed`.
   */
  commit(): Promise<{ tx: HlcString | null }>;
  /** Drops the draft's live operations, everywhere (a closing without an effect). */
  discard(): Promise<{ tx: HlcString | null }>;
  /** Author, invited collaborators, and the replicas editing it now. */
  collaborators(): Promise<DraftInfo>;
  /** Invites users (their ids) to see and edit the draft. */
  invite(...users: Array<string | number>): Promise<void>;
  /** Values the draft changed that a committed change, newer than the draft's first edit of it, changed too. */
  conflicts(): Promise<DraftConflict[]>;
  /** `fn` gets the conflicts now and whenever they change; returns the function that stops it. */
  onConflicts(fn: (conflicts: DraftConflict[]) => void): () => void;
  /** Undoes this client's newest change in the draft that still stands (see `client.undo`). */
  undo(): Promise<{ tx: HlcString | null }>;
  redo(): Promise<{ tx: HlcString | null }>;
}

/** The handle of draft `name` over the service's `draft*` methods. */
export function draftHandle(svc: ServiceApi, name: string): Draft {
  const id = draftId(name);
  return {
    id,
    transact: (tx) => svc.draftTransact(id, tx),
    q: (query, ...inputs) => svc.draftQ(id, query, inputs),
    pull: (pattern, eid) => svc.draftPull(id, pattern, eid),
    watch: (query, ...inputs) =>
      mirrorWatch(
        (sink) => svc.draftWatch(id, query, inputs, sink),
        (w) => void svc.draftUnwatch(w),
      ),
    commit: () => svc.draftCommit(id),
    discard: () => svc.draftDiscard(id),
    collaborators: () => svc.draftInfo(id),
    invite: (...users) => svc.draftInvite(id, users),
    conflicts: () => svc.draftConflicts(id),
    undo: () => svc.undo(id),
    redo: () => svc.redo(id),
    onConflicts: (fn) =>
      listenRemote(
        (sink) => svc.draftWatchConflicts(id, sink),
        (w) => void svc.draftUnwatch(w),
        fn,
      ),
  };
}
