/**
 * Dataloom sync protocol, version 1: JSON text frames over one WebSocket. See `PROTOCOL.md`.
 *
 * Every message is an object with a `t` (type) field. Client → server: {@link HelloMsg},
 * {@link PushMsg}, {@link PingMsg}. Server → client: {@link WelcomeMsg}, {@link AckMsg}, {@link AcksMsg},
 * {@link RejectMsg}, {@link OpsMsg}, {@link PongMsg}, {@link ErrorMsg}.
 *
 * Cursors are opaque to clients: `<log id>:<position>` (see {@link parseCursor}). Positions form one
 * total order shared by every server node on the same store; the log id names the log, so a
 * cursor of another (e.g. deleted and recreated) log restarts the stream from the beginning.
 */
import type { TxEnvelope } from '@dataloom/core';

/** The protocol version this build speaks. Bumped on any incompatible change. */
export const PROTOCOL_VERSION = 1;

/** WebSocket subprotocol the server selects; the client offers it (plus, optionally, a token). */
export const SUBPROTOCOL = 'dataloom.v1';

/** Prefix of the subprotocol entry that carries the auth token: `dataloom.token.<base64url>`. */
export const TOKEN_SUBPROTOCOL_PREFIX = 'dataloom.token.';

/**
 * Feature entry a client adds to its subprotocol list (never selected, like the token) to say it
 * understands {@link AcksMsg}. Without it the server answers every transaction with its own
 * {@link AckMsg}, so version-1 clients that predate it keep working.
 */
export const ACKS_FEATURE = 'dataloom.feature.acks';

/** A cursor as the client stores it: `<log id>:<position>` (a bare position is accepted too). */
export type Cursor = string;

/** Split a cursor; `log` is null for a bare position. */
export function parseCursor(c: string | null): { log: string | null; pos: number } {
  if (c === null) return { log: null, pos: 0 };
  const i = c.indexOf(':');
  return i < 0 ? { log: null, pos: Number(c) } : { log: c.slice(0, i), pos: Number(c.slice(i + 1)) };
}

export function formatCursor(log: string, pos: number): Cursor {
  return `${log}:${pos}`;
}

/** First message of a connection: who the client is and what it has already seen. */
export interface HelloMsg {
  t: 'hello';
  /** Protocol version the client speaks; must equal {@link PROTOCOL_VERSION}. */
  v: number;
  /** Replica id; must be the `replica` of every envelope the client pushes. */
  replica: string;
  /** Last server position the replica holds, or null for a fresh replica. */
  cursor: Cursor | null;
}

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

export type ClientMsg = HelloMsg | PushMsg | PingMsg;

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
  limits: { maxMessageBytes: number; maxTxsPerPush: number; maxOpsPerTx: number };
}

/** A pushed transaction is durable at log position `pos` (a decimal string; for duplicates the original position). */
export interface AckMsg {
  t: 'ack';
  tx: string;
  pos: string;
}

/**
 * Several pushed transactions are durable, each at its `pos` — the same meaning as one
 * {@link AckMsg} per entry, in this order. Sent only to clients that offered {@link ACKS_FEATURE};
 * it covers consecutive acknowledgements of one push (a rejection in between ends the group).
 */
export interface AcksMsg {
  t: 'acks';
  acks: Array<{ tx: string; pos: string }>;
}

/** A pushed transaction was refused; nothing of it is stored. `code` is a stable `sync/...` code. */
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

export type ServerMsg = WelcomeMsg | AckMsg | AcksMsg | RejectMsg | OpsMsg | PongMsg | ErrorMsg;

/** WebSocket close codes used by the server. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  tryAgainLater: 1013,
} as const;
