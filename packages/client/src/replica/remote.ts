/**
 * Remote apply: envelopes the sync client received from the server. Idempotent by op id, merged
 * by the same rules in any order; the ops and the cursor they bring the replica up to are written
 * in one storage transaction. Their visible changes wait for the next macrotask before reaching
 * the views (remote coalescing, see `materialize.ts`).
 */
import type { HlcString, Op, TxEnvelope } from '@dataloom/core';
import { checkEnvelope } from '@dataloom/protocol';
import { logOps } from '../store/log-ops.js';
import { publish, receiveStamp, storeMeta, type ReplicaContext } from './context.js';
import type { ServerCursor } from './types.js';

export async function applyRemote(ctx: ReplicaContext, envelopes: readonly TxEnvelope[], cursor: ServerCursor | null): Promise<void> {
  for (const env of envelopes) checkEnvelope(env);
  const fresh: Op[] = [];
  const txs: HlcString[] = [];
  const draftEnvs: TxEnvelope[] = [];
  for (const env of envelopes) {
    receiveStamp(ctx, env.tx, true);
    if (env.draft !== undefined) {
      draftEnvs.push(env);
      continue;
    }
    let any = false;
    for (const op of env.ops) {
      if (!ctx.merge.has(op.id)) {
        fresh.push(op);
        any = true;
      }
    }
    if (any) txs.push(env.tx);
  }
  // draft ops are stored tagged with their draft (the load puts them back in `drafts`)
  const draftOps = draftEnvs.flatMap(logOps);
  await ctx.durable.persist('putRemote', (s) => s.putRemote([...fresh, ...draftOps], { ...storeMeta(ctx), cursor }));
  if (fresh.length || draftOps.length) ctx.durable.noteLogAppend(fresh.length + draftOps.length);
  ctx.cursor = cursor;
  ctx.events.persisted({ kind: 'remote', envelopes: [...envelopes], cursor });
  for (const d of draftEnvs) ctx.drafts.add(d);
  if (fresh.length) publish(ctx, 'remote', txs, ctx.merge.apply(fresh));
}
