/**
 * Draft envelopes: transactions tagged with a draft id, stored and synced like any other but kept
 * out of the committed view (the merge state and the dataflow connection never see them).
 */
import type { HlcString, TxEnvelope } from '@dataloom/core';

export class Drafts {
  private readonly byDraft = new Map<string, TxEnvelope[]>();

  /** Holds `env` (an envelope with `draft`) unless its tx is already held. */
  add(env: TxEnvelope): void {
    const list = this.byDraft.get(env.draft!) ?? [];
    if (!list.some((e) => e.tx === env.tx)) list.push(env);
    this.byDraft.set(env.draft!, list);
  }

  /** Drops tx `tx` of draft `draft` (a rejected draft transaction). */
  remove(draft: string, tx: HlcString): void {
    const list = this.byDraft.get(draft);
    if (list) this.byDraft.set(draft, list.filter((e) => e.tx !== tx));
  }

  /** The envelopes held for `draft`, oldest first. */
  envelopes(draft: string): TxEnvelope[] {
    return (this.byDraft.get(draft) ?? []).slice();
  }
}
