/**
 * A connection's scopes (`scope` messages): the union of the entities of its scope queries (and
 * of what their pull patterns reach, `pull-reach.ts`), followed by the server's engine (`ReadEngine.watchEntities`), with a count per entity so one
 * leaving a query stays while another query still holds it. Without scopes (null) a connection
 * receives everything its user may read.
 */
import type { GlobalId } from '@dataloom/core';
import type { Scope } from '@dataloom/protocol';
import type { ReadEngine, UserReadable } from './readable.js';

export class ConnectionScope {
  private readonly counts = new Map<GlobalId, number>();
  private handles: Array<{ close(): void }> = [];

  /** `changed(entered, left)` when entities enter or leave the union after a transaction. */
  constructor(
    private readonly engine: ReadEngine,
    private readonly changed: (entered: GlobalId[], left: GlobalId[]) => void,
    /** Under read rules, the user whose permission the queries are evaluated under (`scope-guard.ts`). */
    private readonly user: UserReadable | null = null,
  ) {}

  has(e: GlobalId): boolean {
    return this.counts.has(e);
  }

  entities(): IterableIterator<GlobalId> {
    return this.counts.keys();
  }

  /** Replaces the scopes; returns the entities that entered and left the union. Throws (scopes unchanged) on a bad query. */
  set(scopes: readonly Scope[]): { entered: GlobalId[]; left: GlobalId[] } {
    const before = new Set(this.counts.keys());
    const fresh: Array<{ close(): void }> = [];
    const counts = new Map<GlobalId, number>();
    try {
      for (const s of scopes) {
        const h = this.engine.watchEntities(s.query, s.inputs, (added, removed) => this.onChange(added, removed), s.pull, this.user);
        fresh.push(h);
        for (const e of h.entities) counts.set(e, (counts.get(e) ?? 0) + 1);
      }
    } catch (e) {
      for (const h of fresh) h.close();
      throw e;
    }
    for (const h of this.handles) h.close();
    this.handles = fresh;
    this.counts.clear();
    for (const [e, n] of counts) this.counts.set(e, n);
    return { entered: [...counts.keys()].filter((e) => !before.has(e)), left: [...before].filter((e) => !counts.has(e)) };
  }

  private onChange(added: GlobalId[], removed: GlobalId[]): void {
    const entered: GlobalId[] = [];
    const left: GlobalId[] = [];
    for (const e of added) {
      const n = this.counts.get(e) ?? 0;
      this.counts.set(e, n + 1);
      if (n === 0) entered.push(e);
    }
    for (const e of removed) {
      const n = this.counts.get(e) ?? 0;
      if (n <= 1) {
        if (this.counts.delete(e)) left.push(e);
      } else this.counts.set(e, n - 1);
    }
    if (entered.length || left.length) this.changed(entered, left);
  }

  close(): void {
    for (const h of this.handles) h.close();
    this.handles = [];
    this.counts.clear();
  }
}
