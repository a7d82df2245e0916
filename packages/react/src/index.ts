/**
 * `@dataloom/react`: React hooks over a Dataloom client. A thin adapter — the engine lives in
 * `@dataloom/client`/`@dataloom/dataflow`; these hooks only cache diffs and bind them to React with
 * `useSyncExternalStore`.
 */
export { DataloomProvider, useClient } from './provider.js';
export type { DataloomProviderProps } from './provider.js';
export { useQuery, useQueryState, useSuspenseQuery } from './use-query.js';
export type { QueryState } from './use-query.js';
export { usePull, useEntity } from './use-pull.js';
export { useTransact, useTransactState, type TransactState } from './use-transact.js';
export type { NamedError } from './named-errors.js';
export { useSyncStatus } from './use-sync-status.js';
export { useDraft, type DraftState } from './use-draft.js';
export { useUndo, type UndoState } from './use-undo.js';
export { useText, type TextState } from './use-text.js';
export { useWatchedQueries, watchedQueries } from './use-watched.js';
export type { WatchedQueryInfo } from './view-registry.js';
export { DataloomDevtools, type DataloomDevtoolsProps } from './devtools.js';
export { trackErrors, useErrorLog, usePendingTransactions, useOperatorTimes } from './devtools-data.js';
export type { ErrorLog, LoggedError, PendingTransaction, OperatorTimeInfo } from './devtools-data.js';
export { connSource } from './conn-source.js';
export type { ConnLike } from './conn-source.js';
export type { DataloomSource, LiveView, QuerySpec, Row, SyncStatus, DraftLike, TextLike } from './source.js';
