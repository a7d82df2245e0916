import type { Diff } from '@dataloom/core';

/**
 * The structural contract the hooks program against. `@dataloom/react` imports no engine: any
 * object with this shape works — the real client (`createClient`), a dataflow `conn` wrapped by
 * {@link connSource}, or a test double.
 */

/**
 * One result row as the hooks return it: the tuple of a query's find elements (a pull result is
 * one column), or a `Map` for `:keys`/`:strs`/`:syms` queries.
 */
export type Row = readonly unknown[];

/**
 * A live query view (the interface of `conn.register` and `client.watch`).
 *
 * Contract the hooks rely on:
 * - `rows()` is the view's current rows (an array of the find elements per row, a `Map` with
 *   `:keys`, whatever the find spec), a new array exactly when they changed and the same rows
 *   otherwise (core's `RowSet` keeps them so); the hooks return it as is, without a copy of their own;
 * - `result()` is the view's current result in one-shot `q`'s shape (a `Set`/`Array` of rows for
 *   a relation, an `Array` of values for `[?x ...]`, one tuple or `null` for `[?x ?y]`, a value or
 *   `null` for `?x .`) at the moment it is called;
 * - every later change reaches `subscribe` listeners as diffs (core's `Diff`), one call per
 *   transaction, after `rows()` reflects it;
 * - `close()` frees the view; no listener is called after it.
 */
export interface LiveView {
  /**
   * Present when the initial result arrives asynchronously (the client's views mirror a worker):
   * resolves once `result()` holds it, rejects with the query's error. `result()` is not read
   * before that; diffs delivered before it are applied, and the result read at `ready` supersedes
   * them.
   */
  readonly ready?: Promise<void>;
  rows(): readonly unknown[];
  result(): unknown;
  subscribe(fn: (diffs: readonly Diff[]) => void): (() => void) | void;
  close(): void;
}

/**
 * The options form of a query, accepted by `useQuery`/`useQueryState` in place of the query and
 * handed to the source's `watch` as it is (the client's `WatchSpec`):
 * - `name`: the view is also registered under `name`, a relation other queries use
 *   (`[app/open ?e]`) while a component holds it;
 * - `asOf`/`since`: the query runs over the database as of / since a time — an HLC string, a
 *   `Date`, ms, or `{ ago: ms }` (now minus a window, moving every `tick` ms, default 1000).
 * `connSource` supports `name` only (a dataflow conn has no history).
 */
export interface QuerySpec {
  readonly query: unknown;
  readonly name?: string;
  readonly asOf?: string | Date | number | { readonly ago: number };
  readonly since?: string | Date | number | { readonly ago: number };
  readonly tick?: number;
}

/** Sync state as the hooks expose it. */
export interface SyncStatus {
  /** Connected to the sync server. */
  readonly online: boolean;
  /** Local transactions not yet acknowledged by the server. */
  readonly pending: number;
  /** `online`, `connecting`, `offline` (retrying), or `stopped` (this client does not sync now). */
  readonly state?: 'connecting' | 'online' | 'offline' | 'stopped';
  /** The last sync or rejection error, or null. */
  readonly lastError: { readonly code: string; readonly message: string } | null;
  /** Wall-clock ms of the last exchange with the server, when known. */
  readonly lastSyncedAt?: number | null;
}

/**
 * What `DataloomProvider` needs from a client. Only `watch` and `transact` are required; hooks that
 * need an optional member say so when it is absent.
 */
export interface DataloomSource {
  /** Registers a live query; the hooks share one view per (query, inputs) and close it when unused. */
  watch(query: unknown, ...inputs: unknown[]): LiveView;
  /** Applies a transaction (the Datomic/DataScript transaction language). */
  transact(txData: unknown): unknown;
  /**
   * Current sync state (or a promise of it, as the worker-backed client answers); `null` or
   * absent for a source that does not sync.
   */
  syncStatus?(): SyncStatus | null | Promise<SyncStatus | null>;
  /** Subscribes to sync-state changes; returns the unsubscribe function. */
  onSyncStatus?(fn: (status: SyncStatus) => void): () => void;
  /**
   * The client's event stream; `{ type: 'sync', status }` events update `useSyncStatus`. Used
   * when there is no `onSyncStatus`; with neither, `useSyncStatus` polls `syncStatus()` once a
   * second.
   */
  on?(fn: (event: { type: string; status?: SyncStatus | null }) => void): () => void;
  /** The shared text of a `:db.type/text` attribute (`useText`): the client's `Y.Text`. */
  text?(e: unknown, a: string): TextLike | Promise<TextLike>;
  /** A draft by id (`useDraft`). */
  draft?(id: string): DraftLike;
  /** Undo / redo of this client's own changes, in the main database or in `draft` (`useUndo`). */
  undo?(draft?: string): unknown;
  redo?(draft?: string): unknown;
  /** Subscribes to whether there is anything to undo / redo; returns the unsubscribe function. */
  onUndoStatus?(fn: (status: { canUndo: boolean; canRedo: boolean }) => void, draft?: string): () => void;
}

/** A listener of a shared text's changes (`useText`). */
export type TextObserver = (event: { readonly delta?: ReadonlyArray<{ insert?: unknown; delete?: number; retain?: number }>; readonly transaction?: { readonly origin?: unknown } }) => void;

/**
 * What `useText` needs from a shared text (a `Y.Text`): its value, edits, and change events
 * carrying the change as a delta and the transaction's origin.
 */
export interface TextLike {
  toString(): string;
  insert(index: number, text: string): void;
  delete(index: number, length: number): void;
  observe(fn: TextObserver): void;
  unobserve(fn: TextObserver): void;
  /** Groups edits into one change, tagged with `origin`. */
  readonly doc?: { transact(fn: () => void, origin?: unknown): void } | null;
}

/** What `useDraft` needs from a draft (the client's `Draft`). */
export interface DraftLike {
  readonly id: string;
  /** A live query over the draft's view. */
  watch(query: unknown, ...inputs: unknown[]): LiveView;
  transact(txData: unknown): unknown;
  commit(): Promise<unknown>;
  discard(): Promise<unknown>;
  /** Streams the draft's conflicts; returns the function that stops it. */
  onConflicts?(fn: (conflicts: readonly unknown[]) => void): () => void;
  undo?(): Promise<unknown>;
  redo?(): Promise<unknown>;
}
