/**
 * Applying a page of the stream without ever getting stuck on one entry. An envelope this replica
 * cannot apply — it breaks the envelope rules, or the replica's merge throws a typed error on it —
 * is quarantined (handed to `onQuarantine`: reported, kept for diagnosis, skipped) and the cursor
 * moves past it, so one bad entry in the log never stops a client. Storage and programming
 * failures are not quarantined: they propagate (the connection fails and retries with backoff).
 */
import { DataloomError, type TxEnvelope } from '@dataloom/core';
import { checkEnvelope, formatCursor, parseCursor } from '@dataloom/protocol';
import type { SyncTarget, WireError } from '../replica/types.js';

/** A received envelope this replica cannot apply: skipped (the stream moves on), kept for diagnosis. */
export interface QuarantinedTx {
  /** Log position (decimal string) and transaction id, as the server sent them. */
  pos: string;
  tx: string;
  /** Why it cannot be applied (the envelope rules' `ops/malformed`, or the merge's error). */
  error: WireError;
  /** The envelope as received. */
  env: unknown;
}

/** How many quarantined envelopes a sync client keeps (the count in its status goes on). */
export const QUARANTINE_MEMORY = 100;

type Entry = { pos: string; env: TxEnvelope };

/** A typed verdict on an envelope's content (as opposed to a storage or programming failure). */
export function isRuleError(e: unknown): boolean {
  return e instanceof DataloomError && !e.code.startsWith('storage/') && !e.code.startsWith('replica/') && !e.code.startsWith('sync/');
}

/** Applies `txs` and persists `cursor`; what cannot be applied goes to `onQuarantine`. */
export async function applyPage(replica: SyncTarget, txs: readonly Entry[], cursor: string, onQuarantine: (x: Entry, e: unknown) => void): Promise<void> {
  const good: Entry[] = [];
  for (const x of txs) {
    try {
      checkEnvelope(x.env, null, 'envelope', { partial: true }); // the server may cut envelopes to what the user may read
      good.push(x);
    } catch (e) {
      onQuarantine(x, e);
    }
  }
  try {
    await replica.applyRemote(good.map((x) => x.env), cursor);
    return;
  } catch (e) {
    if (!isRuleError(e) || good.length === 0) throw e;
  }
  // Something in the page fails the merge: apply one by one to find it.
  const log = parseCursor(cursor).log;
  for (const x of good) {
    const at = log === null ? x.pos : formatCursor(log, Number(x.pos));
    try {
      await replica.applyRemote([x.env], at);
    } catch (e) {
      if (!isRuleError(e)) throw e;
      onQuarantine(x, e);
    }
  }
  await replica.applyRemote([], cursor);
}
