/**
 * What a server node knows of the committed log, kept in memory to judge new transactions:
 * the schema (derived from schema ops), the last-writer-wins value of every `(e, a)` (for `cas`),
 * `retractEntity` tombstones, and the set of known entities (for ref checks).
 *
 * It is the {@link Judge} handed to `ServerStore.append`, so every check runs under the store's
 * writer lock against a snapshot that includes everything committed before (by any node).
 *
 * Invariant: `head` is the highest log position whose envelope has been applied. Envelopes are
 * applied exactly once, in log order. An accepted-but-uncommitted envelope leaves the state
 * `dirty`; the server then rebuilds the state from the store (see `server.ts`).
 */
import { parseHlc, type Op, type TxEnvelope, type WireValue } from '@dataloom/core';
import type { Judge, LogEntry, Verdict } from '../storage/types.js';
import { SCHEMA_ATTRS, VALUE_TYPES, type AttrSpec } from './schema.js';

interface Reg {
  /** `${tx}/${index}` compares as the op order (tx first, then position in it). */
  order: string;
  retracted: boolean;
  v: WireValue | undefined;
}

const SEP = '\u0000';

/** Canonical string of a wire value, for equality. */
export function wireKey(v: WireValue | null | undefined): string {
  return v === undefined || v === null ? 'nil' : JSON.stringify(v);
}

function opOrder(op: Op, index: number): string {
  // Index zero-padded so "tx/10" sorts after "tx/9".
  return op.tx + '/' + index.toString(36).padStart(4, '0');
}

export interface ServerStateOptions {
  /** Reject transactions stamped more than this many ms ahead of `now()`. */
  maxClockDriftMs: number;
  now?: () => number;
}

export class ServerState implements Judge {
  /** Highest applied log position. */
  head = 0;
  /** True after `check` accepted an envelope that is not yet known to be committed. */
  dirty = false;
  private readonly regs = new Map<string, Reg>();
  private readonly tombs = new Map<string, string>();
  private readonly entities = new Set<string>();
  private readonly draftEntities = new Map<string, Set<string>>();
  private readonly identOf = new Map<string, string>();
  /** For `:db.unique/value` attributes: attribute → value key → entity holding it. */
  private readonly uniqueHolders = new Map<string, Map<string, string>>();
  /** Effective schema: attribute ident → spec. */
  readonly schema = new Map<string, AttrSpec>();
  private readonly now: () => number;

  constructor(private readonly opts: ServerStateOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Current value of `(e, a)` under LWW (cardinality-one view), or null. */
  value(e: string, a: string): WireValue | null {
    const r = this.regs.get(e + SEP + a);
    if (!r || r.retracted) return null;
    const tomb = this.tombs.get(e);
    if (tomb !== undefined && tomb > r.order) return null;
    return r.v ?? null;
  }

  /** Highest wall-clock ms of any applied stamp. */
  maxMs = 0;

  /** The schema entity that defines attribute `ident`, if any. */
  entityOfIdent(ident: string): string | undefined {
    for (const [e, i] of this.identOf) if (i === ident) return e;
    return undefined;
  }

  /** Whether any committed op mentions entity `e`. */
  hasEntity(e: string): boolean {
    return this.entities.has(e);
  }

  // ---- Judge ----

  catchUp(entries: readonly LogEntry[]): void {
    for (const { pos, env } of entries) {
      if (pos <= this.head) continue;
      this.apply(env);
      this.head = pos;
    }
  }

  /** Mark entries (already applied by `check`) as committed. */
  settle(entries: readonly LogEntry[]): void {
    for (const { pos } of entries) if (pos > this.head) this.head = pos;
    this.dirty = false;
  }

  check(env: TxEnvelope): Verdict {
    const v = this.judge(env);
    if (v.ok) {
      this.apply(env);
      this.dirty = true;
    }
    return v;
  }

  /** Pure decision (does not change state). */
  judge(env: TxEnvelope): Verdict {
    const ms = parseHlc(env.tx).ms;
    if (ms > this.now() + this.opts.maxClockDriftMs) {
      return reject('sync/clock-drift', `transaction stamp ${env.tx} is ${ms - this.now()} ms ahead of the server clock`, { tx: env.tx });
    }
    // Schema ops first: validate their values and compute the schema this transaction sees.
    const local = new Map<string, Map<string, WireValue | undefined>>();
    for (const op of env.ops) {
      if (op.a === undefined || !SCHEMA_ATTRS.has(op.a)) continue;
      const err = checkSchemaOp(op);
      if (err) return err;
      let m = local.get(op.e);
      if (!m) local.set(op.e, (m = new Map()));
      m.set(op.a, op.op === 'add' ? op.v : undefined);
    }
    const txSchema = local.size > 0 ? this.schemaWith(local) : null;
    const spec = (a: string) => txSchema?.get(a) ?? this.schema.get(a);

    const created = new Set<string>();
    for (const op of env.ops) created.add(op.e);
    const draftKnown = env.draft ? this.draftEntities.get(env.draft) : undefined;
    const oneSeen = new Set<string>();
    const uniqueInTx = new Map<string, string>();
    for (const op of env.ops) {
      if (op.op === 'retractEntity' || op.a === undefined || SCHEMA_ATTRS.has(op.a)) continue;
      if (op.a.startsWith('db/') && op.a !== 'db/ident') {
        return reject('sync/schema-mismatch', `attribute :${op.a} is reserved`, { op: op.id, a: op.a });
      }
      const s = spec(op.a);
      const type = s?.valueType ?? null;
      if (op.op === 'text') {
        if (type !== 'text') return reject('sync/schema-mismatch', `text update on :${op.a}, which is not :db.type/text`, { op: op.id, a: op.a });
        continue;
      }
      if (op.v === undefined) continue; // retract of the (e, a) value
      const tErr = checkType(op, type);
      if (tErr) return tErr;
      if (type === 'ref') {
        const target = (op.v as { ref: string }).ref;
        if (!this.entities.has(target) && !created.has(target) && !draftKnown?.has(target)) {
          return reject('sync/unknown-ref', `:${op.a} refers to unknown entity ${target}`, { op: op.id, a: op.a, ref: target });
        }
      }
      if (op.op === 'add' && s?.unique === 'value' && s.cardinality === 'one') {
        const vk = wireKey(op.v);
        const k = op.a + SEP + vk;
        const holder = this.uniqueHolders.get(op.a)?.get(vk) ?? uniqueInTx.get(k);
        if (holder !== undefined && holder !== op.e && (uniqueInTx.get(k) === holder || wireKey(this.value(holder, op.a)) === vk)) {
          return reject('sync/unique', `:${op.a} ${vk.slice(0, 80)} is already held by entity ${holder} (:db.unique/value)`, { op: op.id, a: op.a, holder });
        }
        uniqueInTx.set(k, op.e);
      }
      if (op.op === 'add' && (s?.cardinality ?? 'one') === 'one') {
        const k = op.e + SEP + op.a;
        if (oneSeen.has(k)) return reject('sync/cardinality', `two values for cardinality-one :${op.a} of ${op.e} in one transaction`, { op: op.id, e: op.e, a: op.a });
        oneSeen.add(k);
      }
    }
    for (const c of env.checks ?? []) {
      const s = spec(c.a);
      if (s?.cardinality === 'many') return reject('sync/invalid-check', `cas on cardinality-many :${c.a}`, { e: c.e, a: c.a });
      const actual = this.value(c.e, c.a);
      if (wireKey(actual) !== wireKey(c.expected)) {
        return reject('sync/cas-failed', `cas failed on :${c.a} of ${c.e}: expected ${wireKey(c.expected)}, found ${wireKey(actual)}`, {
          e: c.e,
          a: c.a,
          expected: wireKey(c.expected),
          actual: wireKey(actual),
        });
      }
    }
    return { ok: true };
  }

  private apply(env: TxEnvelope): void {
    const ms = parseHlc(env.tx).ms;
    if (ms > this.maxMs) this.maxMs = ms;
    if (env.draft !== undefined) {
      let s = this.draftEntities.get(env.draft);
      if (!s) this.draftEntities.set(env.draft, (s = new Set()));
      for (const op of env.ops) s.add(op.e);
      return;
    }
    const schemaTouched = new Set<string>();
    env.ops.forEach((op, i) => {
      this.entities.add(op.e);
      const order = opOrder(op, i);
      if (op.op === 'retractEntity') {
        const t = this.tombs.get(op.e);
        if (t === undefined || order > t) this.tombs.set(op.e, order);
        if (this.identOf.has(op.e)) schemaTouched.add(op.e);
        return;
      }
      if (op.op === 'text' || op.a === undefined) return;
      const k = op.e + SEP + op.a;
      const r = this.regs.get(k);
      if (r && r.order > order) return;
      if (op.op === 'retract' && op.v !== undefined && r && wireKey(r.v) !== wireKey(op.v)) return; // retract of another value
      this.regs.set(k, { order, retracted: op.op === 'retract', v: op.op === 'add' ? op.v : undefined });
      const holders = this.uniqueHolders.get(op.a);
      if (holders) {
        if (r?.v !== undefined && holders.get(wireKey(r.v)) === op.e) holders.delete(wireKey(r.v));
        if (op.op === 'add') holders.set(wireKey(op.v), op.e);
      }
      if (SCHEMA_ATTRS.has(op.a)) schemaTouched.add(op.e);
    });
    for (const e of schemaTouched) this.refreshSchemaEntity(e);
  }

  private props(e: string): Map<string, WireValue | undefined> {
    const m = new Map<string, WireValue | undefined>();
    for (const a of SCHEMA_ATTRS) {
      const v = this.value(e, a);
      if (v !== null) m.set(a, v);
    }
    return m;
  }

  private refreshSchemaEntity(e: string): void {
    const old = this.identOf.get(e);
    if (old !== undefined) {
      this.schema.delete(old);
      this.identOf.delete(e);
    }
    const spec = specOf(this.props(e));
    if (spec) {
      this.schema.set(spec.ident, spec);
      this.identOf.set(e, spec.ident);
    }
    this.reindexUnique();
  }

  /** Keep {@link uniqueHolders} for exactly the `:db.unique/value` attributes (rebuilt on schema change). */
  private reindexUnique(): void {
    const want = new Set([...this.schema.values()].filter((x) => x.unique === 'value').map((x) => x.ident));
    for (const a of [...this.uniqueHolders.keys()]) if (!want.has(a)) this.uniqueHolders.delete(a);
    const missing = [...want].filter((a) => !this.uniqueHolders.has(a));
    if (missing.length === 0) return;
    for (const a of missing) this.uniqueHolders.set(a, new Map());
    for (const [k, r] of this.regs) {
      if (r.retracted || r.v === undefined) continue;
      const i = k.indexOf(SEP);
      const holders = this.uniqueHolders.get(k.slice(i + 1));
      if (holders && missing.includes(k.slice(i + 1))) holders.set(wireKey(r.v), k.slice(0, i));
    }
  }

  private schemaWith(local: Map<string, Map<string, WireValue | undefined>>): Map<string, AttrSpec> {
    const out = new Map<string, AttrSpec>();
    for (const [e, changes] of local) {
      const props = this.props(e);
      for (const [a, v] of changes) {
        if (v === undefined) props.delete(a);
        else props.set(a, v);
      }
      const spec = specOf(props);
      if (spec) out.set(spec.ident, spec);
    }
    return out;
  }
}

function reject(code: string, message: string, data?: Record<string, unknown>): Verdict {
  return { ok: false, code, message, data };
}

function kwOf(v: WireValue | undefined): string | null {
  return typeof v === 'object' && v !== null && 'kw' in v ? v.kw : null;
}

function specOf(props: Map<string, WireValue | undefined>): AttrSpec | null {
  const ident = kwOf(props.get('db/ident'));
  if (!ident) return null;
  const vt = kwOf(props.get('db/valueType'))?.replace(/^db\.type\//, '') ?? null;
  const card = kwOf(props.get('db/cardinality'));
  const uniq = kwOf(props.get('db/unique'));
  return {
    ident,
    valueType: vt && VALUE_TYPES.has(vt) ? (vt as AttrSpec['valueType']) : null,
    cardinality: card === 'db.cardinality/many' ? 'many' : 'one',
    unique: uniq === 'db.unique/identity' ? 'identity' : uniq === 'db.unique/value' ? 'value' : null,
    isComponent: props.get('db/isComponent') === true,
    index: props.get('db/index') === true,
  };
}

function checkSchemaOp(op: Op): Verdict | null {
  if (op.op === 'text') return reject('sync/schema-invalid', `text update on schema attribute :${op.a}`, { op: op.id });
  if (op.op === 'retract' || op.v === undefined) return null;
  const v = op.v;
  const kw = kwOf(v);
  const bad = (what: string) => reject('sync/schema-invalid', `invalid :${op.a} value ${wireKey(v)}: ${what}`, { op: op.id, a: op.a });
  switch (op.a) {
    case 'db/ident':
      return kw ? null : bad('expected a keyword');
    case 'db/valueType':
      return kw && VALUE_TYPES.has(kw.replace(/^db\.type\//, '')) && kw.startsWith('db.type/') ? null : bad('expected :db.type/…');
    case 'db/cardinality':
      return kw === 'db.cardinality/one' || kw === 'db.cardinality/many' ? null : bad('expected :db.cardinality/one or many');
    case 'db/unique':
      return kw === 'db.unique/identity' || kw === 'db.unique/value' ? null : bad('expected :db.unique/identity or value');
    case 'db/isComponent':
    case 'db/index':
    case 'db/noHistory':
      return typeof v === 'boolean' ? null : bad('expected a boolean');
    case 'db/doc':
      return typeof v === 'string' ? null : bad('expected a string');
    default:
      return null;
  }
}

function checkType(op: Op, type: AttrSpec['valueType']): Verdict | null {
  const v = op.v!;
  const isRef = typeof v === 'object' && 'ref' in v;
  const mismatch = (what: string) =>
    reject('sync/schema-mismatch', `value ${wireKey(v).slice(0, 80)} of :${op.a} is not ${what}`, { op: op.id, a: op.a, valueType: type });
  switch (type) {
    case null:
      return isRef ? mismatch('allowed: :' + op.a + ' is not a ref attribute') : null;
    case 'ref':
      return isRef ? null : mismatch('a ref');
    case 'string':
      return typeof v === 'string' ? null : mismatch('a string');
    case 'long':
    case 'bigint':
      return typeof v === 'number' && Number.isInteger(v) ? null : mismatch('an integer');
    case 'double':
    case 'number':
    case 'float':
    case 'bigdec':
      return typeof v === 'number' ? null : mismatch('a number');
    case 'boolean':
      return typeof v === 'boolean' ? null : mismatch('a boolean');
    case 'instant':
      return typeof v === 'object' && 'inst' in v ? null : mismatch('an instant');
    case 'keyword':
      return typeof v === 'object' && 'kw' in v ? null : mismatch('a keyword');
    case 'uuid':
      return typeof v === 'object' && 'uuid' in v ? null : mismatch('a uuid');
    case 'text':
      return op.op === 'retract' ? null : mismatch('a text update (use op "text")');
    default:
      return mismatch(`supported on the wire (${type})`);
  }
}
