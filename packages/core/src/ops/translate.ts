/**
 * Translates Datomic/DataScript transaction data into operations against a replica's current
 * {@link MergeState}: entity maps (nested, reverse refs), `:db/add`, `:db/retract` (with and
 * without value), `:db/retractEntity`, `:db.fn/retractAttribute`, `:db/cas`, tempids (strings or
 * negative numbers), lookup refs, `:db/ident` keywords, upserts on `:db.unique/identity`, and
 * `:db/text` (a raw Yjs update for a text attribute).
 *
 * Entity references accepted: a {@link GlobalId} string, a positive integer (resolved through
 * `ctx.resolveInt`, the replica's interned ids), a lookup ref `[attr, value]`, an ident keyword,
 * or a tempid (negative number or any string that is not a global id).
 *
 * Semantics are chosen to merge well:
 * - a cardinality-one assert is an `add` op (the LWW register needs no retract of the old value);
 * - `[:db/retract e a v]` on cardinality one emits a `retract` only when `v` is the current value;
 * - `[:db/retract e a]` on cardinality many retracts each currently visible value (concurrent adds
 *   of other values survive);
 * - `:db/cas` is checked against local state (throws `transact/cas`) and also recorded in
 *   `checks` for the server, which is the judge.
 *
 * Throws a {@link DataloomError} and produces nothing on bad input.
 */
import * as Y from 'yjs';
import { DataloomError } from '../errors.js';
import { parseEdn } from '../edn/index.js';
import { Keyword } from '../edn/types.js';
import type { Hlc } from '../hlc/hlc.js';
import { formatHlc } from '../hlc/hlc.js';
import { allocGlobalId, isGlobalId } from '../hlc/ids.js';
import type { GlobalId, Op, TxEnvelope, WireValue } from './types.js';
import type { MergeState } from './state.js';
import { bytesToBase64 } from './state.js';
import { attrValueKey, toWireValue, wireValueKey } from './value.js';

/** Context of one translation. */
export interface TranslateContext {
  /** The stamp of the transaction being made. */
  stamp: Hlc;
  /** Resolves an integer entity id (as queries return them) to its global id, or null. */
  resolveInt?: (n: number) => GlobalId | null;
}

/** Result of {@link translateTx}. */
export interface Translation {
  envelope: TxEnvelope;
  /** Tempid (as written, stringified) → global id. */
  tempids: Record<string, GlobalId>;
}

type ERef = { kind: 'id'; id: GlobalId } | { kind: 'temp'; key: string };

function attrName(x: unknown, form: unknown): string {
  if (x instanceof Keyword) return x.fqn;
  if (typeof x === 'string' && x.length > 0) return x.startsWith(':') ? x.slice(1) : x;
  throw new DataloomError('transact/syntax', `bad attribute ${String(x)}`, { form: show(form), attribute: String(x) });
}

function show(x: unknown): string {
  try {
    return JSON.stringify(x, (_k, v) => (v instanceof Map ? Object.fromEntries(v) : v instanceof Keyword ? ':' + v.fqn : v));
  } catch {
    return String(x);
  }
}

function entriesOf(x: unknown): Array<[unknown, unknown]> | null {
  if (x instanceof Map) return [...x.entries()];
  if (x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Keyword) && !(x instanceof Date) && Object.getPrototypeOf(x) === Object.prototype) {
    return Object.entries(x as Record<string, unknown>);
  }
  return null;
}

/**
 * What translation reads of a state: a {@link MergeState}, or anything answering the same way (a
 * draft's view of the committed state with the draft laid over it).
 */
export type TranslateState = Pick<MergeState, 'schema' | 'lookup' | 'rep' | 'values' | 'members' | 'textDoc'>;

/** Translates `txData` into an envelope of ops stamped `ctx.stamp`. */
export function translateTx(state: TranslateState, txData: unknown, ctx: TranslateContext): Translation {
  try {
    return new Translator(state, ctx).run(txData);
  } catch (e) {
    // hostile or broken input nested beyond the stack: a typed error like any other bad form
    if (e instanceof RangeError) throw new DataloomError('transact/syntax', 'transaction data is nested too deeply', {});
    throw e;
  }
}

class Translator {
  private readonly ops: Op[] = [];
  private readonly checks: NonNullable<TxEnvelope['checks']> = [];
  private readonly tempids = new Map<string, GlobalId>();
  private readonly usedAsEntity = new Set<string>();
  private readonly usedAsValue = new Map<string, unknown>();
  private nextIndex = 0;
  private anon = 0;
  /** identity claims made in this tx: `a\0vkey` → tempid key or global id */
  private readonly txClaims = new Map<string, ERef>();
  private readonly tx: string;

  constructor(
    private readonly state: TranslateState,
    private readonly ctx: TranslateContext,
  ) {
    this.tx = formatHlc(ctx.stamp);
  }

  run(txData: unknown): Translation {
    const forms = typeof txData === 'string' ? parseEdn(txData) : txData;
    if (forms === null || forms === undefined) throw new DataloomError('transact/syntax', `transaction data must be a vector of forms, got ${String(forms)}`, { form: String(forms) });
    if (typeof forms !== 'object' || !(Symbol.iterator in (forms as object)) || forms instanceof Map) {
      throw new DataloomError('transact/syntax', 'transaction data must be a vector of forms', { form: show(txData) });
    }
    const list = [...(forms as Iterable<unknown>)];
    this.preResolveUpserts(list);
    for (const f of list) this.form(f);
    for (const [key, form] of this.usedAsValue) {
      if (!this.usedAsEntity.has(key) && !this.upserted.has(key)) {
        throw new DataloomError('transact/tempid', `tempid ${key} is used only as a value`, { form: show(form), tempid: key });
      }
    }
    const tempids: Record<string, GlobalId> = {};
    for (const [k, v] of this.tempids) if (!k.startsWith('\u0000')) tempids[k] = v;
    const envelope: TxEnvelope = { tx: this.tx, replica: this.ctx.stamp.replica, ops: this.ops };
    if (this.checks.length) envelope.checks = this.checks;
    return { envelope, tempids };
  }

  // ------------------------------------------------------------------ upserts

  /**
   * Before allocating anything, resolve tempids that upsert: an entity map or `:db/add` whose
   * entity is a tempid and which asserts an existing `:db.unique/identity` value takes that
   * entity's id; two tempids asserting the same new identity value become one entity.
   */
  private preResolveUpserts(forms: unknown[]): void {
    const visit = (tempKey: string | null, a: string, v: unknown, form: unknown) => {
      if (tempKey === null) return;
      const s = this.state.schema.get(a);
      if (!s.identity || s.ref) return;
      let w: WireValue;
      try {
        w = toWireValue(v);
      } catch {
        return;
      }
      const existing = this.state.lookup(a, w);
      const claimKey = attrValueKey(a, w);
      const prev = this.tempids.get(tempKey);
      if (existing !== null) {
        if (prev !== undefined && prev !== existing) {
          throw new DataloomError('transact/upsert', `conflicting upserts: tempid ${tempKey} resolves to ${prev} and ${existing}`, {
            form: show(form),
            tempid: tempKey,
          });
        }
        this.tempids.set(tempKey, existing);
        this.upserted.add(tempKey);
      } else {
        const other = this.txClaims.get(claimKey);
        if (other === undefined) this.txClaims.set(claimKey, { kind: 'temp', key: tempKey });
        else if (other.kind === 'temp' && other.key !== tempKey) this.alias.set(tempKey, other.key);
      }
    };
    for (const f of forms) {
      const ents = entriesOf(f);
      if (ents) {
        const id = ents.find(([k]) => attrName(k, f) === 'db/id')?.[1];
        const key = id === undefined ? this.anonKey(f as object) : this.tempKey(id);
        for (const [k, v] of ents) {
          const a = attrName(k, f);
          if (a !== 'db/id' && !Array.isArray(v)) visit(key, a, v, f);
        }
      } else if (Array.isArray(f) && f.length === 4 && this.opName(f[0]) === 'db/add') {
        visit(this.tempKey(f[1]), attrName(f[2], f), f[3], f);
      }
    }
  }

  private readonly alias = new Map<string, string>();
  private readonly anonKeys = new WeakMap<object, string>();
  /** Tempids resolved to existing entities by upsert. */
  private readonly upserted = new Set<string>();

  /** The internal tempid of an entity map written without `:db/id`. */
  private anonKey(m: object): string {
    let k = this.anonKeys.get(m);
    if (k === undefined) this.anonKeys.set(m, (k = '\u0000anon' + this.anon++));
    return k;
  }

  private tempKey(x: unknown): string | null {
    if (typeof x === 'number' && Number.isInteger(x) && x < 0) return String(x);
    if (typeof x === 'string' && !isGlobalId(x)) return x;
    return null;
  }

  // ------------------------------------------------------------------ entity refs

  private opName(x: unknown): string | null {
    if (x instanceof Keyword) return x.fqn;
    if (typeof x === 'string') return x.startsWith(':') ? x.slice(1) : x;
    return null;
  }

  /** Resolves an entity reference in entity position (tempids allocate). */
  private entity(x: unknown, form: unknown, asValue = false): GlobalId {
    let key = this.tempKey(x);
    if (key !== null) {
      while (this.alias.has(key)) key = this.alias.get(key)!;
      if (asValue) this.usedAsValue.set(key, form);
      else this.usedAsEntity.add(key);
      let id = this.tempids.get(key);
      if (id === undefined) {
        id = allocGlobalId(this.ctx.stamp, this.nextIndex++);
        this.tempids.set(key, id);
      }
      return id;
    }
    return this.existing(x, form);
  }

  private existing(x: unknown, form: unknown): GlobalId {
    if (typeof x === 'string' && isGlobalId(x)) return this.state.rep(x);
    if (typeof x === 'number' && Number.isInteger(x) && x > 0) {
      const id = this.ctx.resolveInt?.(x) ?? null;
      if (id === null) throw new DataloomError('entity-id/missing', `unknown entity id ${x}`, { form: show(form), id: x });
      return id;
    }
    if (x instanceof Keyword) {
      const id = this.state.lookup('db/ident', { kw: x.fqn });
      if (id === null) throw new DataloomError('entity-id/missing', `nothing found for ident ${String(x)}`, { form: show(form), ident: String(x) });
      return id;
    }
    if (Array.isArray(x) && x.length === 2) {
      const a = attrName(x[0], form);
      const s = this.state.schema.get(a);
      if (!s.identity && !s.uniqueValue) {
        throw new DataloomError('lookup-ref/unique', `lookup ref attribute ${a} should be marked as :db/unique`, { form: show(form), attribute: a });
      }
      const v = s.ref ? { ref: this.existing(x[1], form) } : toWireValue(x[1]);
      const id = this.state.lookup(a, v);
      if (id !== null) return id;
      const pending = this.txClaims.get(attrValueKey(a, v));
      if (pending?.kind === 'id') return pending.id;
      throw new DataloomError('entity-id/missing', `nothing found for lookup ref ${show(x)}`, { form: show(form), lookupRef: show(x) });
    }
    throw new DataloomError('entity-id/syntax', `expected an entity id, tempid or lookup ref, got ${show(x)}`, { form: show(form), id: show(x) });
  }

  // ------------------------------------------------------------------ ops

  private push(op: Omit<Op, 'id' | 'tx'>): void {
    const full: Op = { id: `${this.tx}/${this.ops.length}`, tx: this.tx, e: op.e, op: op.op };
    if (op.a !== undefined) full.a = op.a;
    if (op.v !== undefined) full.v = op.v;
    this.ops.push(full);
  }

  /** A value in attribute `a`'s position → wire value (refs resolved, nested maps created). */
  private value(a: string, v: unknown, form: unknown): WireValue {
    const s = this.state.schema.get(a);
    if (s.ref) {
      if (entriesOf(v) !== null) return { ref: this.map(v, form) };
      return { ref: this.entity(v, form, true) };
    }
    if (v === null || v === undefined) throw new DataloomError('transact/syntax', `nil value for ${a}`, { form: show(form), attribute: a });
    try {
      return toWireValue(v);
    } catch (e) {
      if (e instanceof DataloomError) throw new DataloomError(e.code, e.message, { ...e.data, form: show(form), attribute: a });
      throw e;
    }
  }

  private add(e: GlobalId, a: string, v: unknown, form: unknown): void {
    const s = this.state.schema.get(a);
    if (a === 'db/id') return;
    if (s.text) {
      if (typeof v !== 'string') throw new DataloomError('transact/value', `text attribute ${a} takes a string`, { form: show(form), attribute: a });
      this.textSet(e, a, v);
      return;
    }
    const w = this.value(a, v, form);
    if (s.identity || s.uniqueValue) this.checkUnique(e, a, w, form);
    if (s.identity && !s.ref) this.txClaims.set(attrValueKey(a, w), { kind: 'id', id: e });
    // like DataScript's tx-data, re-asserting the current value is a no-op
    const k = wireValueKey(w);
    if (this.state.values(e, a).some((c) => wireValueKey(c) === k)) return;
    this.push({ e, op: 'add', a, v: w });
  }

  /**
   * Like DataScript, a local transaction may not give a unique value to a second entity (unless
   * this transaction retracts it from the holder first). The identity merge rule is for
   * *concurrent* offline creation only.
   */
  private checkUnique(e: GlobalId, a: string, w: WireValue, form: unknown): void {
    const k = attrValueKey(a, w);
    const me = this.state.rep(e);
    const holder = this.state.lookup(a, w);
    const pending = this.txClaims.get(k);
    const other =
      holder !== null && holder !== me && !this.released.has(k + '\u0000' + holder) && !this.retractedEntities.has(holder)
        ? holder
        : pending?.kind === 'id' && pending.id !== e
          ? pending.id
          : null;
    if (other !== null) {
      throw new DataloomError('transact/unique', `unique constraint violated: ${a} ${show(w)} already belongs to ${other}`, {
        form: show(form),
        attribute: a,
        value: show(w),
      });
    }
  }

  /** `a\0vkey\0entity` of unique values retracted earlier in this transaction. */
  private readonly released = new Set<string>();
  private readonly retractedEntities = new Set<GlobalId>();

  private textSet(e: GlobalId, a: string, next: string): void {
    const live = this.state.textDoc(e, a);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(live));
    const before = Y.encodeStateVector(doc);
    const t = doc.getText('text');
    const cur = t.toString();
    if (cur === next && this.state.values(e, a).length > 0) return;
    let p = 0;
    while (p < cur.length && p < next.length && cur[p] === next[p]) p++;
    let s = 0;
    while (s < cur.length - p && s < next.length - p && cur[cur.length - 1 - s] === next[next.length - 1 - s]) s++;
    doc.transact(() => {
      if (cur.length - p - s > 0) t.delete(p, cur.length - p - s);
      if (next.length - p - s > 0) t.insert(p, next.slice(p, next.length - s));
    });
    this.push({ e, op: 'text', a, v: bytesToBase64(Y.encodeStateAsUpdate(doc, before)) });
  }

  private map(m: unknown, form: unknown): GlobalId {
    const ents = entriesOf(m)!;
    let idv: unknown;
    for (const [k, v] of ents) if (attrName(k, form) === 'db/id') idv = v;
    const e = idv === undefined ? this.entity(this.anonKey(m as object), form) : this.entity(idv, form);
    for (const [k, v] of ents) {
      const a = attrName(k, form);
      if (a === 'db/id') continue;
      const slash = a.lastIndexOf('/');
      const name = slash >= 0 ? a.slice(slash + 1) : a;
      if (name.startsWith('_')) {
        const fwd = (slash >= 0 ? a.slice(0, slash + 1) : '') + name.slice(1);
        if (!this.state.schema.get(fwd).ref) {
          throw new DataloomError('transact/syntax', `bad attribute ${a}: reverse attribute name requires {:db/valueType :db.type/ref} in schema`, { form: show(form), attribute: a });
        }
        for (const x of this.many(v, fwd)) {
          const src = entriesOf(x) !== null ? this.map(x, form) : this.entity(x, form);
          this.push({ e: src, op: 'add', a: fwd, v: { ref: e } });
        }
        continue;
      }
      const s = this.state.schema.get(a);
      const vals = s.many ? this.many(v, a) : [v];
      for (const x of vals) this.add(e, a, x, form);
    }
    return e;
  }

  /** Values of a cardinality-many position: arrays and sets spread, except a lookup ref. */
  private many(v: unknown, a: string): unknown[] {
    if (v instanceof Set) return [...v];
    if (Array.isArray(v)) {
      const isLookup = v.length === 2 && this.state.schema.get(a).ref && (v[0] instanceof Keyword || (typeof v[0] === 'string' && !isGlobalId(v[0]) && this.state.schema.get(attrName(v[0], v)).identity));
      return isLookup ? [v] : v;
    }
    return [v];
  }

  private form(f: unknown): void {
    if (f === null || f === undefined) return;
    if (entriesOf(f) !== null) {
      this.map(f, f);
      return;
    }
    if (!Array.isArray(f) || f.length === 0) throw new DataloomError('transact/syntax', `bad transaction form ${show(f)}`, { form: show(f) });
    const op = this.opName(f[0]);
    switch (op) {
      case 'db/add': {
        if (f.length !== 4) throw new DataloomError('transact/syntax', ':db/add takes [:db/add e a v]', { form: show(f) });
        const a = attrName(f[2], f);
        this.add(this.entity(f[1], f), a, f[3], f);
        return;
      }
      case 'db/retract': {
        if (f.length !== 3 && f.length !== 4) throw new DataloomError('transact/syntax', ':db/retract takes [:db/retract e a v?]', { form: show(f) });
        const e = this.existing(f[1], f);
        const a = attrName(f[2], f);
        this.retract(e, a, f.length === 4 ? f[3] : undefined, f);
        return;
      }
      case 'db.fn/retractAttribute': {
        if (f.length !== 3) throw new DataloomError('transact/syntax', ':db.fn/retractAttribute takes [op e a]', { form: show(f) });
        this.retract(this.existing(f[1], f), attrName(f[2], f), undefined, f);
        return;
      }
      case 'db/retractEntity':
      case 'db.fn/retractEntity': {
        if (f.length !== 2) throw new DataloomError('transact/syntax', ':db/retractEntity takes [:db/retractEntity e]', { form: show(f) });
        // a merged entity (unique-identity rule) is retracted with all its members
        const target = this.existing(f[1], f);
        this.retractedEntities.add(this.state.rep(target));
        for (const m of this.state.members(target)) this.push({ e: m, op: 'retractEntity' });
        return;
      }
      case 'db/cas':
      case 'db.fn/cas': {
        if (f.length !== 5) throw new DataloomError('transact/syntax', ':db/cas takes [:db/cas e a old new]', { form: show(f) });
        const e = this.existing(f[1], f);
        const a = attrName(f[2], f);
        const cur = this.state.values(e, a);
        const expected = f[3] === null || f[3] === undefined ? null : this.value(a, f[3], f);
        const ok = expected === null ? cur.length === 0 : cur.some((c) => wireValueKey(c) === wireValueKey(expected));
        if (!ok) {
          throw new DataloomError('transact/cas', `:db/cas failed on ${e} ${a}: expected ${show(f[3])}, found ${show(cur)}`, {
            form: show(f),
            expected: show(f[3]),
            found: show(cur),
          });
        }
        const nv = this.value(a, f[4], f);
        this.checks.push({ kind: 'cas', e, a, expected, v: nv });
        this.push({ e, op: 'add', a, v: nv });
        return;
      }
      case 'db/text': {
        if (f.length !== 4 || typeof f[3] !== 'string') throw new DataloomError('transact/syntax', ':db/text takes [:db/text e a base64-update]', { form: show(f) });
        const a = attrName(f[2], f);
        if (!this.state.schema.get(a).text) throw new DataloomError('transact/syntax', `${a} is not a :db.type/text attribute`, { form: show(f), attribute: a });
        this.push({ e: this.entity(f[1], f), op: 'text', a, v: f[3] });
        return;
      }
      default:
        throw new DataloomError('transact/syntax', `unknown operation ${show(f[0])}`, { form: show(f), op: show(f[0]) });
    }
  }

  private retract(e: GlobalId, a: string, v: unknown, form: unknown): void {
    const s = this.state.schema.get(a);
    const cur = this.state.values(e, a);
    if (v === undefined) {
      for (const c of cur) this.released.add(attrValueKey(a, c) + '\u0000' + this.state.rep(e));
      if (s.many && !s.text) for (const c of cur) this.push({ e, op: 'retract', a, v: c });
      else if (cur.length) this.push({ e, op: 'retract', a });
      return;
    }
    const w = s.ref ? { ref: this.existing(v, form) } : toWireValue(v);
    if (!cur.some((c) => wireValueKey(c) === wireValueKey(w))) return; // retracting an absent value does nothing
    this.released.add(attrValueKey(a, w) + '\u0000' + this.state.rep(e));
    if (s.many) this.push({ e, op: 'retract', a, v: w });
    else this.push({ e, op: 'retract', a });
  }
}

