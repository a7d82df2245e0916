/**
 * `@dataloom/core/internals` — what the packages of this repository share and apps do not import:
 * the merge rules and everything around them (translation of tx data into ops, wire values, schema
 * as data, drafts' bookkeeping, interning), the clock, the composite keys joins are hashed by, the
 * row cache of live results and the database's low-level entry points. Not a stable API. Each name
 * has this one import path; the public names are in `index.ts`.
 */

// Composite identity keys (a pair, a tuple, chosen columns), built on `valueKey`; whether a value's
// key rests on an object's identity.
export { colsKey, keyedByIdentity, pairKey, tupleKey } from './edn/index.js';

// Database values below the transaction language: a fresh database from datoms, datoms applied as
// they are, pull patterns parsed once, the first transaction id.
export { applyDatoms, initDb, parsePattern, TX0 } from './db/index.js';

// A live query's rows: `resultOf`/`rowsOf` (diffs → the result value), the `RowSet` cache.
export { resultOf, RowSet, rowsOf } from './results/index.js';

// The clock and replica ids.
export { checkReplicaId, HlcClock, MAX_COUNTER, newReplicaId } from './hlc/index.js';
export type { HlcClockOptions } from './hlc/index.js';

// Replication: tx data → ops (`translateTx`), the merge rules (`MergeState`), wire values, schema as
// data, drafts' closing, interning — run alike by the client's replica, the server and the protocol.
export {
  attrEntityId, attrValueKey, base64ToBytes, bytesToBase64, closedBy, closingVector, dataMergeSchema, decodableUpdate,
  DRAFT_ATTRS, fromWireValue, Interner, manyValueKey, MergeSchema, MergeState, replicaOfTx, SCHEMA_ATTRS,
  schemaAsData, schemaFromDatoms, schemaOps, schemaValueError, schemaWithData, toWireValue, translateTx,
  wireValueHasType, wireValueKey
} from './ops/index.js';

// Whole visible states compared: a datom's key, the changes from one state to another.
export { datomKey, visibleByKey, visibleChanges } from './ops/index.js';
export type { ClosingVector, DataAttr, MergeAttr, TranslateContext, TranslateState, Translation } from './ops/index.js';
