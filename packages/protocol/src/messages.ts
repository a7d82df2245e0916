/**
 * Dataloom sync protocol, version 1: JSON text frames over one WebSocket (see `PROTOCOL.md`).
 *
 * Every message is an object with a `t` (type) field. Client → server: {@link HelloMsg},
 * {@link PushMsg}, {@link PingMsg}. Server → client: {@link WelcomeMsg}, {@link AckMsg},
 * {@link AcksMsg}, {@link RejectMsg}, {@link OpsMsg}, {@link DropMsg}, {@link ReadableMsg}, {@link PongMsg}, {@link ErrorMsg}.
 */
import type { TxEnvelope, WireValue } from '@dataloom/core';
import type { Cursor } from './cursor.js';

/** The protocol version this build speaks. Bumped on any incompatible change. */
export const PROTOCOL_VERSION = 1;

/** First message of a connection: who the client is and what it has already seen. */
export interface HelloMsg {
  t: 'hello';
  /** Protocol version the client speaks; must equal {@link PROTOCOL_VERSION}. */
  v: number;
  /** Replica id; must be the `replica` of every envelope the client pushes. */
  replica: string;
  /** Last server position the replica holds, or null for a fresh replica. */
  cursor: Cursor | null;
  /**
   * The scopes the client wants checked out (as a later `scope` message would say), so the server
   * filters and bootstraps by them from the first frame. Absent or `[]`: everything readable.
   */
  scopes?: Scope[];
  /**
   * With a cursor: the entities the replica holds operations of (at most {@link MAX_HELD}). A
   * server filtering by read rules or scopes then tells the client only what changed since its
   * cursor, the state of what entered its view while it was away, and drops what left — instead
   * of listing and re-sending everything it may read. Absent: the server assumes nothing.
   */
  held?: string[];
}

/** The most entity ids a `hello` may list in `held`. */
export const MAX_HELD = 20_000;

/** Local transactions, in outbox order. Re-sending is safe: deduplicated by tx id. */
export interface PushMsg {
  t: 'push';
  txs: TxEnvelope[];
}

/** Application-level keep-alive; answered with {@link PongMsg}. */
export interface PingMsg {
  t: 'ping';
  n: number;
}

/**
 * One scope: a query whose first find variable is an entity, with its inputs (after `$`), and
 * optionally a pull pattern (EDN text): the entities its ref attributes reach from each found
 * entity (`[:todo/title {:todo/list [*]}]` takes the todos' lists along) are in the scope too.
 */
export interface Scope {
  query: string;
  inputs: WireValue[];
  pull?: string;
}

/**
 * The scopes the client wants checked out (all of them; `[]`: everything the user may read),
 * numbered `v`. The server then sends only datoms of entities in some scope that the user may
 * read, sends what came into the scopes and drops what left, and answers `scoped {v}`.
 */
export interface ScopeMsg {
  t: 'scope';
  v: number;
  scopes: Scope[];
}

export type ClientMsg = HelloMsg | PushMsg | PingMsg | ScopeMsg;

/** The limits a server announces in {@link WelcomeMsg} (a subset of `Limits`). */
export interface WelcomeLimits {
  maxMessageBytes: number;
  maxTxsPerPush: number;
  maxOpsPerTx: number;
  /** The other envelope limits (sent by servers since the hardening work; absent: the defaults). */
  maxChecksPerTx?: number;
  maxStringLength?: number;
  maxIdLength?: number;
  maxAttrLength?: number;
  /** The connection's rate limits (the client paces its pushes below them; absent: the defaults). */
  messagesPerSecond?: number;
  messageBurst?: number;
  bytesPerSecond?: number;
  bytesBurst?: number;
}

/** Answer to hello. `head` is the server log position at the time of the handshake. */
export interface WelcomeMsg {
  t: 'welcome';
  v: number;
  /** Server node id (diagnostics only). */
  node: string;
  /** Current head as a cursor of this log. */
  head: Cursor;
  /** True when the client's cursor named another log: the stream restarts from position 0. */
  reset?: boolean;
  /** Limits the client must respect (so well-behaved clients never trip them). */
  limits: WelcomeLimits;
  /** True when this server sends each client only what read rules or scopes let through (worth a `held` list at the next hello). */
  filters?: boolean;
}

/** A pushed transaction is durable at log position `pos` (a decimal string; for duplicates the original position). */
export interface AckMsg {
  t: 'ack';
  tx: string;
  pos: string;
}

/**
 * Several pushed transactions are durable, each at its `pos` — the same meaning as one
 * {@link AckMsg} per entry, in this order. Sent only to clients that offered the `acks` feature
 * (`features.ts`); it covers consecutive acknowledgements of one push (a rejection in between
 * ends the group).
 */
export interface AcksMsg {
  t: 'acks';
  acks: Array<{ tx: string; pos: string }>;
}

/** A pushed transaction was refused; nothing of it is stored. `code` is a stable typed-error code. */
export interface RejectMsg {
  t: 'reject';
  tx: string;
  code: string;
  message: string;
  data?: Record<string, unknown>;
}

/**
 * Committed envelopes the client has not seen, in log order. After applying them the client's
 * cursor is `cursor` (which may be past the last listed position: entries the connection already
 * knows, its own pushes, are left out).
 */
export interface OpsMsg {
  t: 'ops';
  txs: Array<{ pos: string; env: TxEnvelope }>;
  cursor: Cursor;
  /** True while more entries are known to follow immediately (catch-up in pages). */
  more: boolean;
}

/**
 * The user may no longer read these entities (`es`: every datom) or attributes (`attrs`: `[e, a]`):
 * the client drops their operations from memory and storage (purged, not hidden). Sent when a
 * transaction changes what the user may read; the current state of what the user gained arrives
 * as an `ops` message instead.
 */
export interface DropMsg {
  t: 'drop';
  es: string[];
  attrs: Array<[string, string]>;
}

/**
 * Everything the user may read now (entities `es` whole, attributes `attrs` of others), sent after
 * `welcome` to a client that resumes from a cursor, in parts (`more` until the last): the client
 * drops every operation outside it (what the user lost while away), except its own pending ones,
 * schema (`db/*`) and draft-entity (`draft/*`) attributes.
 */
export interface ReadableMsg {
  t: 'readable';
  es: string[];
  attrs: Array<[string, string]>;
  more: boolean;
}

/** The scopes numbered `v` are in effect and their first results were sent. */
export interface ScopedMsg {
  t: 'scoped';
  v: number;
  /** Set when a scope query could not be registered (the previous scopes stay in effect). */
  error?: { code: string; message: string };
}

export interface PongMsg {
  t: 'pong';
  n: number;
}

/** A protocol error. Fatal ones are followed by a close frame (1008 policy, 1009 too big, 1011 internal). */
export interface ErrorMsg {
  t: 'error';
  code: string;
  message: string;
  data?: Record<string, unknown>;
  fatal: boolean;
}

export type ServerMsg = WelcomeMsg | AckMsg | AcksMsg | RejectMsg | OpsMsg | DropMsg | ReadableMsg | ScopedMsg | PongMsg | ErrorMsg;

/** WebSocket close codes the server uses. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  invalidData: 1007,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  tryAgainLater: 1013,
} as const;
