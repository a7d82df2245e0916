/** Operations and merge rules: the replication layer of `@dataloom/core`. */
export type * from './types.js';
export * from './schema.js';
export * from './schema-data.js';
export * from './value.js';
export * from './state.js';
export * from './translate.js';
export { datomKey, visibleByKey, visibleChanges } from './visible.js';
export { Interner } from './interning.js';
export { draftSchema, DRAFT_ATTRS, replicaOfTx, closingVector, closedBy, type ClosingVector } from './drafts.js';
