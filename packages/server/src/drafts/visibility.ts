/**
 * Who may see and edit a draft, decided on the server (a private draft's operations never leave
 * it toward anyone else). A draft is named by its draft entity's global id; the facts the rule
 * reads are that entity's committed datoms: `:draft/author` and `:draft/collaborators`.
 *
 * The built-in rule: a draft whose entity names no author is **open** (every user sees and edits
 * it — a form shared by name); otherwise it is visible to, and editable by, its author and the
 * users listed as collaborators. Apps replace it with `createServer({ drafts: { canSee, canEdit } })`
 * (functions of the user's identity and the facts); with Datalog permissions, rules with the head
 * `(can-see-draft ?user ?draft)` (and `(can-edit-draft ?user ?draft)`) decide private drafts
 * instead, over the whole committed database (`permissions/rules.ts`).
 */
import { type GlobalId, type WireValue } from '@dataloom/core';
import { DRAFT_ATTRS } from '@dataloom/core/internals';

/** A user as rules see them: the identity `authenticate` returned (a string or number, or its `id`). */
export type UserId = string | number;

/** What a draft rule knows of a draft. */
export interface DraftFacts {
  id: GlobalId;
  /** `:draft/author`, or undefined for an open draft. */
  author: WireValue | undefined;
  collaborators: readonly WireValue[];
}

/** A draft-visibility rule (both functions must be pure and fast: they run per connection and envelope). */
export interface DraftRules {
  /** May `user` (null: anonymous) receive the draft's operations? */
  canSee(user: UserId | null, draft: DraftFacts): boolean;
  /** May `user` push operations to the draft, commit or discard it? Default: `canSee`. */
  canEdit?(user: UserId | null, draft: DraftFacts): boolean;
}

/** The identity a user value stands for: a string or number as is, else its `id` property, else null. */
export function userIdOf(user: unknown): UserId | null {
  if (typeof user === 'string' || typeof user === 'number') return user;
  if (user !== null && typeof user === 'object' && 'id' in user) {
    const id = (user as { id: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') return id;
  }
  return null;
}

/** Whether a stored user value names `user`. */
export function isUser(v: WireValue | undefined, user: UserId | null): boolean {
  return user !== null && v === user;
}

/** The built-in rule (see the module docs). */
export const defaultDraftRules: Required<DraftRules> = {
  canSee: (user, d) => d.author === undefined || isUser(d.author, user) || d.collaborators.some((c) => isUser(c, user)),
  canEdit: (user, d) => defaultDraftRules.canSee(user, d),
};

/** Reads the facts of draft `id` from the committed database. */
export function draftFacts(values: (e: GlobalId, a: string) => readonly WireValue[], id: GlobalId): DraftFacts {
  return { id, author: values(id, DRAFT_ATTRS.author)[0], collaborators: values(id, DRAFT_ATTRS.collaborators) };
}
