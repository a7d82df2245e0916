/**
 * How ops are written to the log: a draft op keeps its draft id (`draft`), so a reload hands it
 * back to the drafts and never merges it into the committed state. Every store writes an
 * acknowledged envelope's ops through {@link logOps}.
 */
import type { Op, TxEnvelope } from '@dataloom/core';

/** An op as the log stores it. */
export type StoredOp = Op & { draft?: string };

/** The ops of an acknowledged envelope as they go to the log. */
export function logOps(env: TxEnvelope): StoredOp[] {
  const d = env.draft;
  return d === undefined ? env.ops : env.ops.map((o) => ({ ...o, draft: d }));
}
