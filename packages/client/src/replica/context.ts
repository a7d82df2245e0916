/**
 * What the replica's parts share: the state a replica holds, and the two moves every path makes —
 * {@link publish} a batch of visible changes and {@link storeMeta} for a write. Built once by the
 * coordinator (`replica.ts`); the paths (`local-tx.ts`, `verdicts.ts`, `remote.ts`, `peers.ts`,
 * `load.ts`, `compaction.ts`) each take it as their first argument.
 */
import { DataloomError, type DatomChange, type HlcString } from '@dataloom/core';
import type { HlcClock, Interner, MergeState } from '@dataloom/core/internals';
import { replicaFamily, type Limits } from '@dataloom/protocol';
import type { StoreMeta } from '../store/types.js';
import type { Drafts } from './drafts.js';
import type { Durable } from './durable.js';
import type { ReplicaEvents } from './events.js';
import type { History } from './history.js';
import type { Materializer } from './materialize.js';
import type { Outbox } from './outbox.js';
import type { SerialQueue } from './serial-queue.js';
import type { UndoStacks } from '../undo/stacks.js';
import type { ChangeOrigin, ServerCursor } from './types.js';

export interface ReplicaContext {
  /** Constructor options that matter after construction. */
  readonly options: { schema?: unknown; sessionIds?: boolean; replicaId?: string; now?: () => number; maxDriftMs?: number; limits?: Partial<Limits> };
  /** What a local transaction must respect (`checkPushable`): the options', tightened by the server's. */
  limits: Limits;
  /** The effective schema input: the app's plus schema-as-data held (core's `schemaWithData`; see `schema-live.ts`). */
  schema: unknown;
  /** The op set under the merge rules (replaced when the schema grows: loading, or `schema-live.ts`). */
  merge: MergeState;
  /** Set while loading. */
  clock: HlcClock;
  /** This replica's id (per session with `sessionIds`); '' until loaded. */
  id: string;
  /** The last server cursor persisted with remote ops. */
  cursor: ServerCursor | null;
  readonly queue: SerialQueue;
  readonly events: ReplicaEvents;
  readonly ids: Interner;
  readonly view: Materializer;
  readonly outbox: Outbox;
  readonly drafts: Drafts;
  /** This client's undo/redo stacks, persisted with the meta. */
  readonly undo: UndoStacks;
  readonly history: History;
  readonly durable: Durable;
  /** When the app last read (a cold start defers its merge while reads keep coming). */
  lastRead: number;
  /** Opens `Replica.readable`. */
  openReads(): void;
}

/**
 * One batch of visible changes: to the dataflow connection (coalesced, see `materialize.ts`), to
 * batch listeners (views' mirrors, datom streams), and as a `change` event (the sync client
 * pushes on local ones). Every path that changes the committed view ends here.
 */
export function publish(ctx: ReplicaContext, origin: ChangeOrigin, txs: HlcString[], changes: DatomChange[]): void {
  ctx.history.invalidate();
  if (changes.length === 0 && txs.length === 0) return;
  const txId = ctx.view.add(origin, txs, changes);
  ctx.drafts.committed(changes);
  ctx.events.batch({ origin, txs, txId, changes });
  ctx.events.emit('change', { origin, txs });
}

/**
 * A draft transaction was taken in: it changes no committed view, but the outbox grew (local) or
 * another tab's did (tab), so the sync client must push it and count it as pending.
 */
export function announceDraft(ctx: ReplicaContext, origin: 'local' | 'tab', tx: HlcString): void {
  ctx.events.emit('change', { origin, txs: [tx] });
}

/** The bookkeeping written with every store write. */
export function storeMeta(ctx: ReplicaContext): StoreMeta {
  const replicaId = ctx.options.sessionIds ? replicaFamily(ctx.id) : ctx.id;
  const undo = ctx.undo.record();
  return { replicaId, hlc: ctx.clock.state(), cursor: ctx.cursor, ...(undo ? { undo } : {}) };
}

/**
 * Advances the clock past a stamp from elsewhere. A stamp beyond the drift bound is merged but not
 * adopted: reported as `clock-drift` when `report`, else ignored (stamps other tabs already took).
 */
export function receiveStamp(ctx: ReplicaContext, tx: HlcString, report: boolean): void {
  try {
    ctx.clock.receive(tx);
  } catch (e) {
    if (!report) return;
    if (e instanceof DataloomError && e.code === 'hlc/drift') ctx.events.emit('clock-drift', { tx, error: e.toWire() });
    else throw e;
  }
}
