/**
 * Envelopes cut down to what one user may read. An op is readable when the user may read its
 * entity (`can-read`) or that attribute of it (`can-read-attr`); schema ops (`db/*`) are public;
 * the draft entity's own attributes (`draft/*`) follow the draft's visibility; inside a draft, an
 * entity the committed database does not hold yet (made in the draft) follows the draft's
 * visibility too. A `cas` check travels only with a readable `(e, a)`.
 *
 * A cut envelope keeps its ops' ids (`<tx>/<i>`, ascending, with gaps): clients check received
 * envelopes with `checkEnvelope(…, { partial: true })` and merge the ops as they are, so what a
 * user holds of an entity converges with everyone else's.
 */
import { type GlobalId, type Op, type TxEnvelope } from '@dataloom/core';
import { MergeState, SCHEMA_ATTRS, replicaOfTx, type TranslateState } from '@dataloom/core/internals';
import type { UserReadable } from './readable.js';

export class EntryFilter {
  /** The connection's scopes (null: none, everything readable goes). */
  inScope: ((e: GlobalId) => boolean) | null = null;

  constructor(
    /** What the user may read (null: no read rules, everything). */
    private readonly sets: UserReadable | null,
    private readonly merged: () => MergeState,
    private readonly canSeeDraft: (draft: GlobalId) => boolean,
  ) {}

  /** Whether the user may read `op` (of a draft envelope when `draft` is set). */
  reads(op: Pick<Op, 'e' | 'a'>, draft?: string): boolean {
    const a = op.a;
    if (a !== undefined) {
      if (SCHEMA_ATTRS.has(a)) return true;
      if (a.startsWith('draft/')) return this.canSeeDraft(op.e);
    }
    const m = this.merged();
    const e = m.rep(op.e);
    if ((this.sets === null || this.sets.reads(e, a)) && (this.inScope === null || this.inScope(e))) return true;
    return draft !== undefined && !m.hasEntity(op.e) && this.canSeeDraft(draft);
  }

  /**
   * The merged state as this user's own replica would hold it, for translating a transaction
   * written as the user (`server.transact(tx, { as })`): lookup refs, identity upserts, current
   * values (`cas`, retractions) and text see only what the user may read, so the write resolves as
   * a push of the user's client would — an identity value held by an unreadable entity reaches the
   * judge as a new entity's and is refused there (`writable.ts`), as a push is.
   */
  translateState(): TranslateState {
    const m = this.merged();
    const blank = new MergeState(m.schema);
    return {
      schema: m.schema,
      lookup: (a, v) => {
        const h = m.lookup(a, v);
        return h !== null && this.reads({ e: h, a }) ? h : null;
      },
      rep: (e) => (this.reads({ e, a: undefined }) ? m.rep(e) : e),
      values: (e, a) => (this.reads({ e, a }) ? m.values(e, a) : []),
      members: (e) => (this.reads({ e, a: undefined }) ? m.members(e) : [e]),
      textDoc: (e, a) => (this.reads({ e, a }) ? m : blank).textDoc(e, a),
    };
  }

  /** The envelope as this user may receive it (its stored `json` when whole), or null. */
  json(env: TxEnvelope, json: string): string | null {
    const cut = this.cut(env);
    return cut === env ? json : cut === null ? null : JSON.stringify(cut);
  }

  /** `env` itself when every op is readable, the readable part, or null when none is. */
  cut(env: TxEnvelope): TxEnvelope | null {
    const ops = env.ops.filter((o) => this.reads(o, env.draft));
    const checks = env.checks?.filter((c) => this.reads(c, env.draft));
    if (ops.length === env.ops.length && checks?.length === env.checks?.length) return env;
    if (ops.length === 0) return null;
    const out: TxEnvelope = { tx: env.tx, replica: env.replica, ops };
    if (checks?.length) out.checks = checks;
    if (env.draft !== undefined) out.draft = env.draft;
    return out;
  }

  /** The ops the merged state holds for `keys` (entities, `e\0a` attributes) that the user may read now. */
  stateOps(keys: Iterable<string>): Op[] {
    const m = this.merged();
    const seen = new Set<string>();
    const out: Op[] = [];
    for (const k of keys) {
      const i = k.indexOf('\u0000');
      const e = i < 0 ? k : k.slice(0, i);
      const a = i < 0 ? undefined : k.slice(i + 1);
      for (const member of m.members(e)) {
        for (const op of m.opsOf(member)) {
          if (seen.has(op.id) || (a !== undefined && op.a !== a) || !this.reads(op)) continue;
          seen.add(op.id);
          out.push(op);
        }
      }
    }
    return out;
  }

  /** The `drop` message body for keys no longer readable (those still unreadable now), or null. */
  dropOf(lost: Iterable<string>): { es: GlobalId[]; attrs: Array<[GlobalId, string]> } | null {
    const es: GlobalId[] = [];
    const attrs: Array<[GlobalId, string]> = [];
    for (const k of lost) {
      const i = k.indexOf('\u0000');
      if (i < 0) {
        if (!this.reads({ e: k, a: undefined })) es.push(k);
      } else {
        const e = k.slice(0, i);
        const a = k.slice(i + 1);
        if (!this.reads({ e, a })) attrs.push([e, a]);
      }
    }
    return es.length || attrs.length ? { es, attrs } : null;
  }
}

/** Ops regrouped into envelopes by transaction, ops in id order (ids keep their indices). */
export function envelopesOf(ops: readonly Op[]): TxEnvelope[] {
  const byTx = new Map<string, Op[]>();
  for (const op of ops) {
    const l = byTx.get(op.tx);
    if (l) l.push(op);
    else byTx.set(op.tx, [op]);
  }
  const index = (op: Op) => Number(op.id.slice(op.id.lastIndexOf('/') + 1));
  return [...byTx.keys()].sort().map((tx) => ({ tx, replica: replicaOfTx(tx), ops: byTx.get(tx)!.sort((x, y) => index(x) - index(y)) }));
}

/** The current state of `keys` the user may read, as envelopes. */
export function stateEnvelopes(f: EntryFilter, keys: Iterable<string>): TxEnvelope[] {
  return envelopesOf(f.stateOps(keys));
}

/**
 * A rejection without what it says of datoms the user may not read: a failed `cas` on an
 * unreadable `(e, a)` does not say the value found; a `:db.unique/value` clash does not name
 * holders the user may not read (that the value is taken is the rule itself).
 */
export function redactRejection<R extends { code: string; message: string; data?: Record<string, unknown> }>(r: R, f: EntryFilter): R {
  const d = r.data ?? {};
  if (r.code === 'sync/cas-failed' && typeof d['e'] === 'string' && typeof d['a'] === 'string' && !f.reads({ e: d['e'], a: d['a'] })) {
    return { ...r, message: `cas failed on :${d['a']} of ${d['e']}`, data: { e: d['e'], a: d['a'], expected: d['expected'] } };
  }
  if (r.code === 'sync/unique' && typeof d['holders'] === 'string' && typeof d['a'] === 'string') {
    const a = d['a'];
    const holders = d['holders'].split(' ').filter((e) => e && f.reads({ e, a }));
    return { ...r, data: { a, holders: holders.join(' ') } };
  }
  return r;
}
