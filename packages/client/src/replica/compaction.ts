/**
 * Compaction: one snapshot record of every acknowledged op replaces the log, next to the derived
 * snapshot (the visible datoms) that lets the next cold start answer queries before its merge.
 * Started by hand, or in the background by `Durable.noteLogAppend` past `compactEvery` batches.
 */
import { DataloomError, type HlcString } from '@dataloom/core';
import type { DerivedSnapshot } from '../store/types.js';
import type { ReplicaContext } from './context.js';
import { writeAcks } from './verdicts.js';

/**
 * With a stable `frontier` (an HLC below which no op will ever arrive again — the server can
 * tell), ops superseded below it are dropped first (`MergeState.supersededBelow`); the frontier is
 * clamped below the oldest pending local transaction. Visible state is unchanged; `asOf` before
 * the frontier no longer sees dropped ops. Returns how many ops were dropped. Runs inside a job of
 * the serial queue.
 */
export async function compact(ctx: ReplicaContext, options: { frontier?: HlcString } = {}): Promise<number> {
  await writeAcks(ctx);
  ctx.history.invalidate();
  let dropped = 0;
  if (options.frontier !== undefined) {
    const frontier = ctx.outbox.clamp(options.frontier);
    const ids = ctx.merge.supersededBelow(frontier);
    const removed = ids.map((id) => ctx.merge.getOp(id)!);
    const changes = ctx.merge.remove(ids);
    if (changes.length) {
      // would be a bug in supersededBelow: undo and refuse rather than corrupt
      ctx.merge.apply(removed);
      throw new DataloomError('replica/compaction', 'compaction would change visible state; skipped', { frontier });
    }
    dropped = ids.length;
  }
  const pending = ctx.outbox.pendingOpIds();
  const ops = [...ctx.merge.allOps()].filter((o) => !pending.has(o.id));
  ops.push(...ctx.drafts.storedOps(pending)); // draft ops stay, tagged with their draft
  const derived: DerivedSnapshot = {
    outbox: ctx.outbox.txs(),
    datoms: [...ctx.merge.datoms()].map((d) => [d.e, d.a, d.v, d.tx]),
  };
  await ctx.durable.persist('compact', (s) => s.compact(ops, derived));
  return dropped;
}
