import { useMemo, useSyncExternalStore } from 'react';
import { DataloomError } from '@dataloom/core';
import { useClient } from './provider.js';
import type { DataloomSource } from './source.js';
import { callbackStore, type CallbackStore } from './callback-store.js';

/** What {@link useUndo} returns. */
export interface UndoState {
  readonly canUndo: boolean;
  readonly canRedo: boolean;
  /** Undoes this client's newest change that still stands (others' later changes are left alone). */
  undo(): Promise<unknown>;
  redo(): Promise<unknown>;
}

const NONE = { canUndo: false, canRedo: false };

/**
 * Undo and redo of this client's own changes, in the main database or (with `draft`) in a draft,
 * with whether there is anything to undo or redo (for disabling buttons). The stacks survive a
 * reload. The returned object keeps its identity while neither flag changes.
 *
 * @example
 * const { canUndo, undo } = useUndo();
 * <button disabled={!canUndo} onClick={() => undo()}>Undo</button>
 * @throws DataloomError `react/no-undo` when the provider's client has no undo.
 */
export function useUndo(draft?: string): UndoState {
  const client = useClient();
  if (typeof client.undo !== 'function' || typeof client.redo !== 'function') {
    throw new DataloomError('react/no-undo', 'useUndo needs a client with undo (client.undo())', {});
  }
  const store = storeOf(client, draft ?? '');
  const status = useSyncExternalStore(store.subscribe, store.get, store.get);
  return useMemo(
    () => ({
      ...status,
      undo: () => Promise.resolve(client.undo!(draft)),
      redo: () => Promise.resolve(client.redo!(draft)),
    }),
    [client, draft, status],
  );
}

type Status = { canUndo: boolean; canRedo: boolean };

const stores = new WeakMap<DataloomSource, Map<string, CallbackStore<Status>>>();

function storeOf(client: DataloomSource, scope: string): CallbackStore<Status> {
  let m = stores.get(client);
  if (!m) stores.set(client, (m = new Map()));
  let s = m.get(scope);
  if (!s) {
    s = callbackStore<Status>(
      (fn) => client.onUndoStatus?.((st) => fn({ canUndo: st.canUndo, canRedo: st.canRedo }), scope || undefined) ?? (() => {}),
      NONE,
      (a, b) => a.canUndo === b.canUndo && a.canRedo === b.canRedo,
    );
    m.set(scope, s);
  }
  return s;
}
