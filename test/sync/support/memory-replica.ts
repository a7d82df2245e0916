/**
 * A minimal in-memory {@link SyncTarget} for sync tests: an op set, an outbox, a cursor and an
 * HLC. Its state is materialized with {@link materialize} (plain LWW per DESIGN.md, enough to
 * compare replicas), and it keeps the SyncTarget invariants the sync client relies on
 * (outbox order, idempotent applyRemote, reject = remove ops, cursor stored with the ops).
 *
 * `localTransact` takes test ops directly: `{ ops: [{ op, e, a?, v? }], checks? }`.
 */
import { type Op, type TxEnvelope, type WireValue } from '@dataloom/core';
import { HlcClock } from '@dataloom/core/internals';
import type { LocalTxResult, ReplicaEventMap, ReplicaEventName, ServerCursor, SyncTarget, WireError } from '../../../packages/client/src/replica/types.js';

export interface TestTx {
  ops: Array<{ op: Op['op']; e: string; a?: string; v?: WireValue }>;
  checks?: TxEnvelope['checks'];
}

export class MemoryReplica implements SyncTarget {
  readonly ready = Promise.resolve();
  readonly ops = new Map<string, Op>();
  private box: TxEnvelope[] = [];
  private cur: ServerCursor | null = null;
  readonly clock: HlcClock;
  private readonly listeners = new Map<string, Set<(p: never) => void>>();
  readonly rejected: Array<{ tx: string; error: WireError }> = [];
  readonly acked = new Map<string, string>();
  private entityCounter = 0;

  constructor(readonly replicaId: string, now?: () => number) {
    this.clock = new HlcClock(replicaId, { now, maxDriftMs: 10 * 60_000 });
  }

  newEntity(): string {
    return `${this.replicaId}.${(this.entityCounter++).toString(36)}`;
  }

  async localTransact(txData: unknown): Promise<LocalTxResult> {
    const t = txData as TestTx;
    const tx = this.clock.nowString();
    const ops: Op[] = t.ops.map((o, i) => ({ id: `${tx}/${i}`, tx, e: o.e, op: o.op, ...(o.a !== undefined ? { a: o.a } : {}), ...(o.v !== undefined ? { v: o.v } : {}) }));
    const envelope: TxEnvelope = { tx, replica: this.replicaId, ops, ...(t.checks ? { checks: t.checks } : {}) };
    this.box.push(envelope);
    for (const op of ops) this.ops.set(op.id, op);
    this.emit('change', { origin: 'local', txs: [tx] });
    return { tx, envelope, tempids: {} };
  }

  outbox(): TxEnvelope[] {
    return this.box.slice();
  }

  async ack(tx: string, cursor?: ServerCursor | null): Promise<void> {
    const before = this.box.length;
    this.box = this.box.filter((e) => e.tx !== tx);
    if (this.box.length !== before) {
      this.acked.set(tx, cursor ?? '');
      this.emit('acked', { tx, cursor: cursor ?? null });
    }
  }

  async reject(tx: string, error: WireError): Promise<void> {
    const env = this.box.find((e) => e.tx === tx);
    if (!env) return;
    this.box = this.box.filter((e) => e.tx !== tx);
    for (const op of env.ops) this.ops.delete(op.id);
    this.rejected.push({ tx, error });
    this.emit('rejected', { tx, envelope: env, error });
    this.emit('change', { origin: 'rollback', txs: [tx] });
  }

  async applyRemote(envelopes: readonly TxEnvelope[], cursor: ServerCursor | null): Promise<void> {
    for (const env of envelopes) {
      if (env.draft) continue;
      try {
        this.clock.receive(env.tx);
      } catch {
        /* drift: merged, clock not adopted */
      }
      for (const op of env.ops) this.ops.set(op.id, op);
    }
    // Messages of one connection arrive in order, so the cursor only moves forward — except when
    // the server restarted the stream on another log, which the opaque cursor's log id shows.
    if (cursor !== null) this.cur = cursor;
    if (envelopes.length) this.emit('change', { origin: 'remote', txs: envelopes.map((e) => e.tx) });
  }

  cursor(): ServerCursor | null {
    return this.cur;
  }

  on<K extends ReplicaEventName>(event: K, fn: (payload: ReplicaEventMap[K]) => void) {
    let s = this.listeners.get(event);
    if (!s) this.listeners.set(event, (s = new Set()));
    s.add(fn as (p: never) => void);
    return () => void s!.delete(fn as (p: never) => void);
  }

  private emit<K extends ReplicaEventName>(event: K, payload: ReplicaEventMap[K]): void {
    for (const fn of this.listeners.get(event) ?? []) (fn as (p: ReplicaEventMap[K]) => void)(payload);
  }

  /** Canonical encoding of the materialized state. */
  snapshot(): string {
    return materialize(this.ops.values());
  }

  /** Current value of a cardinality-one attribute (LWW). */
  value(e: string, a: string): WireValue | null {
    let best: Op | null = null;
    let tomb = '';
    for (const op of this.ops.values()) {
      if (op.e !== e) continue;
      if (op.op === 'retractEntity' && op.id > tomb) tomb = op.id;
      if (op.a === a && (op.op === 'add' || op.op === 'retract') && (!best || opKey(op) > opKey(best))) best = op;
    }
    if (!best || best.op === 'retract' || (tomb && tomb > best.id)) return null;
    return best.v ?? null;
  }
}

function opKey(op: Op): string {
  const [tx, i] = [op.tx, Number(op.id.slice(op.tx.length + 1))];
  return tx + '/' + i.toString(36).padStart(4, '0');
}

/**
 * Materialize a set of ops into a canonical string: cardinality-one LWW per (e, a) for attributes
 * not listed in `many`, per-value LWW for `many`, retractEntity hiding older ops. Independent of
 * op order by construction (sorted by op key).
 */
export function materialize(ops: Iterable<Op>, many: ReadonlySet<string> = new Set(['item/tags'])): string {
  const sorted = [...ops].filter((o) => o).sort((x, y) => (opKey(x) < opKey(y) ? -1 : opKey(x) > opKey(y) ? 1 : 0));
  const tomb = new Map<string, string>();
  for (const op of sorted) if (op.op === 'retractEntity') tomb.set(op.e, opKey(op));
  const regs = new Map<string, WireValue | null>();
  for (const op of sorted) {
    if (op.op !== 'add' && op.op !== 'retract') continue;
    const t = tomb.get(op.e);
    if (t !== undefined && t > opKey(op)) continue;
    const vk = JSON.stringify(op.v ?? null);
    if (many.has(op.a!)) {
      if (op.op === 'retract' && op.v === undefined) {
        for (const k of [...regs.keys()]) if (k.startsWith(`${op.e}|${op.a}|`)) regs.set(k, null);
      } else regs.set(`${op.e}|${op.a}|${vk}`, op.op === 'add' ? op.v! : null);
    } else {
      const k = `${op.e}|${op.a}`;
      if (op.op === 'retract' && op.v !== undefined && JSON.stringify(regs.get(k) ?? null) !== vk) continue;
      regs.set(k, op.op === 'add' ? op.v! : null);
    }
  }
  return JSON.stringify([...regs].filter(([, v]) => v !== null).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
