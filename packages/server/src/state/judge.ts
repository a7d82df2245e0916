/**
 * The server's checks of one envelope against a committed state, beyond the envelope rules
 * (which every replica applies too): value types, `text` ops only on text attributes, refs to
 * known entities, one value per cardinality-one `(e, a)` in a transaction, reserved attributes,
 * valid schema values, and `cas` preconditions. Pure functions over a {@link MergeState} — the
 * same merge code and schema reader the replicas run. Uniqueness is judged after applying (see
 * `unique-index.ts`).
 */
import { type GlobalId, type Op, type TxEnvelope, type WireValue } from '@dataloom/core';
import {
  SCHEMA_ATTRS,
  schemaValueError,
  wireValueHasType,
  wireValueKey,
  type MergeSchema,
  type MergeState,
} from '@dataloom/core/internals';
import type { Verdict } from '../storage/types.js';

export function reject(code: string, message: string, data?: Record<string, unknown>): Verdict {
  return { ok: false, code, message, data };
}

function show(v: WireValue | null | undefined): string {
  return v === undefined || v === null ? 'nil' : JSON.stringify(v).slice(0, 80);
}

/** Values of schema attributes must be valid schema values (`sync/schema-invalid`). */
export function checkSchemaValues(env: TxEnvelope): Verdict | null {
  for (const op of env.ops) {
    if (op.a === undefined || !SCHEMA_ATTRS.has(op.a)) continue;
    if (op.op === 'text') return reject('sync/schema-invalid', `text update on schema attribute :${op.a}`, { op: op.id });
    if (op.op !== 'add' || op.v === undefined) continue;
    const why = schemaValueError(op.a, op.v);
    if (why !== null) return reject('sync/schema-invalid', `invalid :${op.a} value ${show(op.v)}: ${why}`, { op: op.id, a: op.a });
  }
  return null;
}

/**
 * Data ops against `schema`: reserved `db/*` attributes, value types, `text` ops, refs (the target
 * must be known to `known` or made by this transaction), one asserted value per cardinality-one
 * `(e, a)` in the transaction.
 */
export function checkData(env: TxEnvelope, schema: MergeSchema, known: (e: GlobalId) => boolean): Verdict | null {
  const created = new Set<GlobalId>();
  for (const op of env.ops) created.add(op.e);
  const oneSeen = new Set<string>();
  for (const op of env.ops) {
    if (op.op === 'retractEntity' || op.a === undefined || SCHEMA_ATTRS.has(op.a)) continue;
    if (op.a.startsWith('db/')) return reject('sync/schema-mismatch', `attribute :${op.a} is reserved`, { op: op.id, a: op.a });
    const s = schema.get(op.a);
    const type = s.valueType;
    if (op.op === 'text') {
      if (type !== 'text') return reject('sync/schema-mismatch', `text update on :${op.a}, which is not :db.type/text`, { op: op.id, a: op.a });
      continue;
    }
    if (op.v === undefined) continue; // retract of the (e, a) value
    if (type === 'text') {
      if (op.op === 'add') return reject('sync/schema-mismatch', `value ${show(op.v)} of :${op.a} is not a text update (use op "text")`, { op: op.id, a: op.a, valueType: type });
    } else if (!wireValueHasType(op.v, type)) {
      const what = type === null ? `allowed: :${op.a} is not a ref attribute` : `a :db.type/${type}`;
      return reject('sync/schema-mismatch', `value ${show(op.v)} of :${op.a} is not ${what}`, { op: op.id, a: op.a, valueType: type });
    }
    if (type === 'ref') {
      const target = (op.v as { ref: GlobalId }).ref;
      if (!known(target) && !created.has(target)) return reject('sync/unknown-ref', `:${op.a} refers to unknown entity ${target}`, { op: op.id, a: op.a, ref: target });
    }
    if (op.op === 'add' && !s.many) {
      const k = op.e + '\u0000' + op.a;
      if (oneSeen.has(k)) return reject('sync/cardinality', `two values for cardinality-one :${op.a} of ${op.e} in one transaction`, { op: op.id, e: op.e, a: op.a });
      oneSeen.add(k);
    }
  }
  return null;
}

/** `cas` checks against the state before the transaction: the value of `(e, a)` must equal `expected` (null: none). */
export function checkCas(env: TxEnvelope, state: MergeState): Verdict | null {
  for (const c of env.checks ?? []) {
    if (state.schema.get(c.a).many) return reject('sync/invalid-check', `cas on cardinality-many :${c.a}`, { e: c.e, a: c.a });
    const actual = state.values(c.e, c.a)[0] ?? null;
    const same = actual === null || c.expected === null ? actual === c.expected : wireValueKey(actual) === wireValueKey(c.expected);
    if (!same) {
      return reject('sync/cas-failed', `cas failed on :${c.a} of ${c.e}: expected ${show(c.expected)}, found ${show(actual)}`, {
        e: c.e,
        a: c.a,
        expected: show(c.expected),
        actual: show(actual),
      });
    }
  }
  return null;
}

/**
 * The entities `env`'s `:db.unique/identity` values already belong to in `state` (other than the
 * op's own entity): the transaction would merge into them (an upsert). Representatives, once each.
 */
export function upsertTargets(env: TxEnvelope, state: MergeState): Array<{ a: string; e: GlobalId }> {
  const out: Array<{ a: string; e: GlobalId }> = [];
  const seen = new Set<GlobalId>();
  for (const op of env.ops) {
    if (op.op !== 'add' || op.a === undefined || op.v === undefined || !state.schema.get(op.a).identity) continue;
    const holder = state.lookup(op.a, op.v);
    if (holder === null) continue;
    const e = state.rep(holder);
    if (e === state.rep(op.e) || seen.has(e)) continue;
    seen.add(e);
    out.push({ a: op.a, e });
  }
  return out;
}

/** Whether an op writes schema as data (or could retract a schema entity). */
export function touchesSchema(op: Op, schemaEntities: ReadonlySet<GlobalId>): boolean {
  return (op.a !== undefined && SCHEMA_ATTRS.has(op.a)) || (op.op === 'retractEntity' && schemaEntities.has(op.e));
}
