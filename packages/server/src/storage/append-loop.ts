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

/** A rejection the store records (invariant 5): the envelope's tx id, the digest of its content, the verdict as JSON. */
export interface RejectedRow {
  tx: string;
  digest: string;
  verdict: string;
}

/** The digest a rejected envelope is recorded under: of its stored form (`JSON.stringify`). */
export function envelopeDigest(json: string): string {
  return createHash('sha256').update(json).digest('base64url');
}

/**
 * Runs the loop over `envs`. `caught` are the entries after `knownHead` (ascending, contiguous);
 * `stored(tx)` finds a transaction already in the log, `rejected(tx, digest)` the verdict (JSON)
 * recorded for an envelope of that content rejected before. Returns the rows to insert — positions
 * follow the last caught entry — the rejections to record, and the append's result.
 */
export function judgeBatch(
  envs: readonly TxEnvelope[],
  knownHead: number,
  caught: readonly LogEntry[],
  stored: (tx: string) => StoredTx | undefined,
  judge: Judge,
  rejected: (tx: string, digest: string) => string | undefined,
): { rows: NewRow[]; rejections: RejectedRow[]; result: AppendResult } {
  judge.catchUp(caught);
  let head = caught.length > 0 ? caught[caught.length - 1]!.pos : knownHead;
  const inBatch = new Map<string, StoredTx>();
  const outcomes: AppendOutcome[] = [];
  const rows: NewRow[] = [];
  const rejections: RejectedRow[] = [];
  const rejectedInBatch = new Map<string, string>();
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
    const digest = envelopeDigest(json);
    const key = env.tx + ' ' + digest;
    const before = rejectedInBatch.get(key) ?? rejected(env.tx, digest);
    if (before !== undefined) {
      const v = JSON.parse(before) as { code: string; message: string; data?: Record<string, unknown> };
      outcomes.push({ tx: env.tx, status: 'rejected', code: v.code, message: v.message, ...(v.data ? { data: v.data } : {}) });
      continue;
    }
    const verdict = judge.check(env);
    if (!verdict.ok) {
      const v = JSON.stringify({ code: verdict.code, message: verdict.message, ...(verdict.data ? { data: verdict.data } : {}) });
      rejectedInBatch.set(key, v);
      rejections.push({ tx: env.tx, digest, verdict: v });
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
