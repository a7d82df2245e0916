/**
 * Bootstrap from a snapshot: a connection starts from the current state of what its client may
 * hold rather than from the log when
 *
 * - the client is fresh (no cursor, or one of another log): its first sync costs what it receives,
 *   not the history of the log;
 * - its cursor is below the store's retention horizon (`ServerStore.horizon`): the entries it
 *   lacks are compacted, so it is never streamed a gap;
 * - read rules or scopes filter what it receives (`access.ts` decides when a resuming client is
 *   better served by the log since its cursor): it may hold what its user lost while away (so it
 *   is told what it may keep), and lack what was gained meanwhile from before its cursor.
 *
 * The frames, in order:
 *
 * 1. for a client resuming from a cursor while rules or scopes filter, `readable {es, attrs, more}`
 *    parts: what it may hold (its view); the client drops every op outside it;
 * 2. `ops` parts with the ops the server's state holds for every entity (and attribute) of the view
 *    and for the schema's attribute entities — with no view (no rules, no scopes), every op the
 *    state holds — envelopes regrouped by transaction, stamps and op ids as stored, so the client's
 *    merge goes on converging (ops the merge superseded may be missing: the result is the same).
 *    Every part but the last leaves the client's cursor where it was; the last moves it to the
 *    head, where the stream continues.
 *
 * The cost is proportional to what the client may hold, not to the log.
 */
import type { GlobalId, Op } from '@dataloom/core';
import type { ServerState } from '../state/server-state.js';
import { attrKey, type UserReadable } from './readable.js';

/** What a client may hold: entities whole, and attributes of others. */
export type ReadView = Pick<UserReadable, 'entities' | 'attrs'>;
import { envelopesOf, type EntryFilter } from './partial.js';

const READABLE_PART = 5000;
const PART_BYTES = 512 * 1024;

/** `readable` messages listing everything `r` may read, in parts. */
export function readableFrames(r: ReadView): string[] {
  const es = [...r.entities];
  const attrs: Array<[GlobalId, string]> = [];
  for (const [e, as] of r.attrs) if (!r.entities.has(e)) for (const a of as) attrs.push([e, a]);
  const frames: string[] = [];
  for (let i = 0; i < Math.max(es.length, attrs.length) || frames.length === 0; i += READABLE_PART) {
    const more = i + READABLE_PART < Math.max(es.length, attrs.length);
    frames.push(JSON.stringify({ t: 'readable', es: es.slice(i, i + READABLE_PART), attrs: attrs.slice(i, i + READABLE_PART), more }));
  }
  return frames;
}

/** Keys (entities, attributes) whose ops one part of a bootstrap reads from the state. */
const KEYS_PER_PART = 10_000;

/**
 * The frames of a bootstrap (see the module docs) of the view `r` (null: everything `f` lets
 * through); `from` is the client's cursor, `to` the head's. Lazy: the keys are fixed when it is
 * called, their ops are read from the state part by part as the frames are taken (the connection
 * takes them at the pace its socket drains, `connection.ts`), so a large bootstrap never holds the
 * event loop, nor its whole output in memory. What a part reads is the state then (filtered by
 * what `f` allows then); a transaction committed meanwhile may come twice, once here and once
 * in the stream — merging is idempotent. A transaction's ops may come in several parts.
 *
 * `state` gives the node's state when a part is read (a rebuild replaces it). The taker reads a
 * part only while the state holds no judged but uncommitted batch (`ServerState.dirty`, see
 * `SyncNode.whenCommitted`): a batch whose commit then fails must never reach a client.
 */
export function* bootstrapFrames(r: ReadView | null, f: EntryFilter, state: () => ServerState, resuming: boolean, from: string, to: string): Generator<string, void, undefined> {
  const readable = resuming && r ? readableFrames(r) : [];
  let keys: string[];
  if (r === null) {
    const es = new Set<GlobalId>();
    for (const op of state().merged.allOps()) es.add(op.e);
    keys = [...es];
  } else {
    keys = [...r.entities];
    for (const [e, as] of r.attrs) if (!r.entities.has(e)) for (const a of as) keys.push(attrKey(e, a));
    const s = state();
    for (const [ident] of s.schema.entries()) {
      const e = s.attributeEntity(ident);
      if (e !== null) keys.push(e);
    }
  }
  yield* readable;
  const pos = to.slice(to.lastIndexOf(':') + 1);
  let parts: string[] = [];
  let bytes = 0;
  const frame = (last: boolean) => {
    const out = `{"t":"ops","txs":[${parts.join(',')}],"cursor":"${last ? to : from}","more":${!last}}`;
    parts = [];
    bytes = 0;
    return out;
  };
  for (let i = 0; i < keys.length; i += KEYS_PER_PART) {
    const chunk = keys.slice(i, i + KEYS_PER_PART);
    let ops: Op[];
    if (r === null) {
      // raw entities: each op once (an identity component's members are all listed)
      ops = [];
      const merged = state().merged;
      for (const e of chunk) for (const op of merged.opsOf(e)) if (f.reads(op)) ops.push(op);
    } else ops = f.stateOps(chunk);
    for (const env of envelopesOf(ops)) {
      const json = JSON.stringify(env);
      parts.push(`{"pos":"${pos}","env":${json}}`);
      bytes += json.length;
      if (bytes > PART_BYTES) yield frame(false);
    }
  }
  yield frame(true);
}
