export { SyncClient } from './sync-client.js';
export type { SyncOptions, SyncStatus, SyncEvent } from './types.js';
export type { QuarantinedTx } from './quarantine.js';
export type { BackoffOptions } from './backoff.js';
export type { SocketCtor, SocketLike } from './socket.js';
