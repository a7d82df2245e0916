export { SyncClient, type SyncOptions, type SyncStatus, type SyncEvent, type QuarantinedTx } from './sync-client.js';
export type { BackoffOptions } from './backoff.js';
export type { SocketCtor, SocketLike } from './socket.js';
