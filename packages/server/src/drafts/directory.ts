/**
 * The drafts a server node knows, following the committed log in order: each draft's **live**
 * envelopes (not yet covered by a closing: what a user who gains sight of the draft must receive),
 * and which drafts changed visibility. Connections ask it three questions:
 *
 * - **stream**: may this connection's user receive this log entry? A draft's entry only if the
 *   user may see the draft; a committed entry that only writes draft entities (creating a draft,
 *   inviting, discarding) only if the user may see those drafts; anything else: yes.
 * - **push**: may this user write this envelope? (To a draft only as its editor; the draft entity's
 *   author and collaborators only as its author; its closings only as an editor.)
 * - **catch-up**: which entries of a draft should a connection receive that the stream left out
 *   (its live envelopes and its draft entity's own transactions) — at hello (it may have gained
 *   sight of drafts while away) and when a draft's author or collaborators change.
 *
 * The facts (author, collaborators, closings) are the committed datoms of the draft entity, read
 * from the node's merged database; live envelopes are kept as their stored JSON.
 */
import { type DatomChange, type GlobalId, type TxEnvelope, type WireValue } from '@dataloom/core';
import { DRAFT_ATTRS, closedBy, closingVector } from '@dataloom/core/internals';
import { defaultDraftRules, draftFacts, isUser, userIdOf, type DraftFacts, type DraftRules, type UserId } from './visibility.js';

/** A live draft entry: log position, tx and the envelope's stored JSON. */
export interface DraftEntry {
  pos: number;
  tx: string;
  json: string;
}

/** A refusal of a pushed envelope. */
export interface DraftRefusal {
  code: string;
  message: string;
  data: Record<string, unknown>;
}

/** The committed database, as the directory reads it. */
export type ValuesOf = (e: GlobalId, a: string) => readonly WireValue[];

/** The draft entities a committed envelope writes, if it writes nothing else (else null). */
export function draftEntityOnly(env: TxEnvelope): Set<GlobalId> | null {
  const out = new Set<GlobalId>();
  for (const op of env.ops) {
    if (op.a === undefined || !op.a.startsWith('draft/')) return null;
    out.add(op.e);
  }
  return out.size ? out : null;
}

export class DraftDirectory {
  private readonly live = new Map<GlobalId, DraftEntry[]>();
  /** Committed envelopes that write nothing but draft entities, by draft. */
  private readonly own = new Map<GlobalId, DraftEntry[]>();
  private readonly listeners = new Set<(drafts: ReadonlySet<GlobalId>) => void>();
  private readonly rules: Required<DraftRules>;

  constructor(
    private readonly values: ValuesOf,
    rules: DraftRules = defaultDraftRules,
  ) {
    this.rules = { canSee: rules.canSee, canEdit: rules.canEdit ?? rules.canSee };
  }

  // ------------------------------------------------------------------ following the log

  /** Forgets everything (the node rebuilt its state): feed the log again with {@link note}. */
  clear(): void {
    this.live.clear();
    this.own.clear();
  }

  /**
   * One committed entry, in log order, with the visible changes it made (none for a draft). Call
   * after the node's database includes it.
   */
  note(pos: number, env: TxEnvelope, json: string | undefined, changes: readonly DatomChange[]): void {
    if (env.draft !== undefined) {
      const vv = closingVector(this.values(env.draft, DRAFT_ATTRS.closed));
      if (closedBy(vv, env.tx)) return;
      let l = this.live.get(env.draft);
      if (!l) this.live.set(env.draft, (l = []));
      l.push({ pos, tx: env.tx, json: json ?? JSON.stringify(env) });
      return;
    }
    const only = draftEntityOnly(env);
    if (only) {
      const entry = { pos, tx: env.tx, json: json ?? JSON.stringify(env) };
      for (const d of only) {
        const l = this.own.get(d);
        if (l) l.push(entry);
        else this.own.set(d, [entry]);
      }
    }
    let visibility: Set<GlobalId> | null = null;
    for (const c of changes) {
      if (c.a === DRAFT_ATTRS.author || c.a === DRAFT_ATTRS.collaborators) (visibility ??= new Set()).add(c.e);
      else if (c.a === DRAFT_ATTRS.closed) this.prune(c.e);
    }
    if (visibility) for (const fn of [...this.listeners]) fn(visibility);
  }

  /** `fn(drafts)` when the author or collaborators of drafts changed (their visibility may have). */
  onVisibility(fn: (drafts: ReadonlySet<GlobalId>) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private prune(draft: GlobalId): void {
    const l = this.live.get(draft);
    if (!l) return;
    const vv = closingVector(this.values(draft, DRAFT_ATTRS.closed));
    const keep = l.filter((x) => !closedBy(vv, x.tx));
    if (keep.length) this.live.set(draft, keep);
    else this.live.delete(draft);
  }

  // ------------------------------------------------------------------ questions

  facts(draft: GlobalId): DraftFacts {
    return draftFacts(this.values, draft);
  }

  canSee(user: unknown, draft: GlobalId): boolean {
    return this.rules.canSee(userIdOf(user), this.facts(draft));
  }

  canEdit(user: unknown, draft: GlobalId): boolean {
    return this.rules.canEdit(userIdOf(user), this.facts(draft));
  }

  /** Whether the stored entry `json` may go to `user` (see the module docs). */
  mayStream(user: unknown, json: string): boolean {
    // `"draft":"` can only be a key and `"a":"draft/` only an attribute: string values escape quotes
    if (!json.includes('"draft":"') && !json.includes('"a":"draft/')) return true;
    const env = JSON.parse(json) as TxEnvelope;
    if (env.draft !== undefined) return this.canSee(user, env.draft);
    const only = draftEntityOnly(env);
    return only === null || [...only].every((d) => this.canSee(user, d));
  }

  /**
   * The entries at or below `upTo` of the drafts `user` may see that the stream may have left out:
   * their live envelopes and their draft entities' own transactions, in log order. Those are the
   * drafts in `only` (whose author or collaborators just changed), or without `only` (a client
   * says hello) the private drafts the user may see — open drafts are never left out of a
   * stream; with `open`, those too (a connection that skips the stream: `permissions/bootstrap.ts`).
   */
  catchUp(user: unknown, upTo: number, only?: ReadonlySet<GlobalId>, open = false): DraftEntry[] {
    const out = new Map<number, DraftEntry>();
    for (const map of [this.own, this.live]) {
      for (const [d, l] of map) {
        if (only ? !only.has(d) : !open && this.facts(d).author === undefined) continue;
        if (!this.canSee(user, d)) continue;
        for (const x of l) if (x.pos <= upTo) out.set(x.pos, x);
      }
    }
    return [...out.values()].sort((x, y) => x.pos - y.pos);
  }

  /** Why `user` may not push `env`, or null. Anonymous users (no `authenticate`) are not checked. */
  checkPush(user: unknown, env: TxEnvelope): DraftRefusal | null {
    const id: UserId | null = userIdOf(user);
    if (id === null) return null;
    if (env.draft !== undefined) {
      if (!this.rules.canEdit(id, this.facts(env.draft))) return refuse(`not an editor of draft ${env.draft}`, { draft: env.draft });
    }
    for (const op of env.ops) {
      if (op.a === DRAFT_ATTRS.author || op.a === DRAFT_ATTRS.collaborators) {
        const f = this.facts(op.e);
        if (f.author !== undefined ? !isUser(f.author, id) : op.a === DRAFT_ATTRS.author && op.op === 'add' && !isUser(op.v, id)) {
          return refuse(f.author !== undefined ? `only the author of draft ${op.e} changes who sees it` : `a draft's author is the user who creates it`, { draft: op.e, op: op.id });
        }
      } else if ((op.a === DRAFT_ATTRS.closed || op.a === DRAFT_ATTRS.status) && !this.rules.canEdit(id, this.facts(op.e))) {
        return refuse(`not an editor of draft ${op.e}`, { draft: op.e, op: op.id });
      }
    }
    return null;
  }
}

function refuse(message: string, data: Record<string, unknown>): DraftRefusal {
  return { code: 'sync/forbidden', message, data };
}
