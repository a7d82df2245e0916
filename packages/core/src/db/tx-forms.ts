/**
 * The forms of the transaction language as the resolver reads them: keyword constants, tempids
 * (strings, negative numbers, auto tempids, tx-id names), entity maps and their attributes (reverse
 * refs, collections), and the normalisation of tx data into a flat list of forms.
 */
import { DataloomError } from '../errors.js';
import { Keyword, Sym, Uuid, kw } from '../edn/types.js';
import { parseEdn } from '../edn/reader.js';
import { printEdn } from '../edn/printer.js';
import { Datom } from './types.js';
import type { TxData, DbIndexes } from './types.js';

export const K = {
  add: kw('db/add'),
  retract: kw('db/retract'),
  retractEntity: kw('db/retractEntity'),
  fnRetractEntity: kw('db.fn/retractEntity'),
  retractAttribute: kw('db.fn/retractAttribute'),
  cas: kw('db/cas'),
  fnCas: kw('db.fn/cas'),
  call: kw('db.fn/call'),
  id: kw('db/id'),
  currentTx: kw('db/current-tx'),
  fn: kw('db/fn'),
};

export const BUILTIN = new Set<Keyword>([
  K.add,
  K.retract,
  K.retractEntity,
  K.fnRetractEntity,
  K.retractAttribute,
  K.cas,
  K.fnCas,
  K.call,
]);

/**
 * The tempid DataScript gives an entity map without `:db/id`. Like any tempid it is allocated
 * lazily, when its first `:db/add` (as entity or ref value) is processed; it never shows in
 * `tempids`.
 */
export class AutoTempid {
  private static seq = 0;
  readonly n = ++AutoTempid.seq;
  toString(): string {
    return `#auto-tempid ${this.n}`;
  }
}

export type Tempid = string | number | AutoTempid;

/** A tempid: a string (other than the tx-id names), a negative number, or an auto tempid. */
export function isTempid(x: unknown): x is Tempid {
  return (typeof x === 'number' && x < 0) || (typeof x === 'string' && !isTxIdString(x)) || x instanceof AutoTempid;
}

export function isTxIdString(x: string): boolean {
  return x === ':db/current-tx' || x === 'db/current-tx' || x === 'datomic.tx' || x === 'datascript.tx';
}

export function isTxId(x: unknown): boolean {
  return x === K.currentTx || (typeof x === 'string' && isTxIdString(x));
}

export function err(code: string, message: string, data: Record<string, unknown>): DataloomError {
  return new DataloomError(code, message, data);
}

/** Internal form of an entity map: ordered entries with keyword keys. */
export interface EntMap {
  id: unknown;
  entries: Array<[Keyword, unknown]>;
  /** the map as given, for error data */
  form: unknown;
}

export function isMapLike(x: unknown): boolean {
  if (x instanceof Map) return true;
  if (typeof x !== 'object' || x === null) return false;
  if (Array.isArray(x) || x instanceof Set || x instanceof Keyword || x instanceof Date || x instanceof Uuid) return false;
  if (x instanceof Datom || x instanceof Sym) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

export function toEntMap(x: unknown): EntMap {
  const entries: Array<[Keyword, unknown]> = [];
  let id: unknown = undefined;
  const raw: Iterable<[unknown, unknown]> = x instanceof Map ? x.entries() : Object.entries(x as object);
  for (const [rk, v] of raw) {
    const k = rk instanceof Keyword ? rk : typeof rk === 'string' ? kw(rk) : null;
    if (k === null) {
      throw err('transact/syntax', `Bad entity attribute ${printEdn(rk)} at ${printEdn(x)}, expected keyword or string`, {
        attribute: rk,
        entity: x,
      });
    }
    if (k === K.id) id = v;
    else entries.push([k, v]);
  }
  return { id, entries, form: x };
}

export function isReverse(a: Keyword): boolean {
  return a.name.charCodeAt(0) === 95; /* _ */
}

export function reverseOf(a: Keyword): Keyword {
  const name = isReverse(a) ? a.name.slice(1) : '_' + a.name;
  return kw(a.ns === null ? name : a.ns + '/' + name);
}

export function isColl(x: unknown): x is unknown[] | Set<unknown> {
  return Array.isArray(x) || x instanceof Set;
}

/** Work item: an entity map or a vector form. */
export type Item = EntMap | unknown[] | Datom | null | undefined | unknown;

/**
 * DataScript's assoc-auto-tempids: before the first attempt, every entity map without `:db/id`
 * (top level, nested under ref or reverse-ref attributes, or the value of a `:db/add` on a ref)
 * gets an {@link AutoTempid}. Done once, so a retried transaction (upsert after allocation) sees
 * the same auto tempids and the ids they were given.
 */
export function assignAutoTempids(forms: unknown[], db: DbIndexes): unknown[] {
  const schema = db.schema;
  const one = (x: unknown): unknown => {
    if (isEntMap(x) || isMapLike(x)) {
      const m = isEntMap(x) ? x : toEntMap(x);
      const entries: Array<[Keyword, unknown]> = m.entries.map(([a, v]) => {
        const reverse = isReverse(a);
        const straight = reverse ? reverseOf(a) : a;
        if (!reverse && schema.isRef(a)) return [a, schema.isMany(a) && isColl(v) ? [...v].map(one) : one(v)];
        if (reverse && schema.isRef(straight)) return [a, Array.isArray(v) ? v.map(one) : one(v)];
        return [a, v];
      });
      return mkEntMap(m.id === undefined || m.id === null ? new AutoTempid() : m.id, entries, m.form);
    }
    if (Array.isArray(x) && x.length >= 4 && opOf(x[0]) === K.add) {
      const a = x[2] instanceof Keyword ? x[2] : typeof x[2] === 'string' ? kw(x[2]) : null;
      if (a !== null && schema.isRef(a) && (isMapLike(x[3]) || (schema.isMany(a) && isColl(x[3])))) {
        const copy = x.slice();
        copy[3] = isColl(x[3]) ? [...x[3]].map(one) : one(x[3]);
        return copy;
      }
    }
    return x;
  };
  return forms.map(one);
}

export function normalizeTxData(txData: TxData): unknown[] {
  let data: unknown = txData;
  if (typeof data === 'string') data = parseEdn(data);
  if (data === null || data === undefined) return [];
  if (Array.isArray(data)) return data;
  if (typeof data === 'object' && Symbol.iterator in (data as object) && !(data instanceof Map)) {
    return [...(data as Iterable<unknown>)];
  }
  throw err('transact/syntax', `Bad transaction data ${printEdn(data)}, expected a collection`, { txData: data });
}

export const ENT_MAP = Symbol('entmap');
export function isEntMap(x: unknown): x is EntMap {
  return typeof x === 'object' && x !== null && (x as { [ENT_MAP]?: true })[ENT_MAP] === true;
}
export function mkEntMap(id: unknown, entries: Array<[Keyword, unknown]>, form: unknown): EntMap {
  const m = { id, entries, form } as EntMap & { [ENT_MAP]: true };
  m[ENT_MAP] = true;
  return m;
}

export function attrOf(a: unknown, form: unknown): Keyword {
  if (a instanceof Keyword) return a;
  if (typeof a === 'string' && a.length > 0) return kw(a);
  throw err('transact/syntax', `Bad entity attribute ${printEdn(a)} at ${printEdn(form)}, expected keyword or string`, {
    attribute: a,
    txData: form,
  });
}

export function opOf(x: unknown): Keyword | null {
  if (x instanceof Keyword) return x;
  if (typeof x === 'string' && x.length > 0 && (x.charCodeAt(0) === 58 || x.includes('/'))) return kw(x);
  return null;
}
