/**
 * `@dataloom/core` — EDN, immutable database values with the DataScript transaction language, pull,
 * the identity key of values, live-query rows, hybrid logical clocks, and the operations and merge
 * rules every replica and the server run — as apps use them. Each name below has this one import path;
 * what the packages of this repository share beyond it is in `internals.ts`
 * (`@dataloom/core/internals`), with one import path too.
 *
 * @packageDocumentation
 */

// EDN values: the reader and printer, interned keywords and symbols, lists, uuids, tagged
// literals; a value's identity key (DataScript `=`: `valueKey`, `tupleKey`, `valueEquals`).
export {
  isKeyword, isList, isSym, Keyword, kw, List, list, parseEdn, parseEdnAll, printEdn, Sym, sym, Tagged, Uuid,
  valueEquals, valueKey
} from './edn/index.js';
export type { EdnValue, ReadOptions, ValueKey } from './edn/index.js';

// Errors: every failure is a `DataloomError` with a stable `code`.
export { DataloomError, isDataloomError } from './errors.js';

// Database values: `createDb`, the transaction language (`db.with`), datoms, entity, pull, the
// value order of the indexes.
export { compareValues, createDb, Datom, datoms, dbWith, entity, isEntity, pull, pullMany } from './db/index.js';
export type {
  AttrLike, AttrSchema, Db, Entity, EntityId, EntityRef, IndexName, Pattern, Schema, SchemaInput, TxData,
  TxFn, TxId, TxReport, Value, ValueType
} from './db/index.js';

// A live query's result as rows: a diff `[row, tx, ±1]`, the shape of a find spec.
export type { Diff, FindKind } from './results/index.js';

// Time and identity across replicas: hybrid logical clocks, global ids.
export { formatHlc, isGlobalId, isHlcString, parseHlc } from './hlc/index.js';
export type { Hlc } from './hlc/index.js';

// Replication as apps meet it: the operations and envelopes a transaction becomes (what a sync
// server stores and reports), and the attributes drafts need in the schema. The merge rules,
// translation and wire encoding themselves are in `internals.ts`.
export { draftSchema } from './ops/index.js';
export type { DatomChange, GlobalId, HlcString, Op, TxEnvelope, VisibleDatom, WireValue } from './ops/index.js';
