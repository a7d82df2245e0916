/**
 * Ops as a {@link MergeState} keeps them: one small record per op ({@link OpRec}) holding its
 * stamp, entity, attribute and value, with the op's kind and index in its transaction packed in
 * one number and no id string (the id `${tx}/${index}` is derived when asked for), and the table
 * that finds a record by id ({@link OpTable}: per transaction, records by index). Wire ops
 * ({@link Op}) are made again from records when the state hands ops out.
 */
import type { GlobalId, HlcString, Op, WireValue } from './types.js';

const KINDS: ReadonlyArray<Op['op']> = ['add', 'retract', 'retractEntity', 'text'];
const KIND_OF: Readonly<Record<Op['op'], number>> = { add: 0, retract: 1, retractEntity: 2, text: 3 };
/** Greatest index packed into {@link OpRec.k}; ops of a later index keep their id (rare). */
const MAX_INDEX = 2 ** 27;
/** Ids of records whose id is not `${tx}/${index}` (ops not from a checked envelope). */
const ODD_IDS = new WeakMap<OpRec, string>();

export class OpRec {
  constructor(
    readonly tx: HlcString,
    readonly e: GlobalId,
    readonly a: string | undefined,
    readonly v: WireValue | undefined,
    /** `index * 4 + kind` when the id is `${tx}/${index}`, else `-1 - kind` (id in `ODD_IDS`). */
    readonly k: number,
  ) {}

  get op(): Op['op'] {
    return KINDS[this.k >= 0 ? this.k % 4 : -1 - this.k]!;
  }

  /** The op id (a new string each time unless odd: compare records with {@link idCmp}). */
  get id(): string {
    return this.k >= 0 ? this.tx + '/' + (this.k - (this.k % 4)) / 4 : ODD_IDS.get(this)!;
  }

  /** The wire op (a new object; `a` and `v` present only when set, as ops are written). */
  toOp(): Op {
    const o: Op = { id: this.id, tx: this.tx, e: this.e, op: this.op };
    if (this.a !== undefined) o.a = this.a;
    if (this.v !== undefined) o.v = this.v;
    return o;
  }
}

/** Index `n` of a canonical id `${tx}/${n}` whose `/` is at `slash`, or -1. */
function indexAt(id: string, slash: number): number {
  const len = id.length - slash - 1;
  if (len < 1 || len > 9) return -1;
  let n = 0;
  for (let i = slash + 1; i < id.length; i++) {
    const c = id.charCodeAt(i) - 48;
    if (c < 0 || c > 9 || (c === 0 && i === slash + 1 && len > 1)) return -1;
    n = n * 10 + c;
  }
  return n < MAX_INDEX ? n : -1;
}

/**
 * Op id order (`a.id` vs `b.id` as strings) without making the ids: within a transaction the
 * indexes compare as strings; across transactions the stamps decide unless one stamp is a prefix
 * of the other (then the ids are made and compared).
 */
export function idCmp(a: OpRec, b: OpRec): number {
  if (a === b) return 0;
  if (a.k >= 0 && b.k >= 0) {
    if (a.tx === b.tx) {
      const x = String((a.k - (a.k % 4)) / 4), y = String((b.k - (b.k % 4)) / 4);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.tx.length === b.tx.length || !(a.tx.startsWith(b.tx) || b.tx.startsWith(a.tx))) return a.tx < b.tx ? -1 : 1;
  }
  const x = a.id, y = b.id;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Whether `a`'s id is greater than `b`'s (`b` null: true). */
export function later(a: OpRec, b: OpRec | null): boolean {
  return b === null || idCmp(a, b) > 0;
}

/** The op records held, found by id. */
export class OpTable {
  /**
   * Transaction → its records by index (holes for indexes not held; never empty, and the last
   * element is always set, so it gives the transaction's stamp string).
   */
  private readonly txs = new Map<HlcString, Array<OpRec | undefined>>();
  private readonly odd = new Map<string, OpRec>();
  size = 0;

  get(id: string): OpRec | undefined {
    if (this.odd.size) {
      const r = this.odd.get(id);
      if (r !== undefined) return r;
    }
    const slash = id.lastIndexOf('/');
    if (slash < 0) return undefined;
    const n = indexAt(id, slash);
    if (n < 0) return undefined;
    return this.txs.get(id.slice(0, slash))?.[n];
  }

  /**
   * The record of wire op `op` on entity `e` (`e` equal to `op.e`: the entity record's own
   * string, so ids are held once), added; null when its id is already held.
   */
  add(op: Op, e: GlobalId): OpRec | null {
    const kind = KIND_OF[op.op];
    const id = op.id, tx = op.tx;
    const n = id.length > tx.length + 1 && id.charCodeAt(tx.length) === 47 && id.startsWith(tx) ? indexAt(id, tx.length) : -1;
    if (n < 0 || this.odd.size) if (this.get(id) !== undefined) return null;
    if (n < 0) {
      const r = new OpRec(tx, e, op.a, op.v, -1 - kind);
      ODD_IDS.set(r, id);
      this.odd.set(id, r);
      this.size++;
      return r;
    }
    let t = this.txs.get(tx);
    if (t === undefined) {
      const r = new OpRec(tx, e, op.a, op.v, n * 4 + kind);
      if (n === 0) t = [r];
      else {
        t = [];
        t[n] = r;
      }
      this.txs.set(tx, t);
      this.size++;
      return r;
    }
    if (t[n] !== undefined) return null;
    const r = new OpRec(t[t.length - 1]!.tx, e, op.a, op.v, n * 4 + kind);
    t[n] = r;
    this.size++;
    return r;
  }

  delete(r: OpRec): void {
    if (r.k < 0) {
      this.odd.delete(ODD_IDS.get(r)!);
    } else {
      const t = this.txs.get(r.tx)!;
      t[(r.k - (r.k % 4)) / 4] = undefined;
      while (t.length > 0 && t[t.length - 1] === undefined) t.pop();
      if (t.length === 0) this.txs.delete(r.tx);
    }
    this.size--;
  }

  *values(): IterableIterator<OpRec> {
    for (const t of this.txs.values()) for (const r of t) if (r !== undefined) yield r;
    yield* this.odd.values();
  }

  /** Gives every transaction's list exactly its length (lists grown op by op keep spare room). */
  trim(): void {
    for (const [tx, t] of this.txs) this.txs.set(tx, t.slice());
  }
}
