/**
 * Session replica ids. A client open in several tabs, or reopened after a reload, stamps each
 * session's transactions with `<stored id>_<session>`; the outbox may still hold envelopes of
 * earlier sessions, which the current one pushes. The server accepts them as the same replica
 * (PROTOCOL.md, push rule 2): the family is the part before the last `_`.
 */
import { newReplicaId } from '@dataloom/core/internals';

/** A new session id of the stored replica `stored` (at most 49 characters: within the 64 a replica id may have). */
export function sessionReplicaId(stored: string): string {
  return stored.slice(0, 40) + '_' + newReplicaId().slice(0, 8);
}

/** The stored replica a (session) replica id belongs to: the part before the last `_`, or the id itself. */
export function replicaFamily(replica: string): string {
  const i = replica.lastIndexOf('_');
  return i > 0 ? replica.slice(0, i) : replica;
}
