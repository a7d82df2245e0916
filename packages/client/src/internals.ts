/**
 * The client's building blocks, for tests, benchmarks and the other packages of this repository:
 * the replica and its sync contract, the runtime's service, RPC host and method table, the
 * mirrored view, the tab bus and the sync client. Not a stable API: apps import `index.ts`.
 */
export { Replica, type ReplicaOptions, type ChangeBatch, type PersistedEvent } from './replica/replica.js';
export type { SyncTarget, ServerCursor, LocalTxResult, ChangeOrigin, ReplicaEventMap, ReplicaEventName, Unsubscribe } from './replica/types.js';
export { ClientService } from './runtime/service.js';
export { serviceOf } from './runtime/client.js';
export { createHost, type Host, type HostOptions } from './runtime/host.js';
export { METHODS, type MethodName, type CallName, type ServiceApi } from './runtime/methods.js';
export { encode, decode, type Encoded } from './runtime/codec.js';
export { MirroredView, type DiffBatch, type WatchInit } from './runtime/mirror.js';
export { memoryBacking, type MemoryBacking } from './store/memory.js';
export { IDB_VERSION } from './store/indexeddb.js';
export { TabBus, type TabMessage } from './tabs/bus.js';
export { electLeader } from './tabs/leader.js';
export { SyncClient, type SyncOptions, type SyncEvent, type BackoffOptions } from './sync/index.js';
