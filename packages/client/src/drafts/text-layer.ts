/**
 * A draft's `:db.type/text` values: per `(entity, attribute)` the draft touched, a Yjs document
 * made of the committed document's updates and the draft's live text updates, merged character by
 * character (Yjs updates commute), so committed keystrokes of others and the draft's keystrokes
 * both show. When the draft cleared the value (a `retract` of the attribute, or a `retractEntity`),
 * the committed document is left out and only the draft's later updates count.
 *
 * The document follows the committed one incrementally (only the updates it lacks are applied);
 * it is rebuilt when the committed document was replaced (a rollback or a tombstone replaces it)
 * or when a draft update it holds is no longer live (a commit covered it, a rollback removed it).
 */
import * as Y from 'yjs';
import { type Op } from '@dataloom/core';
import { decodableUpdate, type MergeState } from '@dataloom/core/internals';

interface TextLayer {
  doc: Y.Doc;
  /** The committed document merged in (null: the draft cleared the value). */
  base: Y.Doc | null;
  /** Ids of the draft updates applied. */
  applied: Set<string>;
}

export class DraftTexts {
  private readonly layers = new Map<string, TextLayer>();

  /**
   * The document of `(rep, a)` in the draft: the committed document of `rep` (unless `cleared`)
   * with the draft's `updates` (live `text` ops, any order) applied.
   */
  doc(merge: MergeState, rep: string, a: string, cleared: boolean, updates: readonly Op[]): Y.Doc {
    const key = rep + '\u0000' + a;
    const base = cleared ? null : merge.textDoc(rep, a);
    let layer = this.layers.get(key);
    const live = new Set(updates.map((o) => o.id));
    if (layer !== undefined && (layer.base !== base || [...layer.applied].some((id) => !live.has(id)))) layer = undefined;
    if (layer === undefined) {
      layer = { doc: new Y.Doc(), base, applied: new Set() };
      this.layers.set(key, layer);
      if (base !== null) Y.applyUpdate(layer.doc, Y.encodeStateAsUpdate(base), 'dataloom:draft');
    } else if (base !== null) {
      Y.applyUpdate(layer.doc, Y.encodeStateAsUpdate(base, Y.encodeStateVector(layer.doc)), 'dataloom:draft');
    }
    const sorted = updates.slice().sort((x, y) => (x.id < y.id ? -1 : 1));
    for (const op of sorted) {
      if (layer.applied.has(op.id)) continue;
      const bytes = decodableUpdate(op.v as string);
      if (bytes !== null) Y.applyUpdate(layer.doc, bytes, 'dataloom:draft');
      layer.applied.add(op.id);
    }
    return layer.doc;
  }

  /** The draft's document of `(rep, a)` if the draft touched it, else null. */
  existing(rep: string, a: string): Y.Doc | null {
    return this.layers.get(rep + '\u0000' + a)?.doc ?? null;
  }

  /** Forgets the layers of `rep` but those of `keep` attributes. */
  prune(rep: string, keep: ReadonlySet<string>): void {
    for (const key of this.layers.keys()) {
      const i = key.indexOf('\u0000');
      if (key.slice(0, i) === rep && !keep.has(key.slice(i + 1))) this.layers.delete(key);
    }
  }
}

/** The string of a text document, as queries see it. */
export function textOf(doc: Y.Doc): string {
  return doc.getText('text').toString();
}
