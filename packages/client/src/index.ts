/**
 * `@dataloom/client` — the offline-first replica: merge rules over an op log persisted in
 * IndexedDB, a dataflow engine for watched queries, a Web Worker runtime, multi-tab sharing and
 * the sync client.
 *
 * @packageDocumentation
 */
export { createClient, type Client, type CreateClientOptions, type DbView } from './runtime/client.js';
export { ClientCore, type ClientOptions, type ClientEvent, type TransactResult, type DatomRow } from './runtime/core.js';
export { Host, type HostOptions } from './runtime/host.js';
export { exposeClientHost } from './runtime/worker.js';
export { MirroredView, type WatchedQuery, type Diff, type DiffBatch, type WatchInit, type FindKind } from './runtime/mirror.js';
export { Replica, type ReplicaOptions, type ChangeBatch, type PersistedEvent } from './replica/replica.js';
export type * from './replica/types.js';
export type { ReplicaStore, StoreMeta, StoredState, StorageErrorCode } from './store/types.js';
export { MemoryStore, memoryBacking, type MemoryBacking, type MemoryStoreOptions } from './store/memory.js';
export { IdbStore, IDB_VERSION, type IdbStoreOptions } from './store/indexeddb.js';
export { TabBus, type TabMessage } from './tabs/bus.js';
export { toDataScript, type DataScriptApi, type DataScriptSync } from './interop/datascript.js';
export { electLeader } from './tabs/leader.js';
export * from './sync/index.js';
