/**
 * How a PostgreSQL source's tables become attributes (read from the catalog at start):
 *
 * - each mapped table is an entity kind; its attribute namespace defaults to the table name and
 *   each mapped column (default: all) is `<ns>/<column>` unless renamed;
 * - the primary key (one column) is a `:db.unique/identity` attribute, and the row's entity id is
 *   derived from the source, table and key (`src_<name>.<hash>`), so the snapshot, every later
 *   change and every restart name the same entity without a lookup;
 * - a one-column foreign key to another mapped table's primary key is a `:db.type/ref` to that
 *   row's entity;
 * - column types give value types: integers → long (within ±2^53; a larger value is refused),
 *   real/double/numeric → double, boolean, timestamps and dates → instant (a timestamp without
 *   time zone is read as UTC), uuid, and everything else (text, varchar, json, enums, arrays, …)
 *   → string (JSON text for non-strings).
 *
 * Rows arrive as `to_jsonb(row)` (snapshot and change table alike), so one converter serves both.
 * Errors: `source/config` (what and which table or column).
 */
import { DataloomError, type GlobalId, type Op, type WireValue } from '@dataloom/core';
import { createHash } from 'node:crypto';
import type pg from 'pg';

export interface PostgresTableMapping {
  /** Attribute namespace (default: the table name without its schema). */
  ns?: string;
  /** Columns to map (default: all): a list, or column → attribute name (`true`: `<ns>/<column>`). */
  columns?: readonly string[] | Readonly<Record<string, string | true>>;
}

export interface MappedColumn {
  column: string;
  attr: string;
  valueType: 'long' | 'double' | 'boolean' | 'instant' | 'uuid' | 'string' | 'ref';
  /** For refs: the key of the target table. */
  target?: string;
}

export interface MappedTable {
  /** The configuration key, e.g. `orders` or `sales.orders`. */
  key: string;
  /** Quoted, schema-qualified name for SQL. */
  sql: string;
  oid: number;
  pk: string;
  /** SQL type of the primary key (for keyset paging). */
  pkType: string;
  pkAttr: string;
  columns: MappedColumn[];
}

const LONG = new Set(['int2', 'int4', 'int8', 'oid']);
const DOUBLE = new Set(['float4', 'float8', 'numeric']);
const INSTANT = new Set(['timestamp', 'timestamptz', 'date']);

export function quoteIdent(s: string): string {
  return '"' + s.replace(/"/g, '""') + '"';
}

function fail(message: string, data: Record<string, unknown>): never {
  throw new DataloomError('source/config', message, data);
}

/** Reads the catalog and resolves the configured tables. */
export async function mapTables(db: pg.Pool, source: string, tables: Readonly<Record<string, PostgresTableMapping | true>>): Promise<MappedTable[]> {
  const base: Array<Omit<MappedTable, 'columns'> & { cfg: PostgresTableMapping; cols: Array<{ name: string; typname: string }> }> = [];
  for (const [key, raw] of Object.entries(tables)) {
    const cfg: PostgresTableMapping = raw === true ? {} : raw;
    const parts = key.split('.');
    if (parts.length > 2 || parts.some((p) => p === '')) fail(`source ${source}: bad table name ${JSON.stringify(key)} (use table or schema.table)`, { source, table: key });
    const sql = parts.map(quoteIdent).join('.');
    const r = await db.query(`SELECT to_regclass($1)::oid AS oid`, [sql]);
    const oid = r.rows[0]?.oid as number | null;
    if (!oid) fail(`source ${source}: no table ${key} in the database`, { source, table: key });
    const cols = (await db.query(`SELECT a.attname AS name, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, [oid])).rows as Array<{ name: string; typname: string }>;
    const pks = (await db.query(`SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1 AND i.indisprimary`, [oid])).rows as Array<{ name: string; type: string }>;
    if (pks.length !== 1) fail(`source ${source}: table ${key} needs a one-column primary key (has ${pks.length})`, { source, table: key });
    const ns = cfg.ns ?? parts[parts.length - 1]!;
    const pk = pks[0]!.name;
    const pkAttr = attrFor(cfg, ns, pk) ?? `${ns}/${pk}`;
    base.push({ key, sql, oid, pk, pkType: pks[0]!.type, pkAttr, cfg, cols });
  }
  const byOid = new Map(base.map((t) => [t.oid, t]));
  const out: MappedTable[] = [];
  for (const t of base) {
    const fks = (await db.query(`SELECT c.confrelid::int AS target, (SELECT array_agg(attname::text) FROM pg_attribute WHERE attrelid = c.conrelid AND attnum = ANY(c.conkey)) AS cols, (SELECT array_agg(attname::text) FROM pg_attribute WHERE attrelid = c.confrelid AND attnum = ANY(c.confkey)) AS refcols FROM pg_constraint c WHERE c.conrelid = $1 AND c.contype = 'f'`, [t.oid])).rows as Array<{ target: number; cols: string[]; refcols: string[] }>;
    const refOf = new Map<string, string>();
    for (const fk of fks) {
      const target = byOid.get(fk.target);
      if (target && fk.cols.length === 1 && fk.refcols[0] === target.pk) refOf.set(fk.cols[0]!, target.key);
    }
    const known = new Set(t.cols.map((c) => c.name));
    const wanted = t.cfg.columns === undefined ? t.cols.map((c) => c.name) : Array.isArray(t.cfg.columns) ? [...(t.cfg.columns as string[])] : Object.keys(t.cfg.columns);
    if (!wanted.includes(t.pk)) wanted.unshift(t.pk);
    const columns: MappedColumn[] = [];
    for (const name of wanted) {
      if (!known.has(name)) fail(`source ${source}: table ${t.key} has no column ${name}`, { source, table: t.key, column: name });
      const typname = t.cols.find((c) => c.name === name)!.typname;
      const target = refOf.get(name);
      const attr = name === t.pk ? t.pkAttr : attrFor(t.cfg, t.cfg.ns ?? t.key.split('.').pop()!, name) ?? '';
      columns.push({ column: name, attr, valueType: target ? 'ref' : valueTypeOf(typname), ...(target ? { target } : {}) });
    }
    const { cfg: _c, cols: _cols, ...rest } = t;
    out.push({ ...rest, columns });
  }
  return out;
}

function attrFor(cfg: PostgresTableMapping, ns: string, column: string): string | null {
  const c = cfg.columns;
  if (c && !Array.isArray(c)) {
    const v = (c as Record<string, string | true>)[column];
    if (typeof v === 'string') return v.startsWith(':') ? v.slice(1) : v;
  }
  return `${ns}/${column}`;
}

function valueTypeOf(typname: string): MappedColumn['valueType'] {
  if (LONG.has(typname)) return 'long';
  if (DOUBLE.has(typname)) return 'double';
  if (typname === 'bool') return 'boolean';
  if (INSTANT.has(typname)) return 'instant';
  if (typname === 'uuid') return 'uuid';
  return 'string';
}

/** The schema the mapping needs (`createServer({ schema })` form). */
export function schemaOf(tables: readonly MappedTable[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const t of tables) {
    for (const c of t.columns) {
      out[c.attr] = { 'db/valueType': `db.type/${c.valueType}`, ...(c.column === t.pk ? { 'db/unique': 'db.unique/identity' } : {}) };
    }
  }
  return out;
}

/** The entity of the row with primary key `pk` in `table` (JSON value as `to_jsonb` gives it). */
export function rowEntity(replica: string, table: string, pk: unknown): GlobalId {
  const h = createHash('sha256').update(table + '\u0000' + JSON.stringify(pk)).digest('hex').slice(0, 24);
  return `${replica}.${BigInt('0x' + h).toString(36)}`;
}

/** A column value (from `to_jsonb`) as a wire value of the column's type. */
export function toWire(c: MappedColumn, v: unknown, replica: string, where: string): WireValue {
  switch (c.valueType) {
    case 'long':
      // A bigint beyond 2^53 has lost digits on its way through JSON: refuse it rather than write a wrong number.
      if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
      break;
    case 'double':
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
      break;
    case 'boolean':
      if (typeof v === 'boolean') return v;
      break;
    case 'instant': {
      if (typeof v !== 'string') break;
      const iso = /[zZ]|[+-]\d\d(:?\d\d)?$/.test(v) || !v.includes('T') ? v : v + 'Z';
      const ms = Date.parse(iso);
      if (Number.isFinite(ms)) return { inst: ms };
      break;
    }
    case 'uuid':
      if (typeof v === 'string') return { uuid: v.toLowerCase() };
      break;
    case 'ref':
      return { ref: rowEntity(replica, c.target!, v) };
    case 'string':
      return typeof v === 'string' ? v : JSON.stringify(v);
  }
  throw new DataloomError('source/value', `${where}: column ${c.column} value ${JSON.stringify(v)?.slice(0, 80)} is not a valid ${c.valueType}`, { column: c.column, attr: c.attr });
}

/** One row's net change within a piece. */
export type RowChange =
  /**
   * `fresh`: the row did not exist before (snapshot, insert): null columns need no retract.
   * `old`: the row before (an update keeping its key): only columns that differ are written.
   */
  | { kind: 'upsert'; table: MappedTable; row: Record<string, unknown>; fresh: boolean; old?: Record<string, unknown> }
  | { kind: 'delete'; table: MappedTable; pk: unknown };

/**
 * The ops (without ids: the caller stamps them) that make the row's entity say what the row says:
 * every mapped column asserted (only those that changed, for an update; a null column retracts,
 * unless the row is new), plus for each ref the target's identity
 * (so the reference never points at an unknown entity, whatever order rows arrive in) unless the
 * piece writes that entity or already stubbed it (`stubs`, shared by the piece); a delete retracts
 * the entity.
 */
export function rowOps(replica: string, change: RowChange, writes: ReadonlySet<GlobalId>, stubs: Set<GlobalId>, byKey: ReadonlyMap<string, MappedTable>): Array<Omit<Op, 'id' | 'tx'>> {
  const t = change.table;
  if (change.kind === 'delete') return [{ e: rowEntity(replica, t.key, change.pk), op: 'retractEntity' }];
  const pk = change.row[t.pk];
  const e = rowEntity(replica, t.key, pk);
  const where = `table ${t.key} row ${JSON.stringify(pk)}`;
  const ops: Array<Omit<Op, 'id' | 'tx'>> = [];
  const old = change.old;
  for (const c of t.columns) {
    const v = change.row[c.column];
    if (old && JSON.stringify(old[c.column] ?? null) === JSON.stringify(v ?? null)) continue;
    if (v === null || v === undefined) {
      if (!change.fresh) ops.push({ e, op: 'retract', a: c.attr });
      continue;
    }
    const w = toWire(c, v, replica, where);
    ops.push({ e, op: 'add', a: c.attr, v: w });
    if (c.valueType === 'ref') {
      const target = byKey.get(c.target!)!;
      const te = (w as { ref: GlobalId }).ref;
      if (!writes.has(te) && !stubs.has(te)) {
        stubs.add(te);
        ops.push({ e: te, op: 'add', a: target.pkAttr, v: toWire(target.columns.find((x) => x.column === target.pk)!, v, replica, where) });
      }
    }
  }
  return ops;
}
