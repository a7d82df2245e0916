/**
 * A seeded random workload for the checkpoint tests (checkpoint.test.ts, checkpoint-child.ts):
 * envelopes over a small schema with a unique value, a cardinality-many attribute, refs and a
 * component, retractions and retractEntity, drafts and draft-entity-only writes, and a schema
 * change mid-way; plus what a state looks like to compare two of them.
 */
import { draftSchema, type Op, type TxEnvelope, type WireValue } from '@dataloom/core';
import { attrEntityId, schemaAsData, wireValueKey } from '@dataloom/core/internals';
import { pick } from '../../gen/prng.js';
import type { ServerState } from '../../../packages/server/src/state/server-state.js';

export const CP_SCHEMA = {
  ...draftSchema,
  ':p/name': { ':db/valueType': ':db.type/string' },
  ':p/email': { ':db/valueType': ':db.type/string', ':db/unique': ':db.unique/value' },
  ':p/tags': { ':db/valueType': ':db.type/string', ':db/cardinality': ':db.cardinality/many' },
  ':p/friend': { ':db/valueType': ':db.type/ref', ':db/cardinality': ':db.cardinality/many' },
  ':p/part': { ':db/valueType': ':db.type/ref', ':db/isComponent': true },
};
export const CP_SCHEMA_DATA = schemaAsData(CP_SCHEMA);

/** Makes envelopes of replica `replica` with stamps rising from `ms`. */
export class Workload {
  private c = 0;
  private readonly ents: string[];
  private readonly drafts: string[];
  constructor(
    private readonly rnd: () => number,
    private readonly replica: string,
    private ms: number,
    entities = 14,
  ) {
    this.ents = Array.from({ length: entities }, (_, i) => `${replica}.e${i}`);
    this.drafts = Array.from({ length: 3 }, (_, i) => `${replica}.d${i}`);
  }

  private stamp(): string {
    this.ms += 1 + Math.floor(this.rnd() * 3);
    return `${this.ms.toString(36).padStart(12, '0')}-${(this.c++ % 1000).toString(36).padStart(4, '0')}-${this.replica}`;
  }

  private env(ops: Array<Omit<Op, 'id' | 'tx'>>, draft?: string): TxEnvelope {
    const tx = this.stamp();
    return { tx, replica: this.replica, ops: ops.map((o, i) => ({ ...o, id: `${tx}/${i}`, tx })), ...(draft ? { draft } : {}) };
  }

  /** A schema change: a new attribute (no history needed). */
  schemaChange(n: number): TxEnvelope {
    const ident = `p/extra${n}`;
    const e = attrEntityId(ident);
    return this.env([
      { e, op: 'add', a: 'db/ident', v: { kw: ident } },
      { e, op: 'add', a: 'db/valueType', v: { kw: 'db.type/long' } },
    ]);
  }

  /** A schema change that needs the history: the attribute defined by entity `e` made cardinality many. */
  makeMany(e: string): TxEnvelope {
    return this.env([{ e, op: 'add', a: 'db/cardinality', v: { kw: 'db.cardinality/many' } }]);
  }

  /** Opens draft `draft` (a draft-entity-only write). */
  openDraft(draft: string): TxEnvelope {
    return this.env([{ e: draft, op: 'add', a: 'draft/status', v: { kw: 'draft.status/open' } }]);
  }

  /** A transaction in draft `draft`. */
  inDraft(draft: string): TxEnvelope {
    return this.env([{ e: pick(this.rnd, this.ents), op: 'add', a: 'p/name', v: `draft n${Math.floor(this.rnd() * 9)}` }], draft);
  }

  /**
   * A closing of `draft` covering its stamps up to `upTo`: a commit (a net effect with it, as
   * `draft.commit()` sends) or a discard (draft-entity-only). `before`: the closing stamp it replaces.
   */
  close(draft: string, upTo: string, commit: boolean, before?: string): TxEnvelope {
    const ops: Array<Omit<Op, 'id' | 'tx'>> = commit ? [{ e: pick(this.rnd, this.ents), op: 'add', a: 'p/name', v: 'committed' }] : [];
    ops.push({ e: draft, op: 'add', a: 'draft/closed', v: upTo });
    if (before !== undefined) ops.push({ e: draft, op: 'retract', a: 'draft/closed', v: before });
    ops.push({ e: draft, op: 'add', a: 'draft/status', v: { kw: commit ? 'draft.status/committed' : 'draft.status/discarded' } });
    return this.env(ops);
  }

  next(): TxEnvelope {
    const r = this.rnd();
    const e = pick(this.rnd, this.ents);
    const other = pick(this.rnd, this.ents);
    const word = (): string => pick(this.rnd, ['a', 'b', 'c', 'd']);
    if (r < 0.08) return this.env([{ e: pick(this.rnd, this.drafts), op: 'add', a: 'draft/status', v: { kw: 'draft.status/open' } }]);
    if (r < 0.16) return this.env([{ e, op: 'add', a: 'p/name', v: `draft ${word()}` }], pick(this.rnd, this.drafts));
    if (r < 0.22) return this.env([{ e, op: 'retractEntity' }]);
    if (r < 0.3) return this.env([{ e, op: 'add', a: 'p/email', v: `${word()}@x` }]);
    if (r < 0.4) return this.env([{ e, op: 'add', a: 'p/tags', v: word() }, { e, op: 'add', a: 'p/name', v: `n${Math.floor(this.rnd() * 9)}` }]);
    if (r < 0.48) return this.env([{ e, op: 'retract', a: 'p/tags', v: word() }]);
    if (r < 0.56) return this.env([{ e, op: 'retract', a: 'p/name' }]);
    if (r < 0.66) return this.env([{ e, op: 'add', a: 'p/friend', v: { ref: other } }]);
    if (r < 0.72) return this.env([{ e: other, op: 'add', a: 'p/name', v: 'part' }, { e, op: 'add', a: 'p/part', v: { ref: other } }]);
    return this.env([{ e, op: 'add', a: 'p/name', v: `n${Math.floor(this.rnd() * 9)}` }]);
  }
}

/** What must be equal between two states of the same log: head, highest stamp, schema and the visible datoms. */
export function stateShape(s: ServerState): { head: number; maxMs: number; schema: Array<[string, unknown]>; datoms: string[] } {
  const datoms = [...s.merged.datoms()].map((d) => JSON.stringify([d.e, d.a, wireValueKey(d.v as WireValue), d.tx])).sort();
  const schema = [...s.schema.entries()].map(([a, m]) => [a, { ...m }] as [string, unknown]).sort((x, y) => (x[0] < y[0] ? -1 : 1));
  return { head: s.head, maxMs: s.maxMs, schema, datoms };
}
