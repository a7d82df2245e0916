/**
 * The outbox: unacknowledged local envelopes (this tab's and, with several tabs, the other tabs'
 * sharing the store), oldest first — what the sync client sends and `pending` counts.
 *
 * **Ack batching.** An acknowledged envelope leaves the list at once, but its removal from the
 * store is written lazily: acknowledged txs wait in {@link Outbox.unwrittenAcks} and are written
 * in one storage transaction per macrotask (`verdicts.ts` schedules it), and before any
 * compaction or close. A lost ack only means the envelope is still in the stored outbox after a
 * reload and is sent again, which the server deduplicates.
 */
import type { HlcString, TxEnvelope } from '@dataloom/core';

export class Outbox {
  private list: TxEnvelope[] = [];
  private acks: HlcString[] = [];

  /** The envelopes, oldest first (a copy: later changes do not show in it). */
  snapshot(): TxEnvelope[] {
    return this.list.slice();
  }

  get size(): number {
    return this.list.length;
  }

  /** Replaces the list (cold start: the stored outbox, ascending `tx`). */
  load(envelopes: TxEnvelope[]): void {
    this.list = envelopes;
  }

  /** Whether `tx` is pending. */
  has(tx: HlcString): boolean {
    return this.list.some((e) => e.tx === tx);
  }

  /** Appends a local envelope (newer than every held one: stamps only grow). */
  push(env: TxEnvelope): void {
    this.list.push(env);
  }

  /** Adds another tab's envelope in tx order; false when its tx is already held. */
  insert(env: TxEnvelope): boolean {
    if (this.has(env.tx)) return false;
    this.list.push(env);
    this.list.sort((x, y) => (x.tx < y.tx ? -1 : x.tx > y.tx ? 1 : 0));
    return true;
  }

  /** Removes and returns the envelope of `tx`, or null. */
  take(tx: HlcString): TxEnvelope | null {
    const i = this.list.findIndex((e) => e.tx === tx);
    if (i < 0) return null;
    return this.list.splice(i, 1)[0]!;
  }

  /** Removes the envelopes of `txs` (unknown ones skipped); returns them in outbox order. */
  takeAll(txs: Iterable<HlcString>): TxEnvelope[] {
    const want = new Set(txs);
    const keep: TxEnvelope[] = [];
    const taken: TxEnvelope[] = [];
    for (const e of this.list) {
      if (want.has(e.tx)) {
        want.delete(e.tx);
        taken.push(e);
      } else keep.push(e);
    }
    if (taken.length) this.list = keep;
    return taken;
  }

  /** Ids of every op still pending (not part of a snapshot of acknowledged ops). */
  pendingOpIds(): Set<string> {
    return new Set(this.list.flatMap((e) => e.ops.map((o) => o.id)));
  }

  /** `frontier`, lowered below the oldest pending tx (compaction must not drop what may be rejected). */
  clamp(frontier: HlcString): HlcString {
    for (const e of this.list) if (e.tx < frontier) frontier = e.tx;
    return frontier;
  }

  /** The txs, oldest first. */
  txs(): HlcString[] {
    return this.list.map((e) => e.tx);
  }

  /** Records acknowledged txs to write later; true when none were waiting (a write must be scheduled). */
  noteAcked(txs: readonly HlcString[]): boolean {
    const wasEmpty = this.acks.length === 0;
    for (const t of txs) this.acks.push(t);
    return wasEmpty && txs.length > 0;
  }

  /** The acknowledged txs not yet written, handed over (the list empties). */
  unwrittenAcks(): HlcString[] {
    const txs = this.acks;
    this.acks = [];
    return txs;
  }
}
