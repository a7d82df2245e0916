/**
 * Closings: how a commit or a discard retires a draft's operations, the same way on every replica.
 *
 * A closing is written with the commit (or discard) transaction, as committed data on the draft
 * entity: `:draft/closed` values (cardinality many), each an HLC stamp. Together they form a
 * version vector — for each replica, the newest draft transaction of that replica the closer had
 * seen. A draft operation is **covered** when a closing's stamp of its replica is at or after its
 * own; the draft's **live** operations are the uncovered ones, and only those shape the draft's
 * view. An edit a collaborator made concurrently with the commit (the committer had not seen it)
 * stays live: it is layered over the committed result and reaches main views with the next commit.
 *
 * Because closings are committed datoms, a closing that the server refuses is rolled back with the
 * rest of its transaction and the draft is live again, intact.
 */
import { kw, type HlcString, type Op } from '@dataloom/core';
import { DRAFT_ATTRS, replicaOfTx } from '@dataloom/core/internals';

export { DRAFT_ATTRS };

/**
 * The transaction forms of a closing of draft `id` that covers every op in `seen`: for each replica
 * whose newest seen stamp is past the current vector, assert it and retract the value it
 * supersedes (a visible `:draft/closed` value of the same replica), so the set stays one value per
 * replica. `status` is `committed` or `discarded`.
 */
export function closingForms(id: string, closed: Iterable<HlcString>, seen: Iterable<Op>, status: 'committed' | 'discarded'): unknown[] {
  const newest = new Map<string, HlcString>();
  for (const op of seen) {
    const r = replicaOfTx(op.tx);
    const cur = newest.get(r);
    if (cur === undefined || op.tx > cur) newest.set(r, op.tx);
  }
  const byReplica = new Map<string, HlcString[]>();
  for (const t of closed) {
    const r = replicaOfTx(t);
    const l = byReplica.get(r);
    if (l) l.push(t);
    else byReplica.set(r, [t]);
  }
  const forms: unknown[] = [];
  for (const [r, t] of newest) {
    const old = byReplica.get(r) ?? [];
    if (old.some((o) => o >= t)) continue;
    forms.push([':db/add', id, ':' + DRAFT_ATTRS.closed, t]);
    for (const o of old) forms.push([':db/retract', id, ':' + DRAFT_ATTRS.closed, o]);
  }
  forms.push([':db/add', id, ':' + DRAFT_ATTRS.status, kw(`draft.status/${status}`)]);
  return forms;
}
