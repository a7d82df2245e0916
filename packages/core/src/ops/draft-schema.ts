/**
 * The attributes of a draft entity, for apps that use drafts: spread into the schema given to
 * both `createClient` and `createServer` (`{ ...draftSchema, ...mine }`). A draft entity holds its
 * author and invited collaborators (what draft-visibility rules read) and the closings of its
 * commits and discards (stamps: see `packages/client/src/drafts/closing.ts`).
 */
export const draftSchema = {
  /** Who made the draft (a user id: string or number). Set: only they and collaborators see it. */
  ':draft/author': {},
  /** User ids invited to see and edit the draft. */
  ':draft/collaborators': { ':db/cardinality': ':db.cardinality/many' },
  /** Closing stamps: per replica, the newest draft transaction a commit or discard covered. */
  ':draft/closed': { ':db/valueType': ':db.type/string', ':db/cardinality': ':db.cardinality/many' },
  /** `:draft.status/open`, `:draft.status/committed` or `:draft.status/discarded`. */
  ':draft/status': { ':db/valueType': ':db.type/keyword' },
} as const;
