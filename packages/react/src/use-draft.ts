import { useMemo, useSyncExternalStore } from 'react';
import { DataloomError } from '@dataloom/core';
import { useClient } from './provider.js';
import type { DataloomSource, DraftLike, Row } from './source.js';
import { registryFor } from './view-registry.js';
import { callbackStore, type CallbackStore } from './callback-store.js';

/** What {@link useDraft} returns. */
export interface DraftState<R> {
  /** The draft id. */
  readonly id: string;
  /** The live rows of the query over the draft's view (empty without a query). */
  readonly rows: readonly R[];
  /** True until the initial result arrived. */
  readonly loading: boolean;
  /** Values a committed change newer than the draft's edit of them changed too (see `Draft.conflicts`). */
  readonly conflicts: readonly unknown[];
  /** A transaction in the draft. */
  transact(txData: unknown): Promise<unknown>;
  /** Commits the draft: its net effect reaches the main views in one transaction. */
  commit(): Promise<unknown>;
  /** Discards the draft, for every collaborator. */
  discard(): Promise<unknown>;
  /** Undo / redo of this client's changes in the draft. */
  undo(): Promise<unknown>;
  redo(): Promise<unknown>;
}

const NO_ROWS: readonly unknown[] = [];
const noSubscribe = () => () => {};
const noRows = () => NO_ROWS;
const loadedAlways = () => true;

/**
 * A draft — work in progress laid over the committed database, shared live with everyone who
 * opens the same draft id, kept out of main views until `commit()` — with the live rows of
 * `query` over the draft's view, its conflicts and its actions.
 *
 * The rows behave as {@link useQuery}'s (shared views, identity kept while unchanged, no tearing),
 * over the draft instead of the main database. The actions keep their identity while the client
 * and the id do.
 *
 * @example
 * const { rows: [[title] = []], transact, commit } = useDraft(draftId, '[:find ?t :in $ ?e :where [?e :todo/title ?t]]', e);
 * <input value={title ?? ''} onChange={(ev) => transact([[':db/add', e, ':todo/title', ev.target.value]])} />
 * @throws DataloomError `react/no-drafts` when the provider's client has no drafts.
 */
export function useDraft<R = Row>(id: string, query?: unknown, ...inputs: unknown[]): DraftState<R> {
  const client = useClient();
  const draft = draftOf(client, id);
  const view = query === undefined ? null : registryFor(draft.source).get(query, inputs);
  const rows = useSyncExternalStore(view ? view.subscribe : noSubscribe, view ? view.getSnapshot : noRows, view ? view.getSnapshot : noRows) as readonly R[];
  const loaded = useSyncExternalStore(view ? view.subscribe : noSubscribe, view ? view.getLoaded : loadedAlways, view ? view.getLoaded : loadedAlways);
  const conflicts = useSyncExternalStore(draft.conflicts.subscribe, draft.conflicts.get, draft.conflicts.get);
  if (view?.error) throw view.error.error;
  const d = draft.draft;
  return useMemo(
    () => ({
      id: d.id,
      rows,
      loading: !loaded,
      conflicts,
      transact: (tx: unknown) => Promise.resolve(d.transact(tx)),
      commit: () => d.commit(),
      discard: () => d.discard(),
      undo: () => (d.undo ? d.undo() : Promise.resolve(null)),
      redo: () => (d.redo ? d.redo() : Promise.resolve(null)),
    }),
    [d, rows, loaded, conflicts],
  );
}

interface DraftBinding {
  draft: DraftLike;
  /** The draft as a source of shared views (its `watch` runs on the draft's view). */
  source: DataloomSource;
  conflicts: CallbackStore<readonly unknown[]>;
}

const bindings = new WeakMap<DataloomSource, Map<string, DraftBinding>>();

/** One binding per (client, draft id), so shared views and subscriptions are per draft. */
function draftOf(client: DataloomSource, id: string): DraftBinding {
  if (typeof client.draft !== 'function') {
    throw new DataloomError('react/no-drafts', 'useDraft needs a client with drafts (client.draft(id))', {});
  }
  let m = bindings.get(client);
  if (!m) bindings.set(client, (m = new Map()));
  let b = m.get(id);
  if (b) return b;
  const draft = client.draft(id);
  const none = (c: readonly unknown[]) => c.length === 0;
  b = {
    draft,
    source: { watch: (q, ...i) => draft.watch(q, ...i), transact: (tx) => draft.transact(tx) },
    conflicts: callbackStore<readonly unknown[]>((fn) => draft.onConflicts?.(fn) ?? (() => {}), NO_ROWS, (a, x) => a === x || (none(a) && none(x))),
  };
  m.set(id, b);
  return b;
}
