/**
 * The replica's drafts: every draft operation held (stored and synced like any other, tagged with
 * its draft, never merged into the committed state), the closings read from the committed state,
 * and the open drafts' overlays (`drafts/overlay.ts`). See `drafts/DESIGN.md`.
 *
 * Every path that takes in a draft transaction (local, another tab, the network, the cold start)
 * calls {@link Drafts.add}; a rejected one is {@link Drafts.remove}d; every published batch of
 * committed changes passes {@link Drafts.committed} (closings, and the overlays follow the
 * committed database). Overlays are opened and released by their users (the draft service); they
 * are only opened inside jobs of the replica's serial queue, where the committed state and the
 * published batches agree.
 */
import { type DatomChange, type HlcString, type Op, type TxEnvelope } from '@dataloom/core';
import { DRAFT_ATTRS, closedBy, closingVector, replicaOfTx } from '@dataloom/core/internals';
import { DraftOverlay, type OverlayHost } from '../drafts/overlay.js';
import type { StoredOp } from '../store/log-ops.js';

/** Transaction order, then position in the transaction (ids are `${tx}/${index}`). */
function opOrder(x: Op, y: Op): number {
  if (x.tx !== y.tx) return x.tx < y.tx ? -1 : 1;
  return Number(x.id.slice(x.tx.length + 1)) - Number(y.id.slice(y.tx.length + 1));
}

export class Drafts {
  /** draft → op id → op (every op held, live or covered). */
  private readonly held = new Map<string, Map<string, Op>>();
  /** draft → its visible `:draft/closed` stamps. */
  private readonly closed = new Map<string, Set<HlcString>>();
  private readonly overlays = new Map<string, DraftOverlay>();
  private readonly listeners = new Set<(draft: string) => void>();

  constructor(private readonly host: OverlayHost) {}

  /**
   * Takes in a draft transaction (`env.draft` set); ops already held are skipped. Returns the
   * changes it made to the draft's view when the draft is open (else none).
   */
  add(env: TxEnvelope): DatomChange[] {
    const id = env.draft!;
    let m = this.held.get(id);
    if (m === undefined) this.held.set(id, (m = new Map()));
    const fresh: Op[] = [];
    for (const op of env.ops) {
      if (m.has(op.id)) continue;
      m.set(op.id, op);
      fresh.push(op);
    }
    if (fresh.length === 0) return [];
    const ov = this.overlays.get(id);
    let changes: DatomChange[] = [];
    if (ov) {
      const vv = this.vector(id);
      changes = ov.addOps(fresh.filter((o) => !closedBy(vv, o.tx)));
    }
    this.changed(id);
    return changes;
  }

  /** Drops draft transaction `tx` of `draft` (rejected by the server, or a failed local write). */
  remove(draft: string, tx: HlcString): void {
    const m = this.held.get(draft);
    if (!m) return;
    let any = false;
    for (const [id, op] of m) {
      if (op.tx === tx) {
        m.delete(id);
        any = true;
      }
    }
    if (!any) return;
    this.overlays.get(draft)?.setOps(this.liveOps(draft));
    this.changed(draft);
  }

  /** Every draft with operations held. */
  ids(): string[] {
    return [...this.held.keys()];
  }

  /** Every op held for `draft` (live and covered), oldest first. */
  ops(draft: string): Op[] {
    return [...(this.held.get(draft)?.values() ?? [])].sort(opOrder);
  }

  /** The envelopes held for `draft`, oldest first. */
  envelopes(draft: string): TxEnvelope[] {
    const byTx = new Map<HlcString, Op[]>();
    for (const op of this.ops(draft)) {
      const l = byTx.get(op.tx);
      if (l) l.push(op);
      else byTx.set(op.tx, [op]);
    }
    return [...byTx].map(([tx, ops]) => ({ tx, replica: replicaOfTx(tx), ops, draft }));
  }

  /**
   * Every draft op held but those in `pending` (the outbox's), tagged with its draft, as the log
   * stores them: what a compaction or a switch to the memory store must write again.
   */
  storedOps(pending: ReadonlySet<string>): StoredOp[] {
    const out: StoredOp[] = [];
    for (const [draft, m] of this.held) for (const op of m.values()) if (!pending.has(op.id)) out.push({ ...op, draft });
    return out;
  }

  /** The ops of `draft` no closing covers (the ones that shape its view). */
  liveOps(draft: string): Op[] {
    const vv = this.vector(draft);
    return this.ops(draft).filter((o) => !closedBy(vv, o.tx));
  }

  /** The visible `:draft/closed` stamps of `draft`. */
  closedStamps(draft: string): HlcString[] {
    return [...(this.closed.get(draft) ?? [])];
  }

  private vector(draft: string) {
    return closingVector(this.closed.get(draft) ?? []);
  }

  /** A batch of committed changes was published: read closings, bring open overlays along. */
  committed(changes: readonly DatomChange[]): void {
    const touched = new Set<string>();
    for (const c of changes) {
      if (c.a !== DRAFT_ATTRS.closed || typeof c.v !== 'string') continue;
      let s = this.closed.get(c.e);
      if (!s) this.closed.set(c.e, (s = new Set()));
      if (c.added) s.add(c.v);
      else s.delete(c.v);
      touched.add(c.e);
    }
    for (const ov of this.overlays.values()) ov.committed(changes);
    for (const d of touched) {
      this.overlays.get(d)?.setOps(this.liveOps(d));
      if (this.held.has(d)) this.changed(d);
    }
  }

  /** After a cold start: reads every closing from the committed state. */
  loaded(): void {
    this.closed.clear();
    for (const d of this.host.merge().datoms()) {
      if (d.a !== DRAFT_ATTRS.closed || typeof d.v !== 'string') continue;
      let s = this.closed.get(d.e);
      if (!s) this.closed.set(d.e, (s = new Set()));
      s.add(d.v);
    }
  }

  /** The overlay of `draft`, opened if needed (inside a queue job). */
  overlay(draft: string): DraftOverlay {
    let ov = this.overlays.get(draft);
    if (!ov) {
      ov = new DraftOverlay(this.host, draft, this.liveOps(draft));
      this.overlays.set(draft, ov);
    }
    return ov;
  }

  /** The overlay of `draft` if open. */
  openOverlay(draft: string): DraftOverlay | null {
    return this.overlays.get(draft) ?? null;
  }

  /** Closes the overlay of `draft` (its views stop). */
  release(draft: string): void {
    this.overlays.delete(draft);
  }

  /** `fn(draft)` after the ops or closings of a draft changed. */
  onChange(fn: (draft: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(draft: string): void {
    for (const fn of [...this.listeners]) fn(draft);
  }
}
