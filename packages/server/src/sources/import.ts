/**
 * Bulk load of a transaction file into a log (`dataloom import`), idempotent on re-run:
 *
 * - Entity ids: tempids hold across the file and across runs (`file-ids.ts`), under the import's
 *   replica id `imp_<hash of the import name>` (the name defaults to the file's base name).
 * - Transaction ids: transaction *i* of a file is stamped `(base ms, i)` by that replica, where the
 *   base is chosen on the first run and kept in the store's meta table under the file's content
 *   hash (`import:<name>:<sha256>`). Re-running the same file therefore makes the same transaction
 *   ids, which the log reports as already present: nothing is written twice, and an interrupted
 *   import continues where it stopped. An edited file gets a new base (newer stamps) and updates
 *   the same entities.
 *
 * Transactions are translated in file order and submitted with up to `window` in flight (group
 * commit). The first refused transaction stops the import with `import/rejected`, naming the file,
 * the transaction, the judge's code and how many transactions are in the log: those before it,
 * and those after it that were already in flight (each judged on its own, as any transaction).
 */
import { DataloomError, type TxEnvelope } from '@dataloom/core';
import { MAX_COUNTER, SCHEMA_ATTRS, translateTx } from '@dataloom/core/internals';
import { checkEnvelope, type EnvelopeLimits } from '@dataloom/protocol';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { SyncNode } from '../node/sync-node.js';
import type { AppendOutcome } from '../storage/types.js';
import { FileIds } from './file-ids.js';
import type { FileTx, TxFile } from './tx-file.js';

export interface ImportOptions {
  /** Names the import (entity ids derive from it); default: the file's base name. */
  name?: string;
  limits: EnvelopeLimits;
  /** Transactions in flight at once (default 256). */
  window?: number;
  /** Called after each settled transaction. */
  onProgress?: (done: number, total: number) => void;
}

export interface ImportSummary {
  file: string;
  name: string;
  replica: string;
  transactions: number;
  /** Newly appended to the log. */
  appended: number;
  /** Already in the log (an earlier run of the same file). */
  present: number;
  ops: number;
  /** Tempids of the file (each one entity). */
  tempids: number;
  head: number;
  ms: number;
}

const SPAN = MAX_COUNTER + 1;

export function importReplica(name: string): string {
  return 'imp_' + createHash('sha256').update(name).digest('hex').slice(0, 20);
}

export async function importFile(node: SyncNode, file: TxFile, opts: ImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const name = opts.name ?? basename(file.file);
  const replica = importReplica(name);
  const ledger = `import:${name}:${file.hash}`;
  const saved = await node.store.getMeta(ledger);
  const base = saved !== null ? (JSON.parse(saved) as { ms: number }).ms : Math.max(Date.now(), node.state.maxMs + 1);
  if (saved === null) await node.store.setMeta(ledger, JSON.stringify({ ms: base, file: file.file, transactions: file.txs.length }));
  const ids = new FileIds(replica, () => node.state.schema);
  const where = (t: FileTx) => (t.line !== null ? `${file.file}:${t.line}` : `${file.file} transaction #${t.index + 1}`);
  const summary: ImportSummary = { file: file.file, name, replica, transactions: file.txs.length, appended: 0, present: 0, ops: 0, tempids: 0, head: 0, ms: 0 };
  const window = opts.window ?? 256;
  let inFlight: Array<Promise<void>> = [];
  let failure: DataloomError | null = null;
  let done = 0;

  const settle = (t: FileTx, env: TxEnvelope, o: AppendOutcome) => {
    done++;
    if (o.status === 'appended') {
      summary.appended++;
      summary.ops += env.ops.length;
    } else if (o.status === 'duplicate' || o.code === 'sync/tx-conflict') {
      // Same stamp already stored: this file's transaction from an earlier run.
      summary.present++;
    } else {
      failure ??= new DataloomError('import/rejected', `${where(t)}: ${o.code}: ${o.message}`, { file: file.file, index: t.index, line: t.line, cause: o.code, ...(o.data ?? {}) });
    }
    opts.onProgress?.(done, file.txs.length);
  };
  const drain = async () => {
    await Promise.all(inFlight);
    inFlight = [];
  };

  for (const t of file.txs) {
    if (failure) break;
    const stamp = { ms: base + Math.floor(t.index / SPAN), counter: t.index % SPAN, replica };
    let env: TxEnvelope;
    for (let attempt = 0; ; attempt++) {
      try {
        env = checkEnvelope(translateTx(node.state.merged, ids.forms(t.data), { stamp }).envelope, opts.limits);
        break;
      } catch (e) {
        // A lookup ref may name an entity of a transaction still in flight: wait for them once.
        if (attempt === 0 && inFlight.length > 0 && e instanceof DataloomError && e.code === 'entity-id/missing') {
          await drain();
          continue;
        }
        await drain();
        const err = e as DataloomError;
        throw new DataloomError('import/rejected', `${where(t)}: ${err.code ?? 'error'}: ${err.message}`, { file: file.file, index: t.index, line: t.line, cause: err.code, committed: summary.appended + summary.present });
      }
    }
    inFlight.push(node.submit(env).then((o) => settle(t, env, o)));
    // Later transactions are translated with the schema this one defines: let it land first.
    if (inFlight.length >= window || env.ops.some((op) => op.a !== undefined && SCHEMA_ATTRS.has(op.a))) await drain();
  }
  await drain();
  if (failure) {
    const f = failure as DataloomError;
    const n = summary.appended + summary.present;
    throw new DataloomError(f.code, `${f.message} (import stopped; ${n} of ${file.txs.length} transactions are in the log)`, { ...f.data, committed: n });
  }
  summary.tempids = ids.assigned.size;
  summary.head = node.head;
  summary.ms = Date.now() - started;
  return summary;
}
