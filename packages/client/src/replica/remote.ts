/**
 * Remote apply: envelopes the sync client received from the server. Idempotent by op id, merged
 * by the same rules in any order; the ops and the cursor they bring the replica up to are written
 * in one storage transaction. Their visible changes wait for the next macrotask before reaching
 * the views (remote coalescing, see `materialize.ts`). Also what the server takes away: a `drop`
 * ({@link purge}), a `readable` list ({@link retain}), and another log ({@link resetLog}).
 */
import type { DatomChange, GlobalId, HlcString, Op, TxEnvelope } from '@dataloom/core';
import { datomKey, replicaOfTx } from '@dataloom/core/internals';
import { compact } from './compaction.js';
import { mergeFresh } from './schema-live.js';
import { checkEnvelope, replicaFamily } from '@dataloom/protocol';
import { writeAcks } from './verdicts.js';
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

/**
 * The server's log is not the one the cursor names (`welcome` with `reset`: its data was wiped and
 * made again, another server, a restore into a new log): what came from the old log means nothing
 * there, and keeping it would leave this replica unlike every other one on the new log. So:
 *
 * - ops of other replicas leave the op set and the store, as in {@link purge} (views get the
 *   reversing diffs; drafts held from them go too);
 * - this replica's own transactions the old server acknowledged (of any session of the store,
 *   drafts included) go back to the outbox and are pushed again: they are its user's writes, and
 *   nothing the user wrote is dropped without the new server's verdict (a log that already holds
 *   one acknowledges it again: the server deduplicates by tx id). A transaction held only in part
 *   (a compaction with a frontier or a `drop` removed some of its ops) goes as the ops held,
 *   numbered `${tx}/0…` again; a `cas` check it carried is not kept with acknowledged ops, so it is
 *   pushed without one;
 * - pending transactions stay; the cursor becomes null, so the new log is read from its start.
 *
 * The outbox entries are written first with the old cursor, the store is compacted, then the
 * cursor is cleared: a crash in between meets the reset again at the next hello, and redoing it
 * changes nothing. Returns the txs put back in the outbox.
 */
export async function resetLog(ctx: ReplicaContext): Promise<HlcString[]> {
  await writeAcks(ctx);
  const family = ctx.options.sessionIds ? replicaFamily(ctx.id) : ctx.id;
  const mine = (tx: HlcString) => (ctx.options.sessionIds ? replicaFamily(replicaOfTx(tx)) : replicaOfTx(tx)) === family;
  const pending = ctx.outbox.pendingOpIds();
  const own = new Map<HlcString, Op[]>();
  const drop: string[] = [];
  for (const op of ctx.merge.allOps()) {
    if (pending.has(op.id)) continue;
    if (!mine(op.tx)) drop.push(op.id);
    else if (own.has(op.tx)) own.get(op.tx)!.push(op);
    else own.set(op.tx, [op]);
  }
  const envs: TxEnvelope[] = [];
  const swapOut: string[] = [];
  const swapIn: Op[] = [];
  for (const [tx, ops] of own) {
    const { env, renumbered } = whole(tx, ops);
    if (renumbered) {
      swapOut.push(...ops.map((o) => o.id));
      swapIn.push(...env.ops);
    }
    envs.push(env);
  }
  const draftSwaps: TxEnvelope[] = [];
  const draftsOut: Array<[string, HlcString]> = [];
  for (const d of ctx.drafts.ids()) {
    for (const held of ctx.drafts.envelopes(d)) {
      if (ctx.outbox.has(held.tx)) continue;
      if (!mine(held.tx)) {
        ctx.drafts.remove(d, held.tx);
        draftsOut.push([d, held.tx]);
        continue;
      }
      const { env, renumbered } = whole(held.tx, held.ops);
      const tagged = { ...env, draft: d };
      if (renumbered) draftSwaps.push(tagged);
      envs.push(tagged);
    }
  }
  envs.sort((x, y) => (x.tx < y.tx ? -1 : x.tx > y.tx ? 1 : 0));
  // with the old cursor: a crash before the cursor is cleared meets the reset again
  if (envs.length) {
    const meta = storeMeta(ctx);
    await ctx.durable.persist('reset', async (s) => {
      if (s.putLocals) await s.putLocals(envs, meta);
      else for (const e of envs) await s.putLocal(e, meta);
    });
  }
  for (const env of envs) ctx.outbox.insert(env);
  for (const env of draftSwaps) {
    ctx.drafts.remove(env.draft!, env.tx);
    ctx.drafts.add(env);
    draftsOut.push([env.draft!, env.tx]);
  }
  const changes = ctx.merge.remove([...drop, ...swapOut]);
  if (swapIn.length) changes.push(...ctx.merge.apply(swapIn));
  publish(ctx, 'remote', [], net(changes));
  ctx.cursor = null;
  await compact(ctx);
  await ctx.durable.persist('putMeta', (s) => s.putMeta(storeMeta(ctx)));
  // other tabs: drop the same from memory, then take the re-pushed transactions as pending
  ctx.events.persisted({ kind: 'dropped', ops: [...drop, ...swapOut], drafts: draftsOut, reset: true });
  for (const envelope of envs) ctx.events.persisted({ kind: 'local', envelope });
  if (envs.length) ctx.events.emit('change', { origin: 'local', txs: envs.map((e) => e.tx) });
  return envs.map((e) => e.tx);
}

/** The envelope of `tx` from the ops held of it (`${tx}/0…` in order), and whether they had to be numbered again (held in part). */
function whole(tx: HlcString, held: readonly Op[]): { env: TxEnvelope; renumbered: boolean } {
  const idx = (o: Op) => Number(o.id.slice(tx.length + 1));
  const ops = held.slice().sort((x, y) => idx(x) - idx(y));
  const renumbered = !ops.every((o, i) => idx(o) === i);
  return { env: { tx, replica: replicaOfTx(tx), ops: renumbered ? ops.map((o, i) => ({ ...o, id: `${tx}/${i}` })) : ops }, renumbered };
}

/** `changes` without the retractions a later addition of the same datom undoes (ops numbered again). */
function net(changes: DatomChange[]): DatomChange[] {
  const retracted = new Map<string, number>();
  const gone = new Set<number>();
  changes.forEach((c, i) => {
    const k = `${datomKey(c.e, c.a, c.v)}\u0000${c.tx}`;
    if (!c.added) retracted.set(k, i);
    else if (retracted.has(k)) {
      gone.add(retracted.get(k)!);
      gone.add(i);
      retracted.delete(k);
    }
  });
  return gone.size ? changes.filter((_, i) => !gone.has(i)) : changes;
}

async function dropOps(ctx: ReplicaContext, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  publish(ctx, 'remote', [], ctx.merge.remove([...ids]));
  await compact(ctx);
  ctx.events.persisted({ kind: 'dropped', ops: [...ids], drafts: [], reset: false });
}
