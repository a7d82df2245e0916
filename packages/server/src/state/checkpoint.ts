/**
 * Checkpoints of the committed state, so a node starts without replaying the whole log.
 *
 * A checkpoint is the committed state at a log position `head`: the ops the merged state holds
 * (wire ops, as in envelopes; superseded ops already dropped), the highest stamp seen, and the
 * positions of the entries the draft directory follows (draft envelopes and committed envelopes
 * that write draft entities only, `drafts/directory.ts`), which are read again from the log at
 * start. That list ({@link RefeedPositions}) holds what the directory keeps: a draft envelope's
 * position leaves it once a committed closing of its draft (`:draft/closed`, written by a commit or
 * a discard) covers it — the directory drops such envelopes (`DraftDirectory.note`/`prune`) — so
 * it is bounded by the live draft envelopes plus the draft-entity-only entries (about two per draft:
 * creating and discarding it), not by every draft transaction ever made. It is one value of the store's key/value table (`ServerStore.setMeta`, key
 * {@link CHECKPOINT_KEY}), written in one storage statement: a process killed while writing it
 * leaves the previous checkpoint (or none), never half of one. A start reads it, then the log
 * after `head` (the tail), and merges both in one pass: the merged state is a function of the op
 * set, and a checkpoint holds the same merged database as the log prefix it stands for, so the
 * result is the state a full replay gives.
 *
 * Writing one (`SyncNode`): the content is taken on the node's serial queue (commits wait for
 * that: the ops are copied), then encoded in slices with yields and written off the queue; at
 * 1M ops (300k held, 38 MB of JSON) the longest event-loop stall is ~0.2 s (was ~0.6 s in one
 * block), a commit queued meanwhile waits ~0.2 s.
 *
 * A checkpoint is ignored (full replay) when it is of another log (`log` differs from the store's
 * log id), of another format version, above the store's head, or unreadable. A checkpoint of a
 * state that had dropped superseded ops (`ServerState.historyCompacted`, as any state does after
 * `compactEvery` ops) holds no history either: a start whose configured schema writes schema
 * changes replays the whole log instead (`sync-node.ts`), so a schema change that needs the
 * history still works on restart; one of a state that had not holds every committed op.
 */
import type { GlobalId, HlcString, Op, TxEnvelope } from '@dataloom/core';
import { DRAFT_ATTRS, closedBy, closingVector } from '@dataloom/core/internals';
import { draftEntityOnly, type ValuesOf } from '../drafts/directory.js';
import type { LogEntry } from '../storage/types.js';
import type { ServerState, StateBase } from './server-state.js';

/** The meta key holding the checkpoint (`<owner>:<name>`). */
export const CHECKPOINT_KEY = 'node:checkpoint';
const VERSION = 1;

export interface Checkpoint extends StateBase {
  /** Log id (`ServerStore.logId`) the checkpoint is of. */
  log: string;
  /** Positions at or below `head` of the entries the draft directory follows, ascending. */
  refeed: readonly number[];
}

/** Whether the draft directory follows `env` (a draft envelope, or one that writes draft entities only). */
export function refeeds(env: TxEnvelope): boolean {
  return env.draft !== undefined || draftEntityOnly(env) !== null;
}

/**
 * The positions of the entries the draft directory follows ({@link refeeds}), kept by the node for
 * its checkpoints. Draft envelopes are remembered with their draft and stamp, so {@link prune} can
 * drop those a committed closing covers (the directory drops them too: a start from the checkpoint
 * feeds the directory what a full replay leaves in it). Pruned at every checkpoint and, between
 * checkpoints, whenever the list doubled since the last prune.
 */
export class RefeedPositions {
  private positions: number[] = [];
  /** Position → draft and stamp, for the draft envelopes among {@link positions}. */
  private readonly drafts = new Map<number, { draft: GlobalId; tx: HlcString }>();
  private afterPrune = 0;

  /** Starts over: `positions` (a checkpoint's) and the entries read at start, `entries` (those the list follows are noted). */
  reset(positions: readonly number[], entries: readonly LogEntry[]): void {
    this.positions = [...positions];
    this.drafts.clear();
    this.afterPrune = this.positions.length;
    const known = new Set(positions);
    for (const e of entries) {
      if (!refeeds(e.env)) continue;
      if (!known.has(e.pos)) this.positions.push(e.pos);
      if (e.env.draft !== undefined) this.drafts.set(e.pos, { draft: e.env.draft, tx: e.env.tx });
    }
  }

  /** Notes committed `entries` (log order); true when the list doubled since the last prune (prune it, with a committed state). */
  note(entries: readonly LogEntry[]): boolean {
    for (const e of entries) this.add(e.pos, e.env);
    return this.positions.length > 2 * this.afterPrune + 1024;
  }

  /** Notes one entry (a rewritten entry of a log compaction may follow the directory now). */
  add(pos: number, env: TxEnvelope): void {
    if (!refeeds(env)) return;
    this.positions.push(pos);
    if (env.draft !== undefined) this.drafts.set(pos, { draft: env.draft, tx: env.tx });
  }

  /** Drops the draft envelopes a closing of their draft covers, read from the committed database `values`. */
  prune(values: ValuesOf): void {
    const vectors = new Map<GlobalId, ReturnType<typeof closingVector>>();
    const keep: number[] = [];
    for (const p of this.positions) {
      const d = this.drafts.get(p);
      if (d !== undefined) {
        let vv = vectors.get(d.draft);
        if (vv === undefined) vectors.set(d.draft, (vv = closingVector(values(d.draft, DRAFT_ATTRS.closed))));
        if (closedBy(vv, d.tx)) {
          this.drafts.delete(p);
          continue;
        }
      }
      keep.push(p);
    }
    this.positions = keep;
    this.afterPrune = keep.length;
  }

  /** The positions held (unsorted; may repeat). */
  list(): readonly number[] {
    return this.positions;
  }

  get size(): number {
    return this.positions.length;
  }
}

/** The checkpoint of `state` (committed: not dirty): its ops are fresh wire ops, unchanged by later merges. */
export function checkpointOf(state: ServerState, log: string, refeed: readonly number[]): Checkpoint {
  if (state.dirty) throw new Error('checkpoint of a state holding uncommitted envelopes');
  const positions = [...new Set(refeed)].sort((a, b) => a - b);
  return { log, head: state.head, maxMs: state.maxMs, compacted: state.historyCompacted, refeed: positions, ops: [...state.merged.allOps()] };
}

/** Ops per slice of {@link encodeCheckpoint}. */
const SLICE = 5000;

/** `c` as stored: JSON, made in slices of ops with a yield to the event loop between them (tens of MB at 1M ops). */
export async function encodeCheckpoint(c: Checkpoint): Promise<string> {
  const parts: string[] = [];
  for (let i = 0; i < c.ops.length; i += SLICE) {
    if (i > 0) await new Promise<void>((r) => setImmediate(r));
    parts.push(JSON.stringify(c.ops.slice(i, i + SLICE)).slice(1, -1));
  }
  const head = JSON.stringify({ v: VERSION, log: c.log, head: c.head, maxMs: c.maxMs, compacted: c.compacted, refeed: c.refeed });
  return `${head.slice(0, -1)},"ops":[${parts.join(',')}]}`;
}

/** The stored checkpoint, or null when there is none or it cannot be used on this log at `storeHead` (see the module docs). */
export function decodeCheckpoint(text: string | null, log: string, storeHead: number): Checkpoint | null {
  if (text === null) return null;
  let c: { v?: unknown; log?: unknown; head?: unknown; maxMs?: unknown; compacted?: unknown; refeed?: unknown; ops?: unknown };
  try {
    c = JSON.parse(text) as typeof c;
  } catch {
    return null;
  }
  if (c === null || typeof c !== 'object' || c.v !== VERSION || c.log !== log) return null;
  if (typeof c.head !== 'number' || !Number.isSafeInteger(c.head) || c.head < 0 || c.head > storeHead) return null;
  if (typeof c.maxMs !== 'number' || !Array.isArray(c.refeed) || !Array.isArray(c.ops)) return null;
  return { log, head: c.head, maxMs: c.maxMs, compacted: c.compacted !== false, refeed: c.refeed as number[], ops: c.ops as Op[] };
}
