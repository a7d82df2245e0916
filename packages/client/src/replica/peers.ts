/**
 * Peer tabs: the other tabs of this app share the store (see `tabs/bus.ts`). What they announce is
 * already durable, so these paths only merge in memory — nothing is written — and every tab's
 * state stays a function of the same op set.
 */
import type { HlcString, Op, TxEnvelope } from '@dataloom/core';
import { checkEnvelope } from '@dataloom/protocol';
import { announceDraft, publish, receiveStamp, type ReplicaContext } from './context.js';
import type { ServerCursor, WireError } from './types.js';
import { rollback } from './verdicts.js';
import { mergeFresh } from './schema-live.js';

/** Another tab made a local transaction and persisted it in the shared outbox: merge it, track it as pending. */
export function peerLocal(ctx: ReplicaContext, envelope: TxEnvelope): void {
  checkEnvelope(envelope);
  receiveStamp(ctx, envelope.tx, false);
  ctx.outbox.insert(envelope);
  if (envelope.draft !== undefined) {
    ctx.drafts.add(envelope);
    announceDraft(ctx, 'tab', envelope.tx);
    return;
  }
  const ops = envelope.ops.filter((o) => !ctx.merge.has(o.id));
  publish(ctx, 'tab', [envelope.tx], mergeFresh(ctx, ops));
}

/** The syncing tab persisted remote envelopes: merge them. */
export function peerRemote(ctx: ReplicaContext, envelopes: readonly TxEnvelope[], cursor: ServerCursor | null): void {
  const fresh: Op[] = [];
  const txs: HlcString[] = [];
  for (const env of envelopes) {
    checkEnvelope(env, null, 'envelope', { partial: true });
    receiveStamp(ctx, env.tx, false);
    if (env.draft !== undefined) {
      ctx.drafts.add(env);
      continue;
    }
    const ops = env.ops.filter((o) => !ctx.merge.has(o.id));
    if (ops.length) {
      fresh.push(...ops);
      txs.push(env.tx);
    }
  }
  ctx.cursor = cursor;
  if (fresh.length) publish(ctx, 'tab', txs, mergeFresh(ctx, fresh));
}

/**
 * The syncing tab dropped ops (and draft transactions) from the op set and the store — a purge, or
 * a reset to another log (then the cursor is cleared): drop them here too (pending ones stay).
 */
export function peerDropped(ctx: ReplicaContext, ops: readonly string[], drafts: ReadonlyArray<readonly [string, HlcString]>, reset: boolean): void {
  const pending = ctx.outbox.pendingOpIds();
  const ids = ops.filter((id) => typeof id === 'string' && ctx.merge.has(id) && !pending.has(id));
  for (const [d, tx] of drafts) if (!ctx.outbox.has(tx)) ctx.drafts.remove(d, tx);
  if (reset) ctx.cursor = null;
  if (ids.length) publish(ctx, 'tab', [], ctx.merge.remove(ids));
}

/** The syncing tab recorded an acknowledgement: `tx` is no longer pending. */
export function peerAck(ctx: ReplicaContext, tx: HlcString): void {
  ctx.outbox.take(tx);
}

/** The syncing tab recorded a rejection: roll `tx` back here too. */
export function peerReject(ctx: ReplicaContext, tx: HlcString, error: WireError): void {
  const envelope = ctx.outbox.take(tx);
  if (envelope === null) return;
  rollback(ctx, envelope);
  ctx.events.emit('rejected', { tx, envelope, error });
}
