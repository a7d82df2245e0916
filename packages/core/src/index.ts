/**
 * `@dataloom/core` — EDN, immutable database values with the DataScript transaction language, pull,
 * the identity key of values, live-query rows, hybrid logical clocks, and the operations and merge
 * rules every replica and the server run. Each name below has this one import path.
 *
 * @packageDocumentation
 */

// EDN values: the reader and printer, interned keywords and symbols, lists, uuids, tagged
// literals; a value's identity key (DataScript `=`: `valueKey`, `tupleKey`, `valueEquals`).
export {
  colsKey, isKeyword, isList, isSym, Keyword, kw, List, list, pairKey, parseEdn, parseEdnAll, printEdn,
  Sym, sym, Tagged, tupleKey, Uuid, valueEquals, valueKey
} from './edn/index.js';
export type { EdnValue, ReadOptions, ValueKey } from './edn/index.js';

// Errors: every failure is a `DataloomError` with a stable `code`.
export { DataloomError, isDataloomError } from './errors.js';

// Database values: `createDb`, the transaction language (`db.with`), datoms, entity, pull, the
// value order of the indexes.
export {
  applyDatoms, compareValues, createDb, Datom, datoms, dbWith, entity, initDb, isEntity, parsePattern,
  pull, pullMany, TX0
} from './db/index.js';
export type {
  AttrLike, AttrSchema, Db, Entity, EntityId, EntityRef, IndexName, Pattern, Schema, SchemaInput, TxData,
  TxFn, TxId, TxReport, Value, ValueType
} from './db/index.js';

// A live query's result as rows: `Diff`, `FindKind`, `resultOf`/`rowsOf`, the `RowSet` cache.
export { resultOf, RowSet, rowsOf } from './results/index.js';
export type { Diff, FindKind } from './results/index.js';

// Time and identity across replicas: hybrid logical clocks, global ids.
export {
  checkReplicaId, formatHlc, HlcClock, isGlobalId, isHlcString, MAX_COUNTER, newReplicaId, parseHlc
} from './hlc/index.js';
export type { Hlc, HlcClockOptions } from './hlc/index.js';

// Replication: operations, wire values, tx data → ops (`translateTx`), the merge rules
// (`MergeState`), schema as data, text, drafts — shared by the client, the server and the protocol.
export {
  attrEntityId, base64ToBytes, bytesToBase64, closedBy, closingVector, dataMergeSchema, decodableUpdate,
  DRAFT_ATTRS, draftSchema, fromWireValue, Interner, manyValueKey, MergeSchema, MergeState, replicaOfTx, SCHEMA_ATTRS,
  schemaAsData, schemaFromDatoms, schemaOps, schemaValueError, schemaWithData, toWireValue, translateTx,
  wireValueHasType, wireValueKey
} from './ops/index.js';
export type {
  ClosingVector, DataAttr, DatomChange, GlobalId, HlcString, MergeAttr, Op, TranslateContext,
  TranslateState, Translation, TxEnvelope, VisibleDatom, WireValue
} from './ops/index.js';
