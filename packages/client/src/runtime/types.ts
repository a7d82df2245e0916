/**
 * The client's public option, result and event types (shared by the service, the facade and
 * the datom stream adapters).
 */
import type { HlcString } from '@dataloom/core';
import type { Limits } from '@dataloom/protocol';
import type { WireError } from '../replica/types.js';
import type { ReplicaStore, StorageErrorCode } from '../store/types.js';
import type { SyncStatus } from '../sync/index.js';
import type { SocketCtor } from '../sync/socket.js';

/** Options of `createClient`. */
export interface ClientOptions {
  /** App/replica name: the IndexedDB database is `dataloom:<name>`. */
  name: string;
  /** DataScript-style schema. */
  schema?: unknown;
  /** `indexeddb` (default where available) or `memory`. */
  storage?: 'indexeddb' | 'memory';
  /** Sync server WebSocket URL; no sync without it. */
  url?: string;
  /** Auth token for the sync server. */
  token?: string | null | (() => string | null | Promise<string | null>);
  /** Share one replica coherently with other tabs of the app (default true with IndexedDB). */
  /**
   * Scopes checked out from the start (as `client.subscribe` does later): queries whose first find
   * variable is an entity, or `{ query, inputs, pull }` (the pull pattern takes referenced entities
   * along, see `Client.subscribe`). Without scopes the client receives everything its user may read.
   */
  scopes?: Array<string | { query: string; inputs?: unknown[]; pull?: string }>;
  tabs?: boolean;
  /** WebSocket constructor for sync (Node tests). */
  WebSocket?: SocketCtor;
  /** Custom store (tests); overrides `storage`. */
  store?: ReplicaStore;
  /**
   * Ask the browser to make storage persistent (`navigator.storage.persist()`), so it is not
   * evicted under storage pressure. Best effort; Firefox may prompt the user. Default false.
   */
  persist?: boolean;
  /**
   * Limits a transaction must respect (default: the protocol's defaults, which the server uses
   * unless configured otherwise). `transact` refuses a transaction over one with an `ops/limit`
   * error naming it (`data.limit`).
   */
  limits?: Partial<Limits>;
}

/** What a transaction returns on the calling thread. */
export interface TransactResult {
  /** HLC stamp of the transaction. */
  tx: HlcString;
  /** Tempid → integer entity id (as queries return them). */
  tempids: Record<string, number>;
  /** Tempid → global entity id. */
  globalIds: Record<string, string>;
  /** False when the write only reached the in-memory fallback (see `storage-error`). */
  persisted: boolean;
}

/** A datom as streamed to other engines: `[e, attribute fqn, value, added]`. */
export type DatomRow = [e: number, a: string, v: unknown, added: boolean];

/** Events forwarded to the calling thread. */
export type ClientEvent =
  | { type: 'rejected'; tx: HlcString; error: WireError }
  | { type: 'storage-error'; error: WireError; lost: number }
  | { type: 'clock-drift'; tx: HlcString; error: WireError }
  | { type: 'sync'; status: SyncStatus }
  /** The server sent an envelope this replica cannot apply: set aside, the stream goes on (see `SyncStatus.quarantined`). */
  | { type: 'quarantined'; pos: string; tx: string; error: WireError }
  /** A business rule's callback threw, or its transaction was refused (`client.rule`); the rule stays. */
  | { type: 'rule-error'; name: string; error: WireError };

/**
 * `code`s of the `DataloomError`s the client itself raises or reports (`lastError`, events).
 * Transaction, query and server codes come from `@dataloom/core`, `@dataloom/query` and the
 * server's rejections.
 */
export type ClientErrorCode =
  | StorageErrorCode
  /** `createClient` options that cannot cross into a worker (token functions, WebSocket, store). */
  | 'client/options'
  /** A value passed to the client nested deeper than 1000 levels. */
  | 'client/too-deep'
  /** A `register`/`rule` name that is not a plain symbol, or is in the reserved `dataloom/`. */
  | 'client/bad-name'
  /** A business rule's callback threw something that is not a `DataloomError` (`rule-error` event). */
  | 'client/rule'
  /** A `watch({ query, … })` option that is unknown or malformed (`watch-spec.ts`). */
  | 'client/watch-options'
  /** A call after `close()`. */
  | 'replica/closed'
  /** A compaction that would have changed visible state was refused. */
  | 'replica/compaction'
  /** The sync connection closed abnormally (reconnecting). */
  | 'sync/disconnected'
  /** The server sent something that is not a protocol message. */
  | 'sync/bad-server-message'
  /** A received envelope could not be applied and was set aside (`data.pos`, `data.tx`, `data.cause`). */
  | 'sync/quarantined'
  /** Any other sync failure on the client side. */
  | 'sync/client';
