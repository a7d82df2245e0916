/**
 * DataScript / Datomic transaction reports as Dataloom ops.
 *
 * Accepted shapes (one transaction each): DataScript's `listen!` report (`{tx_data: [Datom…]}` in
 * JS, where a retraction has a negative `tx`), an EDN map `{:tx-data [...]}`, or an EDN vector of
 * datoms; a datom is `[e a v tx added]`, a `#datascript/Datom [e a v tx added]` literal or a JS
 * `{e, a, v, tx, added}`. Attributes are idents (`:person/name` or `person/name`).
 *
 * Entity ids translate without a table: external id *n* of source `<name>` is the global id
 * `src_<name>.e<n base 36>` — the same on every replay. A value of a ref attribute (per the
 * log's schema) is translated the same way. Datoms about the transaction entity itself (e.g.
 * `:db/txInstant`) and `db/*` attributes (schema installs) are left out. Within a transaction a
 * cardinality-one retraction is dropped when the same transaction asserts a new value (the
 * register takes the new one), otherwise it retracts the value.
 */
import { DataloomError, Keyword, Tagged, parseEdn, type GlobalId, type Op, type WireValue } from '@dataloom/core';
import { toWireValue, type MergeSchema } from '@dataloom/core/internals';

export interface ExtDatom {
  e: number;
  a: string;
  v: unknown;
  added: boolean;
}

export interface ExtTx {
  /** The source's transaction id (increasing). */
  tx: number;
  datoms: ExtDatom[];
}

function fail(message: string, data: Record<string, unknown> = {}): never {
  throw new DataloomError('source/txlog', message, data);
}

function attrName(a: unknown): string {
  if (a instanceof Keyword) return a.fqn;
  if (typeof a === 'string' && a.length > 0) return a.startsWith(':') ? a.slice(1) : a;
  return fail(`datom attribute ${JSON.stringify(a)} is not an ident (numeric attribute ids need the source's idents)`);
}

function field(x: object, k: string): unknown {
  return x instanceof Map ? x.get(k) ?? x.get(new Keyword(k)) : (x as Record<string, unknown>)[k];
}

function mapGet(m: Map<unknown, unknown>, name: string): unknown {
  for (const [k, v] of m) if ((k instanceof Keyword ? k.fqn : k) === name) return v;
  return undefined;
}

/** One datom in any accepted shape. */
function datomOf(x: unknown): { e: number; a: string; v: unknown; tx: number; added: boolean } {
  const raw = x instanceof Tagged ? x.value : x;
  if (Array.isArray(raw)) {
    const [e, a, v, tx, added] = raw as unknown[];
    if (typeof e !== 'number' || typeof tx !== 'number') fail(`datom ${JSON.stringify(raw).slice(0, 120)}: e and tx must be numbers`);
    return { e, a: attrName(a), v, tx: Math.abs(tx), added: added === undefined ? tx > 0 : added !== false };
  }
  if (raw !== null && typeof raw === 'object') {
    const e = field(raw, 'e');
    const tx = field(raw, 'tx');
    if (typeof e !== 'number' || typeof tx !== 'number') fail('datom object needs numeric e and tx');
    const added = field(raw, 'added');
    // DataScript's JS datoms carry the sign of a retraction in `tx`.
    return { e, a: attrName(field(raw, 'a')), v: field(raw, 'v'), tx: Math.abs(tx), added: typeof added === 'boolean' ? added : tx > 0 };
  }
  return fail(`not a datom: ${String(x).slice(0, 80)}`);
}

/** A transaction report (DataScript `listen!` report, EDN map or vector of datoms) → one transaction. */
export function readTxReport(report: unknown): ExtTx {
  const value = typeof report === 'string' ? parseEdn(report) : report;
  let data: unknown;
  if (Array.isArray(value)) data = value;
  else if (value instanceof Map) data = mapGet(value, 'tx-data') ?? mapGet(value, 'tx_data');
  else if (value !== null && typeof value === 'object') data = (value as Record<string, unknown>)['tx_data'] ?? (value as Record<string, unknown>)['tx-data'] ?? (value as Record<string, unknown>)['txData'];
  if (!Array.isArray(data)) fail('a transaction report needs tx-data (a vector of datoms)');
  const datoms = data.map(datomOf);
  if (datoms.length === 0) return { tx: 0, datoms: [] };
  const tx = Math.max(...datoms.map((d) => d.tx));
  return { tx, datoms: datoms.filter((d) => d.e !== d.tx).map(({ e, a, v, added }) => ({ e, a, v, added })) };
}

/** The global id of external entity `e` of source replica `replica`. */
export function extEntity(replica: string, e: number): GlobalId {
  if (!Number.isSafeInteger(e) || e < 0) fail(`entity id ${e} is not a non-negative integer`);
  return `${replica}.e${e.toString(36)}`;
}

function wire(replica: string, schema: MergeSchema, a: string, v: unknown): WireValue {
  const s = schema.get(a);
  if (s.ref) {
    if (typeof v === 'number') return { ref: extEntity(replica, v) };
    fail(`value ${JSON.stringify(v)} of ref attribute :${a} is not an entity id`, { a });
  }
  if (s.valueType === 'keyword' && typeof v === 'string') return { kw: v.startsWith(':') ? v.slice(1) : v };
  try {
    return toWireValue(v);
  } catch {
    return fail(`value ${String(v).slice(0, 80)} of :${a} has no Dataloom form`, { a });
  }
}

/** The ops (without ids) of one external transaction. */
export function txOps(replica: string, schema: MergeSchema, tx: ExtTx): Array<Omit<Op, 'id' | 'tx'>> {
  const asserted = new Set<string>();
  for (const d of tx.datoms) if (d.added && !schema.get(d.a).many) asserted.add(d.e + '\u0000' + d.a);
  const ops: Array<Omit<Op, 'id' | 'tx'>> = [];
  for (const d of tx.datoms) {
    if (d.a.startsWith('db/') || d.a.startsWith('db.')) continue;
    const e = extEntity(replica, d.e);
    const many = schema.get(d.a).many;
    if (d.added) ops.push({ e, op: 'add', a: d.a, v: wire(replica, schema, d.a, d.v) });
    else if (many) ops.push({ e, op: 'retract', a: d.a, v: wire(replica, schema, d.a, d.v) });
    else if (!asserted.has(d.e + '\u0000' + d.a)) ops.push({ e, op: 'retract', a: d.a });
  }
  return ops;
}
