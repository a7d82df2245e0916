/**
 * Cold start. Reads the store and merges the op set it holds, building the database in one go.
 * When the store holds a still-valid derived snapshot (the visible datoms written at the last
 * compaction), the database is built from it first and `Replica.readable` opens before the long
 * merge; the merge then corrects any drift with ordinary diffs. A store that cannot be read makes
 * the replica start empty in memory (`storage-error`).
 */
import {
  DataloomError,
  parseHlc,
  type DatomChange,
  type GlobalId,
  type HlcString,
  type Op,
  type WireValue,
} from '@dataloom/core';
import { datomKey, HlcClock, MergeState, newReplicaId, schemaWithData } from '@dataloom/core/internals';
import { sessionReplicaId } from '@dataloom/protocol';
import type { DerivedSnapshot } from '../store/types.js';
import { publish, storeMeta, type ReplicaContext } from './context.js';

/** The whole cold start (the first job of the serial queue). `readable` opens at the latest when it ends. */
export async function load(ctx: ReplicaContext): Promise<void> {
  try {
    await loadInner(ctx);
  } finally {
    ctx.openReads();
  }
}

/** Uses `schemaWithData` on `ops`; a new merge state when the schema grew. */
function adoptSchema(ctx: ReplicaContext, ops: readonly Op[]): void {
  const effective = schemaWithData(ctx.schema, ops);
  if (effective !== ctx.schema) {
    ctx.schema = effective;
    ctx.merge = new MergeState(effective);
  }
}

/**
 * Fast path: build the database from a still-valid derived snapshot and open `readable` before
 * the op set is merged. Returns the derived rows (to check against the merged state) or null.
 */
async function loadDerivedFirst(ctx: ReplicaContext): Promise<DerivedSnapshot | null> {
  let derived: DerivedSnapshot | null = null;
  try {
    derived = await ctx.durable.store.loadDerived();
  } catch {
    return null;
  }
  if (!derived) return null;
  adoptSchema(ctx, derived.datoms.map(([e, a, v, tx]) => ({ id: tx, tx, e, op: 'add' as const, a, v })));
  ctx.view.rebuild(
    derived.datoms.map(([e, a, v, tx]) => ({ e, a, v, tx, added: true })),
    ctx.schema,
  );
  ctx.openReads();
  // Let the app's first reads (initial queries, watches) run before the long merge: wait until
  // reads have been quiet for 30 ms, at most 1 s.
  const start = Date.now();
  ctx.lastRead = start;
  while (Date.now() - ctx.lastRead < 30 && Date.now() - start < 1000) await new Promise((r) => setTimeout(r, 10));
  return derived;
}

async function loadInner(ctx: ReplicaContext): Promise<void> {
  const derived = await loadDerivedFirst(ctx);
  let st;
  try {
    st = await ctx.durable.store.load();
  } catch (e) {
    const err = e instanceof DataloomError ? e : new DataloomError('storage/failed', String(e), {});
    await ctx.durable.fallback(err, []);
    st = await ctx.durable.store.load();
  }
  const { options } = ctx;
  const baseId = st.meta?.replicaId ?? options.replicaId ?? newReplicaId();
  ctx.id = options.sessionIds ? sessionReplicaId(baseId) : baseId;
  ctx.clock = new HlcClock(ctx.id, {
    ...(options.now ? { now: options.now } : {}),
    ...(options.maxDriftMs !== undefined ? { maxDriftMs: options.maxDriftMs } : {}),
    initial: st.meta?.hlc ?? null,
  });
  ctx.cursor = st.meta?.cursor ?? null;
  ctx.undo.load(st.meta?.undo);
  const committed: Op[] = [];
  const pushOp = (o: Op & { draft?: string }) => {
    if (o.draft !== undefined) {
      const { draft, ...op } = o;
      ctx.drafts.add({ tx: op.tx, replica: parseHlc(op.tx).replica, ops: [op], draft });
    } else committed.push(o);
  };
  for (const o of st.snapshot) pushOp(o);
  for (const batch of st.log) for (const o of batch) pushOp(o);
  ctx.outbox.load(st.outbox);
  ctx.durable.loadedLog(st.log.length, st.log.reduce((n, b) => n + b.length, 0));
  for (const env of st.outbox) {
    if (env.draft !== undefined) ctx.drafts.add(env);
    else committed.push(...env.ops);
  }
  if (derived === null) {
    adoptSchema(ctx, committed);
    ctx.view.rebuild(ctx.merge.apply(committed), ctx.schema);
  } else {
    // the database already answers from the derived snapshot: merge, then correct any drift
    publishDrift(ctx, derived, ctx.merge.apply(committed));
  }
  // stamps stay above every op held (matters for session ids and restored wall clocks)
  let newest = '';
  for (const o of committed) if (o.tx > newest) newest = o.tx;
  if (newest) {
    try {
      ctx.clock.receive(newest);
    } catch {
      /* a far-future op: merged, not adopted */
    }
  }
  ctx.drafts.loaded();
  if (!st.meta) await ctx.durable.persist('putMeta', (s) => s.putMeta(storeMeta(ctx)));
  ctx.durable.watchFaults();
}

/** Publishes the difference between the derived rows the database was built from and the merged state. */
function publishDrift(ctx: ReplicaContext, derived: DerivedSnapshot, merged: DatomChange[]): void {
  const have = new Map<string, [GlobalId, string, WireValue, HlcString]>();
  for (const row of derived.datoms) have.set(datomKey(row[0], row[1], row[2]), row);
  const corrections: DatomChange[] = [];
  for (const c of merged) {
    const k = datomKey(c.e, c.a, c.v);
    if (have.has(k)) have.delete(k);
    else corrections.push(c);
  }
  for (const [e, a, v, tx] of have.values()) corrections.unshift({ e, a, v, tx, added: false });
  if (corrections.length) publish(ctx, 'local', [], corrections);
}
