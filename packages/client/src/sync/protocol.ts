/**
 * Client-side mirror of the sync protocol types (`@dataloom/server` `protocol/messages.ts`,
 * documented in `packages/server/PROTOCOL.md`). Kept here so the client does not depend on the
 * server package; the two must change together.
 */
import type { TxEnvelope } from '@dataloom/core';

export const PROTOCOL_VERSION = 1;
export const SUBPROTOCOL = 'dataloom.v1';
export const TOKEN_SUBPROTOCOL_PREFIX = 'dataloom.token.';
/** Subprotocol entry (never selected) saying this client understands the batched `acks` message. */
export const ACKS_FEATURE = 'dataloom.feature.acks';

export type ServerMsg =
  | { t: 'welcome'; v: number; node: string; head: string; reset?: boolean; limits: { maxMessageBytes: number; maxTxsPerPush: number; maxOpsPerTx: number } }
  | { t: 'ack'; tx: string; pos: string }
  | { t: 'acks'; acks: Array<{ tx: string; pos: string }> }
  | { t: 'reject'; tx: string; code: string; message: string; data?: Record<string, unknown> }
  | { t: 'ops'; txs: Array<{ pos: string; env: TxEnvelope }>; cursor: string; more: boolean }
  | { t: 'pong'; n: number }
  | { t: 'error'; code: string; message: string; data?: Record<string, unknown>; fatal: boolean };

/** Position part of a cursor (`<log id>:<pos>` or a bare position); 0 for null. Cursors are otherwise opaque. */
export function cursorPos(c: string | null): number {
  if (c === null) return 0;
  const i = c.indexOf(':');
  return Number(i < 0 ? c : c.slice(i + 1));
}

export type ClientMsg =
  | { t: 'hello'; v: number; replica: string; cursor: string | null }
  | { t: 'push'; txs: TxEnvelope[] }
  | { t: 'ping'; n: number };
