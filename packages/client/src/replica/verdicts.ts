/**
 * The server's verdicts on outbox entries: an acknowledgement (the envelope leaves the outbox; its
 * ops stay, and its removal from the stored outbox is written lazily — ack batching, see
 * `outbox.ts`) or a rejection (the envelope's ops leave the op set; watched queries get the
 * reversing diffs as one batch). These run as jobs of the serial queue.
 */
import { DataloomError, type HlcString, type TxEnvelope } from '@dataloom/core';
import { publish, type ReplicaContext } from './context.js';
import { unmergeOps } from './schema-live.js';
import { nextMacrotask } from './macrotask.js';
import type { ServerCursor, WireError } from './types.js';

/** Drops acknowledged txs from the outbox and queues the write of their removal. Unknown txs are skipped. */
export function acknowledge(ctx: ReplicaContext, acks: ReadonlyArray<{ tx: HlcString; cursor?: ServerCursor | null }>): void {
  let acked: Array<{ tx: HlcString; cursor: ServerCursor | null }>;
  if (acks.length === 1) {
    const env = ctx.outbox.take(acks[0]!.tx);
    if (env === null) return;
    ctx.durable.noteLogAppend(env.ops.length);
    acked = [{ tx: env.tx, cursor: acks[0]!.cursor ?? null }];
  } else {
    const taken = ctx.outbox.takeAll(acks.map((a) => a.tx));
    if (taken.length === 0) return;
    for (const e of taken) ctx.durable.noteLogAppend(e.ops.length);
    const found = new Set(taken.map((e) => e.tx));
    acked = [];
    for (const a of acks) if (found.delete(a.tx)) acked.push({ tx: a.tx, cursor: a.cursor ?? null });
  }
  if (ctx.outbox.noteAcked(acked.map((a) => a.tx))) {
    nextMacrotask(() => void ctx.queue.run(() => writeAcks(ctx)).catch(() => {}));
  }
  for (const a of acked) ctx.events.emit('acked', a);
}

/** Writes the acknowledgements not yet written (inside a queue job; also before compaction and close). */
export async function writeAcks(ctx: ReplicaContext): Promise<void> {
  const txs = ctx.outbox.unwrittenAcks();
  if (txs.length === 0) return;
  try {
    await ctx.durable.persist('ack', async (s) => {
      if (s.acks) await s.acks(txs);
      else for (const t of txs) await s.ack(t);
    });
  } catch {
    /* the envelopes stay in the stored outbox: re-sent after a reload, deduplicated */
  }
}

/** The server refused `tx`: delete it from the stored outbox, then roll it back. */
export async function reject(ctx: ReplicaContext, tx: HlcString, error: WireError | DataloomError): Promise<void> {
  if (!ctx.outbox.has(tx)) return;
  await ctx.durable.persist('reject', (s) => s.reject(tx));
  const envelope = ctx.outbox.take(tx)!;
  const wire = error instanceof DataloomError ? error.toWire() : error;
  rollback(ctx, envelope);
  ctx.events.persisted({ kind: 'reject', tx, error: wire });
  ctx.events.emit('rejected', { tx, envelope, error: wire });
}

/** Removes a rejected envelope's ops (the reversing diffs reach views as one batch), or its draft entry. */
export function rollback(ctx: ReplicaContext, envelope: TxEnvelope): void {
  ctx.undo.forget(envelope.tx);
  if (envelope.draft !== undefined) ctx.drafts.remove(envelope.draft, envelope.tx);
  else publish(ctx, 'rollback', [envelope.tx], unmergeOps(ctx, envelope.ops));
}
