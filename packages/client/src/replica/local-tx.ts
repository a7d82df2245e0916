/**
 * Local transactions, group-committed.
 *
 * **Group commit.** Calls made while a batch is still waiting in the serial queue (no other job
 * queued after it) join that batch; the job translates and merges them one after the other (each
 * sees the previous ones), writes all envelopes in one storage transaction, and only then resolves
 * each call — so every call still resolves only once its envelope is durable in the outbox. A
 * call whose input is bad is rejected alone; a failed write undoes the whole batch's merge and
 * rejects every call in it.
 */
import { type DatomChange, type GlobalId, type TxEnvelope } from '@dataloom/core';
import { translateTx } from '@dataloom/core/internals';
import { checkPushable } from '@dataloom/protocol';
import { announceDraft, publish, storeMeta, type ReplicaContext } from './context.js';
import type { LocalTxResult } from './types.js';
import { mergeFresh, unmergeOps } from './schema-live.js';
import type { UndoMode } from '../undo/stacks.js';

/** What a local transaction resolves to. */
export type LocalResult = LocalTxResult & { persisted: boolean };

/** A `localTransact` call waiting in a group-commit batch. */
interface LocalItem {
  txData: unknown;
  draft: string | undefined;
  undo: UndoMode;
  resolve: (r: LocalResult) => void;
  reject: (e: unknown) => void;
}

interface Batch {
  items: LocalItem[];
  /** The queue's job number of the batch's job: calls join while it is still the last job. */
  job: number;
  started: boolean;
}

export class GroupCommit {
  private open: Batch | null = null;

  constructor(private readonly ctx: ReplicaContext) {}

  transact(txData: unknown, draft: string | undefined, undo: UndoMode): Promise<LocalResult> {
    return new Promise((resolve, reject) => {
      const item: LocalItem = { txData, draft, undo, resolve, reject };
      const open = this.open;
      if (open && !open.started && open.job === this.ctx.queue.count) {
        open.items.push(item);
        return;
      }
      const batch: Batch = { items: [item], job: 0, started: false };
      this.ctx.queue
        .run(() => {
          batch.started = true;
          return commit(this.ctx, batch.items);
        })
        .catch((e) => {
          for (const it of batch.items) it.reject(e);
        });
      batch.job = this.ctx.queue.count;
      this.open = batch;
    });
  }
}

async function commit(ctx: ReplicaContext, batch: LocalItem[]): Promise<void> {
  const done: Array<{ item: LocalItem; envelope: TxEnvelope; tempids: Record<string, GlobalId>; changes: DatomChange[] | null }> = [];
  for (const item of batch) {
    try {
      const stamp = ctx.clock.now();
      // a draft transaction resolves against the draft's view (committed state + the draft)
      const state = item.draft !== undefined ? ctx.drafts.overlay(item.draft).txState() : ctx.merge;
      const { envelope, tempids } = translateTx(state, item.txData, {
        stamp,
        resolveInt: (n) => ctx.ids.gid(n),
      });
      if (item.draft !== undefined) envelope.draft = item.draft;
      // The server's verdict on form and size, given here: over a limit is refused at transact.
      checkPushable(envelope, ctx.limits);
      let changes: DatomChange[] | null = null;
      if (item.draft !== undefined) {
        ctx.undo.note(item.draft, item.undo, envelope.tx, ctx.drafts.add(envelope));
      } else {
        changes = mergeFresh(ctx, envelope.ops);
        ctx.undo.note('', item.undo, envelope.tx, changes);
      }
      done.push({ item, envelope, tempids, changes });
    } catch (e) {
      item.reject(e);
    }
  }
  if (done.length === 0) return;
  ctx.history.invalidate();
  const envelopes = done.map((d) => d.envelope);
  let persisted: boolean;
  try {
    persisted = await ctx.durable.persist('putLocal', async (s) => {
      if (s.putLocals) await s.putLocals(envelopes, storeMeta(ctx));
      else for (const e of envelopes) await s.putLocal(e, storeMeta(ctx));
    });
  } catch (e) {
    for (let i = done.length - 1; i >= 0; i--) {
      const { envelope, changes } = done[i]!;
      if (changes) unmergeOps(ctx, envelope.ops);
      else ctx.drafts.remove(envelope.draft!, envelope.tx);
      ctx.undo.forget(envelope.tx);
    }
    ctx.history.invalidate();
    throw e;
  }
  for (const { envelope, changes } of done) {
    ctx.outbox.push(envelope);
    ctx.events.persisted({ kind: 'local', envelope });
    if (changes === null) announceDraft(ctx, 'local', envelope.tx);
    else publish(ctx, 'local', [envelope.tx], changes);
  }
  // the calls resolve before this job ends: views must already show the batch (see materialize.ts)
  if (ctx.queue.size === 1) ctx.view.flush();
  for (const { item, envelope, tempids } of done) item.resolve({ tx: envelope.tx, envelope, tempids, persisted });
}
