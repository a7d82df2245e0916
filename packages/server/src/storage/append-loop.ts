/**
 * The judge → append loop every store runs inside its storage transaction, under its writer lock
 * (invariants 1, 3 and 4 of `types.ts`): the judge first catches up with every entry committed
 * after `knownHead` (by any process), then each envelope, in order, is either a duplicate of a
 * stored transaction (or of one earlier in the batch) — `duplicate` when its content is the same,
 * `sync/tx-conflict` otherwise — or judged, and an accepted one takes the next position. The store
 * only fetches and writes rows.
 */
import type { TxEnvelope } from '@dataloom/core';
import { duplicateOutcome, type AppendOutcome, type AppendResult, type Judge, type LogEntry } from './types.js';

/** A stored transaction: its position and its envelope as stored (JSON). */
export interface StoredTx {
  pos: number;
  env: string;
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

/**
 * Runs the loop over `envs`. `caught` are the entries after `knownHead` (ascending, contiguous);
 * `stored(tx)` finds a transaction already in the log. Returns the rows to insert — positions
 * follow the last caught entry — and the append's result.
 */
export function judgeBatch(
  envs: readonly TxEnvelope[],
  knownHead: number,
  caught: readonly LogEntry[],
  stored: (tx: string) => StoredTx | undefined,
  judge: Judge,
): { rows: NewRow[]; result: AppendResult } {
  judge.catchUp(caught);
  let head = caught.length > 0 ? caught[caught.length - 1]!.pos : knownHead;
  const inBatch = new Map<string, StoredTx>();
  const outcomes: AppendOutcome[] = [];
  const rows: NewRow[] = [];
  for (const env of envs) {
    const json = JSON.stringify(env);
    const prior = inBatch.get(env.tx) ?? stored(env.tx);
    if (prior !== undefined) {
      outcomes.push(duplicateOutcome(env.tx, prior.pos, prior.env, json));
      continue;
    }
    const verdict = judge.check(env);
    if (!verdict.ok) {
      outcomes.push({ tx: env.tx, status: 'rejected', code: verdict.code, message: verdict.message, data: verdict.data });
      continue;
    }
    head += 1;
    inBatch.set(env.tx, { pos: head, env: json });
    rows.push({ pos: head, tx: env.tx, replica: env.replica, json, env });
    outcomes.push({ tx: env.tx, status: 'appended', pos: head });
  }
  const entries: LogEntry[] = [...caught, ...rows.map((r) => ({ pos: r.pos, env: r.env }))];
  return { rows, result: { outcomes, entries, head } };
}
