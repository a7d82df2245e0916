/**
 * Schema as data arriving after the load. A batch (remote, another tab's or local) that carries
 * schema attributes (`db/cardinality`, `db/unique`, `db/valueType`, … on an entity with
 * `db/ident`) can change the effective schema: the app's schema extended with what the op set
 * defines (core's `schemaWithData`, as `load.ts` does at cold start). When it does, the merge
 * state is rebuilt under the new schema from every op held, the dataflow database takes the new
 * schema (views kept), and the difference between the old and the new visible state is returned
 * as one batch of changes (a rolled-back definition leaves the schema the same way, `unmergeOps`) — so a cardinality-many attribute learned from the log keeps all its
 * values, an identity attribute upserts, a ref attribute holds entities.
 */
import type { DatomChange, Op } from '@dataloom/core';
import { MergeState, SCHEMA_ATTRS, schemaWithData, visibleByKey, visibleChanges } from '@dataloom/core/internals';
import type { ReplicaContext } from './context.js';

/** Merges `ops` (not yet held) into `ctx.merge`; returns the visible changes (see the module docs). */
export function mergeFresh(ctx: ReplicaContext, ops: readonly Op[]): DatomChange[] {
  if (!ops.some((o) => touchesSchema(ctx, o))) return ctx.merge.apply(ops);
  return remerge(ctx, [...ctx.merge.allOps(), ...ops]) ?? ctx.merge.apply(ops);
}

/**
 * Takes `ops` out of `ctx.merge` (a rejected or unwritten local transaction); returns the visible
 * changes. A schema definition they carried leaves the effective schema with them.
 */
export function unmergeOps(ctx: ReplicaContext, ops: readonly Op[]): DatomChange[] {
  const ids = ops.map((o) => o.id);
  if (!ops.some((o) => touchesSchema(ctx, o))) return ctx.merge.remove(ids);
  const gone = new Set(ids);
  return remerge(ctx, [...ctx.merge.allOps()].filter((o) => !gone.has(o.id))) ?? ctx.merge.remove(ids);
}

/**
 * When `all` defines another effective schema than the current one: a new merge state of `all`
 * under it, the database given it, and the difference to the old visible state. Else null.
 */
function remerge(ctx: ReplicaContext, all: readonly Op[]): DatomChange[] | null {
  const old = ctx.merge;
  const effective = schemaWithData(ctx.options.schema ?? {}, all);
  const next = new MergeState(effective);
  if (next.schema.sameAs(old.schema) && sameInput(effective, ctx.schema)) return null;
  const before = visibleByKey(old);
  next.apply(all);
  ctx.merge = next;
  ctx.schema = effective;
  ctx.view.setSchema(effective);
  return visibleChanges(before, next);
}

/** A schema attribute, or the retraction of an entity that holds one (cheap: the common path). */
function touchesSchema(ctx: ReplicaContext, o: Op): boolean {
  if (o.op === 'retractEntity') return ctx.merge.opsOf(o.e).some((x) => x.a !== undefined && SCHEMA_ATTRS.has(x.a));
  return o.a !== undefined && SCHEMA_ATTRS.has(o.a);
}

/** Whether two schema inputs say the same (they are plain data; rare path, so a JSON compare). */
function sameInput(a: unknown, b: unknown): boolean {
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}
