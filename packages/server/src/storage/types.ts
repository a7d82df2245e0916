/**
 * The server's storage contract: a durable, totally ordered, deduplicated log of transactions.
 * Implemented by `sqlite.ts` (embedded default) and `postgres.ts` (shared log for several server
 * processes). Both run the one judge → append loop (`append-loop.ts`) inside their storage
 * transaction and pass `runServerStoreTests` (`store-suite.ts`).
 *
 * Invariants every implementation keeps:
 * 1. **Total order.** Each appended transaction gets a position `pos` (1, 2, 3, … without gaps).
 *    Positions are assigned and committed in the same order, so a reader that sees position N
 *    also sees every position below N — a cursor never skips a transaction that commits later.
 *    With several processes on one store the order is shared by all of them.
 * 2. **Atomic and durable.** {@link ServerStore.append} commits all accepted envelopes of the
 *    batch in one storage transaction and resolves only after that commit is durable (SQLite
 *    `synchronous=FULL`, PostgreSQL `synchronous_commit=on`). Only then may a server acknowledge.
 * 3. **Dedup.** A tx id is stored at most once; appending the *same* envelope again reports the
 *    original position (`duplicate`). A different envelope under a stored tx id is rejected
 *    (`sync/tx-conflict`), so nobody can squat on another transaction's id and have it "acked".
 *    Op ids are `${tx}/${index}` (checked by the protocol layer), so this also dedups op ids.
 * 4. **Validation under the writer lock.** `append` hands the caller, while holding the store's
 *    writer lock, every entry committed after `knownHead` (possibly by other processes), then asks
 *    it to judge each new envelope. Checks such as `cas` are therefore linearizable.
 * 5. **One verdict per envelope.** A rejected envelope is recorded (tx id, digest of its content,
 *    verdict) in the same storage transaction; appending the same envelope again gives the same
 *    rejection without judging it afresh. A client told "rejected" has rolled the transaction
 *    back, so a copy still in flight (a duplicated frame, a push on an older connection or on
 *    another node) must never be stored because the state changed meanwhile. Other content under
 *    that tx id is judged on its own (nobody can have another's transaction refused in advance),
 *    and so is the same content judged for another writer (`Judge.writer`: a source re-run `as`
 *    another user).
 * 6. **Compaction below a horizon.** {@link ServerStore.compact} rewrites entries at or below a
 *    retention horizon without the ops the merge rules have superseded (the merged database is
 *    the same, see PROTOCOL.md "Retention"); positions and tx ids stay, and a rewritten entry keeps
 *    the digest of its original envelope, so a re-pushed duplicate is still recognised (3). The
 *    horizon only rises; readers whose cursor is below it bootstrap from a snapshot instead.
 */
import type { TxEnvelope } from '@dataloom/core';

/** One committed transaction. */
export interface LogEntry {
  pos: number;
  env: TxEnvelope;
}

/** A judge's decision on one envelope. */
export type Verdict = { ok: true } | { ok: false; code: string; message: string; data?: Record<string, unknown> };

/** Called by `append` under the writer lock. Must be synchronous and must not throw. */
export interface Judge {
  /** Entries committed after `knownHead` that the caller has not seen, in order. */
  catchUp(entries: readonly LogEntry[]): void;
  /** Decide one new envelope; an accepted one must be applied to the judge's snapshot at once. */
  check(env: TxEnvelope): Verdict;
  /**
   * Whom `env` is judged for (a key; '' for the server's own and trusted writes). A recorded
   * rejection answers a later copy only when it is judged for the same writer: the same content
   * written as another user (a source re-run `as` someone else) is judged afresh.
   */
  writer?(env: TxEnvelope): string;
}

export type AppendOutcome =
  | { tx: string; status: 'appended'; pos: number }
  | { tx: string; status: 'duplicate'; pos: number }
  | { tx: string; status: 'rejected'; code: string; message: string; data?: Record<string, unknown> };

export interface AppendResult {
  /** One outcome per input envelope, same order. */
  outcomes: AppendOutcome[];
  /** Entries the judge was given in `catchUp` followed by the newly appended ones: all of `(knownHead, head]`. */
  entries: LogEntry[];
  /** The log head after the commit. */
  head: number;
}

export interface ServerStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Create tables if needed. Idempotent. */
  open(): Promise<void>;
  /** See the invariants above. If it throws, nothing of the batch was stored. */
  append(envs: readonly TxEnvelope[], knownHead: number, judge: Judge): Promise<AppendResult>;
  /** Entries with `pos > after`, ascending, at most `limit`. */
  readSince(after: number, limit: number): Promise<LogEntry[]>;
  /** Highest committed position (0 for an empty log). */
  head(): Promise<number>;
  /** Entries at or below this position may be compacted (invariant 6); 0 when nothing is. */
  horizon(): Promise<number>;
  /**
   * Rewrites `entries` (each at or below `horizon`, with some ops left out; drafts are never given)
   * and raises the horizon to `horizon` (never lowers it), in one storage transaction. The first
   * rewrite of an entry records the digest of its original envelope (`append-loop.ts` `envelopeDigest`).
   */
  compact(horizon: number, entries: readonly LogEntry[]): Promise<void>;
  /** The highest position committed at or before `ms` (epoch milliseconds), 0 if none: retention by age. */
  positionAt(ms: number): Promise<number>;
  /**
   * Identity of this log: random, made when the log is created, never changed. Cursors carry it,
   * so a replica of a deleted-and-recreated log is not mistaken for one that is up to date.
   */
  logId(): Promise<string>;
  /**
   * A value of the store's small key/value table beside the log (source cursors, import ledgers;
   * keys of the form `<owner>:<name>`), or null. Keys `format` and `log_id` are the store's own.
   */
  getMeta(key: string): Promise<string | null>;
  /** Sets `key` durably (committed before it resolves); visible to every process on the store. */
  setMeta(key: string, value: string): Promise<void>;
  /** Called after any process commits new entries (with a head at least that high). */
  onAppend(fn: (head: number) => void): () => void;
  /** Release connections / file handles. */
  close(): Promise<void>;
  /** Drop every table of this store (tests only). */
  destroy(): Promise<void>;
}

/**
 * Outcome for an envelope whose tx id is already stored at `pos`: a duplicate when its content is
 * the stored one's (`same`: equal `JSON.stringify` of the validated envelope, or of a compacted
 * entry's original — its digest), else a conflict.
 */
export function duplicateOutcome(tx: string, pos: number, same: boolean): AppendOutcome {
  if (same) return { tx, status: 'duplicate', pos };
  return { tx, status: 'rejected', code: 'sync/tx-conflict', message: `transaction ${tx} is already stored at ${pos} with different content`, data: { pos } };
}
