/**
 * Drafts as data, shared by the replicas and the server (the client's `drafts/DESIGN.md` tells the
 * whole story): the draft entity's attributes, and the closing rule that says which draft
 * operations are still live.
 *
 * A draft is named by the global id of its *draft entity*, which holds its author and invited
 * collaborators (what draft-visibility rules read) and its closings. A closing (written by a
 * commit or a discard, as committed data) is a set of `:draft/closed` stamps, per replica the
 * newest draft transaction the closer had seen; a draft op is *covered* when the stamp of its
 * replica is at or after its own, and *live* otherwise.
 */
import type { HlcString } from './types.js';

/**
 * The attributes of a draft entity, for apps that use drafts: spread into the schema given to
 * both `createClient` and `createServer` (`{ ...draftSchema, ...mine }`).
 */
export const draftSchema = {
  /** Who made the draft (a user id: string or number). Set: only they and collaborators see it. */
  ':draft/author': {},
  /** User ids invited to see and edit the draft. */
  ':draft/collaborators': { ':db/cardinality': ':db.cardinality/many' },
  /** Closing stamps: per replica, the newest draft transaction a commit or discard covered. */
  ':draft/closed': { ':db/valueType': ':db.type/string', ':db/cardinality': ':db.cardinality/many' },
  /** `:draft.status/open`, `:draft.status/committed` or `:draft.status/discarded`. */
  ':draft/status': { ':db/valueType': ':db.type/keyword' },
} as const;

/** The draft entity's attribute names (without the colon). */
export const DRAFT_ATTRS = {
  author: 'draft/author',
  collaborators: 'draft/collaborators',
  closed: 'draft/closed',
  status: 'draft/status',
} as const;

/** The replica that made the transaction stamped `tx` (`<ms>-<counter>-<replica>`). */
export function replicaOfTx(tx: HlcString): string {
  return tx.slice(18);
}

/** Replica → newest covered draft stamp of that replica. */
export type ClosingVector = ReadonlyMap<string, HlcString>;

/** The version vector of a set of `:draft/closed` values (per replica, the newest). */
export function closingVector(closed: Iterable<unknown>): Map<string, HlcString> {
  const vv = new Map<string, HlcString>();
  for (const t of closed) {
    if (typeof t !== 'string') continue;
    const r = replicaOfTx(t);
    const cur = vv.get(r);
    if (cur === undefined || t > cur) vv.set(r, t);
  }
  return vv;
}

/** Whether a closing covers the draft transaction stamped `tx` (then its ops are no longer live). */
export function closedBy(vv: ClosingVector, tx: HlcString): boolean {
  const t = vv.get(replicaOfTx(tx));
  return t !== undefined && tx <= t;
}
