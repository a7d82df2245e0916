/**
 * The database subsystem of `@dataloom/core`: schema, immutable indexed database values, the
 * transaction language, entity and pull APIs. See {@link ./types.ts} for the contract.
 */
import { DataloomError } from '../errors.js';
import type { Datom, Db, Entity, EntityId, IndexName, SchemaInput, TxData, TxReport, TxId } from './types.js';

export * from './types.js';

function todo(name: string): never {
  throw new DataloomError('core/not-implemented', `${name} is not implemented yet`, { fn: name });
}

/** An empty database with `schema`. */
export function createDb(_schema?: SchemaInput): Db {
  return todo('createDb');
}
/** A database holding exactly `datoms` (all taken as current assertions). */
export function initDb(_datoms: Iterable<Datom>, _schema?: SchemaInput): Db {
  return todo('initDb');
}
/** Function form of `db.with(txData, txMeta)`. */
export function dbWith(db: Db, txData: TxData, txMeta?: unknown): TxReport {
  return db.with(txData, txMeta);
}
/**
 * Raw path for the replica layer: applies datoms as given (`added` asserts, `!added` retracts),
 * no tx-language resolution, no tempids. Cardinality-one asserts replace the previous value.
 */
export function applyDatoms(_db: Db, _datoms: Iterable<Datom>, _tx?: TxId): Db {
  return todo('applyDatoms');
}
/** DataScript's `d/datoms`. */
export function datoms(db: Db, index: IndexName, ...components: unknown[]): Datom[] {
  return db.datoms(index, ...components);
}
/** DataScript's cross-type value order: negative, 0 or positive. */
export function compareValues(_a: unknown, _b: unknown): number {
  return todo('compareValues');
}
/** A lazy entity view, or null when the entity has no datoms. */
export function entity(_db: Db, _eid: unknown): Entity | null {
  return todo('entity');
}
/** DataScript's `d/pull`: pattern as EDN string or data. */
export function pull(_db: Db, _pattern: unknown, _eid: unknown): Map<unknown, unknown> | null {
  return todo('pull');
}
/** DataScript's `d/pull-many`. */
export function pullMany(_db: Db, _pattern: unknown, _eids: Iterable<unknown>): Array<Map<unknown, unknown> | null> {
  return todo('pullMany');
}
export type { EntityId };
