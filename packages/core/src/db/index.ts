/**
 * The database subsystem of `@dataloom/core`: schema, immutable indexed database values, the
 * transaction language, entity and pull APIs. See {@link ./types.ts} for the contract.
 */
import { DataloomError } from '../errors.js';
import type { Datom, Db, IndexName, TxData, TxReport, TxId } from './types.js';
import { DbImpl } from './database.js';
import { applyDatomsImpl } from './tx-state.js';

export * from './types.js';


export { createDb, initDb } from './database.js';
export { compareValues, compareKeywords } from './compare.js';
export { parseSchema } from './schema.js';
export type { TxFn } from './transact.js';

/** Function form of `db.with(txData, txMeta)`. */
export function dbWith(db: Db, txData: TxData, txMeta?: unknown): TxReport {
  return db.with(txData, txMeta);
}

/**
 * Raw path for the replica layer: applies datoms as given (`added` asserts, `!added` retracts),
 * no tx-language resolution, no tempids, no unique checks. A cardinality-one assert replaces the
 * current value. Datoms keep their own `tx` unless `tx` is given. Returns the new database and the
 * datoms that actually changed it (asserts and retractions, including replaced values).
 */
export function applyDatoms(db: Db, datoms: Iterable<Datom>, tx?: TxId): { db: Db; changes: Datom[] } {
  if (!(db instanceof DbImpl)) throw new DataloomError('core/db', 'applyDatoms expects a Dataloom database', {});
  return applyDatomsImpl(db, datoms, tx);
}

/** DataScript's `d/datoms`: datoms of `index` matching the leading `components`. */
export function datoms(db: Db, index: IndexName, ...components: unknown[]): Datom[] {
  return db.datoms(index, ...components);
}

export { entity, isEntity } from './entity.js';
export { pull, pullMany, parsePattern, type Pattern } from './pull.js';
