/**
 * The judge → append loop every store runs inside its storage transaction, under its writer lock
 * (invariants 1, 3 and 4 of `types.ts`): the judge first catches up with every entry committed
 * after `knownHead` (by any process), then each envelope, in order, is either a duplicate of a
 * stored transaction (or of one earlier in the batch) — `duplicate` when its content is the same,
 * `sync/tx-conflict` otherwise — or a copy of an envelope rejected before (same content), which gets
 * that first verdict again (invariant 5), or judged: an accepted one takes the next position, a
 * rejected one is recorded with its verdict. The store only fetches and writes rows.
 */
import { createHash } from 'node:crypto';
import type { TxEnvelope } from '@dataloom/core';
import { duplicateOutcome, type AppendOutcome, type AppendResult, type Judge, type LogEntry } from './types.js';

/** A stored transaction: its position and its envelope as stored (JSON). */
export interface StoredTx {
  pos: number;
  env: string;
  /** Set when the entry was compacted (invariant 6): the {@link envelopeDigest} of the envelope as first stored. */
  digest?: string | null;
}

/** A row the store inserts. */
export interface NewRow {
  pos: number;
  tx: string;
  replica: string;
  /** `JSON.stringify(env)`: the stored form, also what duplicates are compared by. */
  json: string;
  env: TxEnvelope;
}

/** A rejection the store records (invariant 5): the envelope's tx id, the digest of its content (and of whom it was judged for), the verdict as JSON. */
export interface RejectedRow {
  tx: string;
  digest: string;
  verdict: string;
}

/**
 * How long a recorded rejection is kept. A copy of a rejected envelope can only still be on its way
 * for as long as a push waits in a connection or a node's queue (seconds); a client that never
 * received the rejection may push the envelope again later and have it judged afresh, which is
 * harmless. Stores drop older records at most once per {@link PRUNE_REJECTED_EVERY_MS}.
 */
export const KEEP_REJECTED_MS = 24 * 3600_000;
export const PRUNE_REJECTED_EVERY_MS = 3600_000;

/** The digest of an envelope's stored form (`JSON.stringify`): what a rejection is recorded under and what a compacted entry keeps of its original. */
export function envelopeDigest(json: string): string {
  return createHash('sha256').update(json).digest('base64url');
}

/**
 * Runs the loop over `envs`. `caught` are the entries after `knownHead` (ascending, contiguous);
 * `stored(tx)` finds a transaction already in the log, `rejected(tx)` the rejections recorded for
 * envelopes under that tx id (usually none: the content digest is computed only when there are).
 * Returns the rows to insert — positions follow the last caught entry — the rejections to record,
 * and the append's result.
 */
export function judgeBatch(
  envs: readonly TxEnvelope[],
  knownHead: number,
  caught: readonly LogEntry[],
  stored: (tx: string) => StoredTx | undefined,
  judge: Judge,
  rejected: (tx: string) => readonly RejectedRow[] | undefined,
): { rows: NewRow[]; rejections: RejectedRow[]; result: AppendResult } {
  judge.catchUp(caught);
  let head = caught.length > 0 ? caught[caught.length - 1]!.pos : knownHead;
  const inBatch = new Map<string, StoredTx>();
  const outcomes: AppendOutcome[] = [];
  const rows: NewRow[] = [];
  const rejections: RejectedRow[] = [];
  const rejectedInBatch = new Map<string, readonly RejectedRow[]>();
  for (const env of envs) {
    const json = JSON.stringify(env);
    const prior = inBatch.get(env.tx) ?? stored(env.tx);
    if (prior !== undefined) {
      outcomes.push(duplicateOutcome(env.tx, prior.pos, prior.digest ? envelopeDigest(json) === prior.digest : prior.env === json));
      continue;
    }
    // One verdict per envelope: a copy still in flight when its first copy was rejected (a resent
    // frame, a push on an older connection or on another node) must not be judged afresh against
    // a state that changed meanwhile — its client has already rolled it back.
    const before = rejectedInBatch.get(env.tx) ?? rejected(env.tx);
    // recorded per writer: the same content judged for another user is judged afresh
    const who = judge.writer?.(env) ?? '';
    const judged = who === '' ? json : `${json}\u0000${who}`;
    const digest = before !== undefined && before.length > 0 ? envelopeDigest(judged) : null;
    const first = digest === null ? undefined : before!.find((r) => r.digest === digest);
    if (first !== undefined) {
      const v = JSON.parse(first.verdict) as { code: string; message: string; data?: Record<string, unknown> };
      outcomes.push({ tx: env.tx, status: 'rejected', code: v.code, message: v.message, ...(v.data ? { data: v.data } : {}) });
      continue;
    }
    const verdict = judge.check(env);
    if (!verdict.ok) {
      const row = { tx: env.tx, digest: digest ?? envelopeDigest(judged), verdict: JSON.stringify({ code: verdict.code, message: verdict.message, ...(verdict.data ? { data: verdict.data } : {}) }) };
      rejectedInBatch.set(env.tx, [...(before ?? []), row]);
      rejections.push(row);
      outcomes.push({ tx: env.tx, status: 'rejected', code: verdict.code, message: verdict.message, data: verdict.data });
      continue;
    }
    head += 1;
    inBatch.set(env.tx, { pos: head, env: json });
    rows.push({ pos: head, tx: env.tx, replica: env.replica, json, env });
    outcomes.push({ tx: env.tx, status: 'appended', pos: head });
  }
  const entries: LogEntry[] = [...caught, ...rows.map((r) => ({ pos: r.pos, env: r.env }))];
  return { rows, rejections, result: { outcomes, entries, head } };
}
