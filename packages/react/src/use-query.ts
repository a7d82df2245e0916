import { useMemo, useSyncExternalStore } from 'react';
import { useRegistry } from './provider.js';
import type { QuerySpec, Row } from './source.js';

/**
 * The live result of a Datalog query, as rows: one array of the find elements per row, whatever
 * the find spec (a `[?x ...]` result gives one-column rows, `[?x ?y]` and `?x .` at most one row);
 * a `Map` per row with `:keys`/`:strs`/`:syms` (type it: `useQuery<Map<Keyword, unknown>>(…)`).
 *
 * - Re-renders only when the query's rows change: the returned array keeps its identity across
 *   transactions that do not touch the result, and an unchanged row keeps its identity too.
 * - Components using the same query and inputs (compared structurally; functions and database
 *   values by identity) share one engine view, closed when the last of them unmounts.
 * - Built on `useSyncExternalStore`, and the engine delivers every view's diffs of one transaction
 *   together, so components never show different transactions at once (no tearing).
 * - A malformed query throws its `DataloomError` during render (catch it with an error boundary),
 *   also when the client reports it asynchronously.
 * - With a worker-backed client the rows are empty until the initial result arrives (the
 *   view's `ready`), then fill in with one re-render.
 * - `query` may be a {@link QuerySpec}: `{ query, name }` registers the view under `name` for other
 *   queries (render it before the components that use the name), `{ query, asOf }` /
 *   `{ query, since }` follow the database as of / since a time, fixed or `{ ago: ms }`.
 *
 * @example
 * const rows = useQuery('[:find ?e ?title :where [?e :todo/title ?title]]');
 * const lastHour = useQuery({ query: '[:find ?title :where [_ :todo/title ?title]]', since: { ago: 3_600_000 } });
 */
export function useQuery<R = Row>(query: unknown | QuerySpec, ...inputs: unknown[]): readonly R[] {
  const view = useRegistry().get(query, inputs);
  const rows = useSyncExternalStore(view.subscribe, view.getSnapshot, view.getSnapshot) as readonly R[];
  if (view.error) throw view.error.error;
  return rows;
}

/** What {@link useQueryState} returns. */
export interface QueryState<R> {
  /** The live rows, as {@link useQuery} returns them. */
  readonly rows: readonly R[];
  /**
   * True until the client has delivered the initial result (worker-backed clients answer
   * asynchronously); an empty `rows` then means "not known yet", not "no rows".
   */
  readonly loading: boolean;
}

/**
 * {@link useQuery} plus whether the initial result has arrived, to tell "loading" from "empty".
 * Shares the same view as `useQuery` for the same query and inputs. The returned object keeps
 * its identity while neither field changes.
 */
export function useQueryState<R = Row>(query: unknown | QuerySpec, ...inputs: unknown[]): QueryState<R> {
  const view = useRegistry().get(query, inputs);
  const rows = useSyncExternalStore(view.subscribe, view.getSnapshot, view.getSnapshot) as readonly R[];
  const loaded = useSyncExternalStore(view.subscribe, view.getLoaded, view.getLoaded);
  if (view.error) throw view.error.error;
  return useMemo(() => ({ rows, loading: !loaded }), [rows, loaded]);
}

/**
 * {@link useQuery} for a `<Suspense>` boundary: while the initial result is on its way (a
 * worker-backed client answers asynchronously) the component suspends, so its fallback shows
 * instead of an empty list; afterwards it behaves exactly as `useQuery` (same shared view).
 *
 * @example
 * <Suspense fallback={<Spinner />}><Todos /></Suspense>   // Todos calls useSuspenseQuery(…)
 */
export function useSuspenseQuery<R = Row>(query: unknown, ...inputs: unknown[]): readonly R[] {
  const view = useRegistry().get(query, inputs);
  if (!view.getLoaded()) throw view.whenLoaded();
  const rows = useSyncExternalStore(view.subscribe, view.getSnapshot, view.getSnapshot) as readonly R[];
  if (view.error) throw view.error.error;
  return rows;
}
