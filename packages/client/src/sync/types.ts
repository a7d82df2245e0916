/**
 * The sync client's contract with its owner (the replica's runtime): how it is set up
 * (`SyncOptions`), what it reports (`SyncStatus`, `client.syncStatus()`) and the events it emits.
 */
import type { HlcString } from '@dataloom/core';
import type { SyncTarget, WireError } from '../replica/types.js';
import type { BackoffOptions } from './backoff.js';
import type { QuarantinedTx } from './quarantine.js';
import type { SocketCtor } from './socket.js';

export interface SyncOptions {
  /** Server WebSocket URL, e.g. `ws://127.0.0.1:8787/`. */
  url: string;
  /** Auth token (or a function returning one, called on each connect). */
  token?: string | null | (() => string | null | Promise<string | null>);
  replica: SyncTarget;
  /** WebSocket constructor (default: platform WebSocket, else the `ws` package). */
  WebSocket?: SocketCtor;
  backoff?: BackoffOptions;
  /** Randomness for backoff jitter (tests pass a seeded PRNG). */
  random?: () => number;
  /** Send an application ping after this many idle ms; close if nothing arrives for twice that (default 15 000). */
  keepAliveMs?: number;
  /** Start connecting at once (default true). */
  autoStart?: boolean;
}

/** What `client.syncStatus()` reports. */
export interface SyncStatus {
  /** `online`: handshake done; `connecting`; `offline` (waiting to retry); `stopped`. */
  state: 'connecting' | 'online' | 'offline' | 'stopped';
  online: boolean;
  /** Local transactions not yet acknowledged by the server. */
  pending: number;
  /**
   * Last error (rejected transaction, protocol error, connection failure), or null. Cleared when
   * a new connection is welcomed and when the server acknowledges a later transaction.
   */
  lastError: WireError | null;
  /** When the replica last finished catching up with the server (ms since epoch), or null. */
  lastSyncedAt: number | null;
  /** Server cursor the replica holds. */
  cursor: string | null;
  /** Envelopes received from the server that this replica could not apply and set aside (see `quarantined()`). */
  quarantined: number;
}

export type SyncEvent =
  | { type: 'status'; status: SyncStatus }
  | { type: 'rejected'; tx: HlcString; error: WireError }
  | { type: 'error'; error: WireError }
  | { type: 'quarantined'; entry: QuarantinedTx };
