/**
 * `@dataloom/client` — the offline-first replica: merge rules over an op log persisted in
 * IndexedDB, a dataflow engine for watched queries, a Web Worker runtime, multi-tab sharing and
 * the sync client.
 *
 * This is what apps import. The building blocks (the `Replica`, the sync client, the tab bus,
 * the RPC host) are in `internals.ts`, for tests and the other packages of this repository.
 *
 * @packageDocumentation
 */
export { createClient, type Client, type CreateClientOptions, type DbView, type Registration, type RuleCallback } from './runtime/client.js';
export type { ClientOptions, ClientEvent, ClientErrorCode, TransactResult, DatomRow } from './runtime/types.js';
export type { WatchedQuery } from './runtime/mirror.js';
export type { WatchSpec, TimePoint } from './runtime/watch-spec.js';
export type { Draft } from './drafts/facade.js';
export type { CreateDraftOptions, DraftInfo } from './drafts/service.js';
export type { DraftConflict } from './drafts/overlay.js';
export { draftId } from './drafts/ids.js';
export { exposeClientHost } from './runtime/worker.js';
export { toDataScript, type DataScriptApi, type DataScriptSync } from './interop/datascript.js';
export { IdbStore, type IdbStoreOptions } from './store/indexeddb.js';
export { MemoryStore, type MemoryStoreOptions } from './store/memory.js';
export type { ReplicaStore, StoreMeta, StoredState, DerivedSnapshot, StorageErrorCode } from './store/types.js';
export type { SyncStatus, QuarantinedTx } from './sync/index.js';
export type { SocketCtor, SocketLike } from './sync/socket.js';
export type { WireError } from './replica/types.js';
