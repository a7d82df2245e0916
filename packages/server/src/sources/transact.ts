/**
 * Trusted back-end writes (`server.transact(tx, { as })`): transaction data in the forms clients
 * use (entity maps, tempids, lookup refs, upserts, `:db/cas`, …) is translated by core's
 * `translateTx` against the node's committed state, stamped by a clock of the writer's own replica
 * id (the node's server replica, or `src_<name>` for a source), checked against the envelope rules
 * and limits every client applies, and appended through the same judge → append loop as a client
 * push. With `as` it is that user's write under the rules of that user's push: translated against
 * what the user may read (lookup refs, upserts, `cas` and current values see nothing else), the
 * same checks before judging (`cas` on unreadable data, drafts, `authorizeWrite`), the judge's
 * write and upsert rules, and a rejection redacted as the user's client would receive it. Connected clients receive it through the ordinary stream.
 *
 * Errors are `DataloomError`s: `transact/*` for bad transaction data (nothing is written),
 * `ops/limit` for a transaction over the client limits, `sync/forbidden` when `as` may not write
 * it, and the judge's code (`sync/schema-mismatch`, `sync/cas-failed`, `sync/unique`, …) when the
 * log refuses it.
 */
import { DataloomError, type GlobalId, type TxEnvelope } from '@dataloom/core';
import { HlcClock, translateTx } from '@dataloom/core/internals';
import { checkEnvelope, type EnvelopeLimits } from '@dataloom/protocol';
import { writeRefusal, type AuthorizeWrite } from '../connection.js';
import type { SyncNode } from '../node/sync-node.js';
import type { NodeAccess } from '../permissions/access.js';
import type { AppendOutcome } from '../storage/types.js';

export interface TransactOptions {
  /**
   * The user this write is made for (as `authenticate` would return it): when set, the write
   * rules (`permissions`' `can-write`) and the `authorizeWrite` hook judge it as that user's push.
   * Without it the write is trusted.
   */
  as?: unknown;
}

export interface TransactResult {
  /** Log position of the transaction (its earlier position when it was a duplicate). */
  pos: number;
  /** The transaction's HLC stamp (its id). */
  tx: string;
  /** Tempid (as written, stringified) → global entity id. */
  tempids: Record<string, GlobalId>;
}

/** What the back-end writer needs of the server. */
export interface WriterContext {
  node: SyncNode;
  limits: EnvelopeLimits;
  authorizeWrite?: AuthorizeWrite | undefined;
  /** The permission layer: a write `as` a user goes through {@link NodeAccess.writerFor}. */
  access?: NodeAccess;
}

/** A clock per writing replica, kept ahead of every stamp in the log. */
export class ReplicaClocks {
  private readonly clocks = new Map<string, HlcClock>();
  constructor(private readonly node: SyncNode) {}

  next(replica: string): ReturnType<HlcClock['now']> {
    let c = this.clocks.get(replica);
    if (!c) this.clocks.set(replica, (c = new HlcClock(replica)));
    const floor = this.node.state.maxMs;
    // Stay above every applied stamp (a remote clock may run ahead of ours).
    if (floor > 0) c.receive({ ms: floor, counter: 0, replica });
    return c.now();
  }
}

/** The error a refused outcome stands for. */
export function outcomeError(o: Extract<AppendOutcome, { status: 'rejected' }>): DataloomError {
  return new DataloomError(o.code, o.message, { tx: o.tx, ...(o.data ?? {}) });
}

/** Upserts raced by a concurrent writer come back as `sync/unique`: translate again, this often. */
const RETRIES = 3;

/**
 * Whether a refusal may be a race worth translating again: a `sync/unique` clash naming its
 * holders (committed meanwhile). The refusal of an upsert into an entity the writer may not read
 * (`WriteChecker.upserts`, no holders named) is definite: translating again, against what that
 * user may read, would be refused again (and each refusal is recorded).
 */
const raced = (o: Extract<AppendOutcome, { status: 'rejected' }>): boolean => o.code === 'sync/unique' && typeof o.data?.['holders'] === 'string';

/** Translates, checks and appends `txData` as `replica`. See the file comment. */
export async function backendTransact(ctx: WriterContext, clocks: ReplicaClocks, replica: string, txData: unknown, opts: TransactOptions = {}): Promise<TransactResult> {
  const { node } = ctx;
  // Over PostgreSQL other processes append too: translate against everything committed so far.
  if (node.store.kind !== 'sqlite') await node.refresh();
  // as a user: what a push of that user's client gets — translated against what the user may read,
  // the same checks before judging, the judge's verdict redacted for the user
  const as = opts.as !== undefined ? (ctx.access?.writerFor(opts.as) ?? null) : null;
  try {
    for (let attempt = 0; ; attempt++) {
      const { envelope, tempids } = translateTx(as ? as.translateState() : node.state.merged, txData, { stamp: clocks.next(replica) });
      const env: TxEnvelope = checkEnvelope(envelope, ctx.limits);
      if (opts.as !== undefined) {
        const refused = await writeRefusal(opts.as, env, as ? (e) => as.checkWrite(e) : null, ctx);
        if (refused) throw new DataloomError(refused.code, refused.message, { tx: env.tx, ...(refused.data ?? {}) });
      }
      const outcome = await node.submit(env, opts.as);
      if (outcome.status !== 'rejected') return { pos: outcome.pos, tx: env.tx, tempids };
      if (!raced(outcome) || attempt >= RETRIES) throw outcomeError(as ? as.redact(outcome) : outcome);
    }
  } finally {
    as?.close();
  }
}
