import { valueKey, type ValueKey } from '../edn/key.js';
import type { Diff } from './shape.js';

/** A row as the engine emits it (an array, or a `Map` for `:keys` queries). */
type Row = unknown;

interface Slot {
  readonly key: ValueKey;
  readonly row: Row;
  count: number;
  /** Index in `slots`. */
  pos: number;
}

/**
 * A live query's rows kept up to date by applying diffs, with stable identities: the one cache of a
 * watched result on the thread that reads it (the client's mirrored views, the engine's views when
 * something reads their rows).
 *
 * Invariants:
 * - {@link snapshot} is a new array exactly when the multiset of rows changed; a batch whose net
 *   effect is nothing (a row added and removed, an unrelated transaction) keeps the same array.
 * - An unchanged row keeps its array identity across snapshots (safe for `React.memo`).
 * - Order is arrival order, except that a row added in the same batch as a removal takes the
 *   removed row's place, so an aggregate's `-old/+new` pair updates in place.
 * - Rows of a bag result (`:with`, aggregates) appear as many times as their multiplicity.
 */
export class RowSet {
  private slots: Array<Slot | null> = [];
  private readonly index = new Map<ValueKey, Slot>();
  private current: readonly Row[] = Object.freeze([]);
  /** Number of slots with a count above 1 (bag rows). */
  private multi = 0;

  constructor(initial: Iterable<Row> = []) {
    for (const row of initial) {
      const key = valueKey(row);
      const slot = this.index.get(key);
      if (slot) this.setCount(slot, slot.count + 1);
      else {
        const s: Slot = { key, row, count: 1, pos: this.slots.length };
        this.index.set(key, s);
        this.slots.push(s);
      }
    }
    this.rebuild();
  }

  /** The current rows; identity changes only when they change. */
  get snapshot(): readonly Row[] {
    return this.current;
  }

  /** Applies one transaction's diffs; returns whether the snapshot changed. */
  apply(diffs: readonly Diff[]): boolean {
    if (diffs.length === 0) return false;
    // Net effect per tuple.
    const net = new Map<ValueKey, { row: Row; delta: number }>();
    for (const [row, , mult] of diffs) {
      const key = valueKey(row);
      const e = net.get(key);
      if (e) e.delta += mult;
      else net.set(key, { row, delta: mult });
    }
    const simple = this.multi === 0; // snapshot index === slot index before this batch
    let changed = false;
    const freed: number[] = [];
    const touched: number[] = [];
    const added: Array<{ key: ValueKey; row: Row; delta: number }> = [];
    for (const [key, { row, delta }] of net) {
      if (delta === 0) continue;
      const slot = this.index.get(key);
      if (delta > 0) {
        if (slot) {
          this.setCount(slot, slot.count + delta);
          changed = true;
        } else added.push({ key, row, delta });
        continue;
      }
      if (!slot) continue; // removing what is not there: nothing to do
      changed = true;
      this.setCount(slot, slot.count + delta);
      if (slot.count <= 0) {
        this.index.delete(key);
        this.slots[slot.pos] = null;
        freed.push(slot.pos);
      }
    }
    freed.sort((a, b) => a - b);
    let f = 0;
    for (const { key, row, delta } of added) {
      changed = true;
      const pos = f < freed.length ? freed[f++]! : this.slots.length;
      const s: Slot = { key, row, count: 0, pos };
      this.setCount(s, delta);
      this.index.set(key, s);
      this.slots[pos] = s;
      touched.push(pos);
    }
    if (!changed) return false;
    if (freed.length > f) {
      this.slots = this.slots.filter((s) => s !== null);
      this.slots.forEach((s, i) => (s!.pos = i));
      this.rebuild();
    } else if (simple && this.multi === 0) {
      // Fast path: every row once, no holes: patch a copy of the previous snapshot.
      const rows = this.current.slice();
      touched.sort((a, b) => a - b);
      for (const pos of touched) rows[pos] = this.slots[pos]!.row;
      this.current = rows;
    } else {
      this.rebuild();
    }
    return true;
  }

  private setCount(slot: Slot, count: number): void {
    if (slot.count > 1 && count <= 1) this.multi--;
    else if (slot.count <= 1 && count > 1) this.multi++;
    slot.count = count;
  }

  private rebuild(): void {
    this.current = this.fromSlots();
  }

  /** @internal the rows as a full rebuild would give them (tests compare the fast path with it). */
  fromSlots(): Row[] {
    const rows: Row[] = [];
    for (const s of this.slots) {
      if (s === null) continue;
      for (let i = 0; i < s.count; i++) rows.push(s.row);
    }
    return rows;
  }
}
