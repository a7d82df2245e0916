/**
 * Remote apply: envelopes the sync client received from the server. Idempotent by op id, merged
 * by the same rules in any order; the ops and the cursor they bring the replica up to are written
 * in one storage transaction. Their visible changes wait for the next macrotask before reaching
 * the views (remote coalescing, see `materialize.ts`).
 */
import type { GlobalId, HlcString, Op, TxEnvelope } from '@dataloom/core';
import { compact } from './compaction.js';
import { mergeFresh } from './schema-live.js';
import { checkEnvelope } from '@dataloom/protocol';
import { logOps } from '../store/log-ops.js';
import { publish, receiveStamp, storeMeta, type ReplicaContext } from './context.js';
import type { ServerCursor } from './types.js';

export async function applyRemote(ctx: ReplicaContext, envelopes: readonly TxEnvelope[], cursor: ServerCursor | null): Promise<void> {
  // the server may cut an envelope to the ops this user may read (ids keep their indices)
  for (const env of envelopes) checkEnvelope(env, null, 'envelope', { partial: true });
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
  if (fresh.length) publish(ctx, 'remote', txs, mergeFresh(ctx, fresh));
}

/**
 * The server says the user may no longer read entities `es` / attributes `attrs`: their ops leave
 * the merge state (views get the retractions) and the store is rewritten without them (a
 * compaction), so nothing of them stays in memory or in IndexedDB. Pending local ops stay.
 */
export async function purge(ctx: ReplicaContext, es: readonly GlobalId[], attrs: ReadonlyArray<readonly [GlobalId, string]>): Promise<void> {
  const pending = ctx.outbox.pendingOpIds();
  const ids: string[] = [];
  const take = (e: GlobalId, a?: string) => {
    for (const m of ctx.merge.members(e)) for (const op of ctx.merge.opsOf(m)) if (!pending.has(op.id) && (a === undefined || op.a === a)) ids.push(op.id);
  };
  for (const e of es) take(e);
  for (const [e, a] of attrs) take(e, a);
  await dropOps(ctx, ids);
}

/**
 * The server lists everything the user may read now (a client resuming from a cursor): every op
 * outside it goes, as in {@link purge} — but schema (`db/*`) and draft-entity (`draft/*`) ops stay.
 */
export async function retain(ctx: ReplicaContext, es: ReadonlySet<GlobalId>, attrs: ReadonlySet<string>): Promise<void> {
  const pending = ctx.outbox.pendingOpIds();
  const ids: string[] = [];
  for (const op of ctx.merge.allOps()) {
    if (pending.has(op.id) || (op.a !== undefined && (op.a.startsWith('db/') || op.a.startsWith('draft/')))) continue;
    const e = ctx.merge.rep(op.e);
    if (es.has(e) || (op.a !== undefined && attrs.has(e + '\u0000' + op.a))) continue;
    ids.push(op.id);
  }
  await dropOps(ctx, ids);
}

async function dropOps(ctx: ReplicaContext, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  publish(ctx, 'remote', [], ctx.merge.remove([...ids]));
  await compact(ctx);
}
