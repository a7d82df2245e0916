/**
 * `client.undo()` / `redo()` (and `draft.undo()` / `redo()`) on the replica's side: take the
 * newest entry of the scope's stack, build its compensating transaction against the scope's state
 * now (`compensate.ts`), and transact it as an ordinary (or draft) transaction, which syncs like
 * any other. An entry whose every value was changed by someone else since compensates to nothing;
 * it is dropped and the next one is tried, so one `undo()` always undoes something while the
 * stack has anything left that can be undone.
 */
import type { HlcString } from '@dataloom/core';
import type { TranslateState } from '@dataloom/core/internals';
import type { DraftService } from '../drafts/service.js';
import type { Replica } from '../replica/replica.js';
import type { TransactResult } from '../runtime/types.js';
import { compensation, type Restore } from './compensate.js';
import type { UndoEntry, UndoMode, UndoStacks } from './stacks.js';

/** What the undo service needs of the client service. */
export interface UndoHost {
  readonly stacks: UndoStacks;
  /**
   * Runs `fn` with the scope's translation state and its restore rule (see `compensate.ts`), as a
   * job of the replica's queue.
   */
  withState<T>(scope: string, fn: (state: TranslateState, restore: (tx: HlcString) => Restore | undefined) => T): Promise<T>;
  transact(tx: unknown, options: { draft?: string; undo: UndoMode }): Promise<TransactResult>;
}

/**
 * The undo service of a replica and its drafts: the main scope reads the committed state, a
 * draft scope its overlay, where an entry that was the draft's first edit of a value restores the
 * committed value as it is now (`compensate.ts`).
 */
export function replicaUndo(replica: Replica, drafts: DraftService, transact: UndoHost['transact']): UndoService {
  return new UndoService({
    stacks: replica.undoStacks,
    withState: (scope, fn) =>
      scope
        ? drafts.withOverlay(scope, (ov) => fn(ov.txState(), (tx) => (e, a, recorded) => (ov.touchedBefore(tx, e, a) ? recorded : ov.merge.values(e, a))))
        : replica.run(() => fn(replica.merged(), () => undefined)),
    transact,
  });
}

export class UndoService {
  private readonly watches = new Map<number, () => void>();
  private nextWatch = 1;

  constructor(private readonly host: UndoHost) {}

  /** Undoes this client's newest change in `scope` that still stands. `tx` null: nothing to undo. */
  undo(scope: string): Promise<{ tx: HlcString | null }> {
    return this.step(scope, 'undo');
  }

  /** Redoes the newest undone change in `scope`. */
  redo(scope: string): Promise<{ tx: HlcString | null }> {
    return this.step(scope, 'redo');
  }

  status(scope: string): { canUndo: boolean; canRedo: boolean } {
    return this.host.stacks.status(scope);
  }

  /** `sink` gets the scope's status now and whenever it changes. */
  watch(scope: string, sink: (s: { canUndo: boolean; canRedo: boolean }) => void): number {
    const id = this.nextWatch++;
    sink(this.status(scope));
    this.watches.set(
      id,
      this.host.stacks.onChange((s) => {
        if (s === scope) sink(this.status(scope));
      }),
    );
    return id;
  }

  unwatch(id: number): void {
    this.watches.get(id)?.();
    this.watches.delete(id);
  }

  private async step(scope: string, which: 'undo' | 'redo'): Promise<{ tx: HlcString | null }> {
    const { stacks } = this.host;
    for (;;) {
      const picked = await this.host.withState(scope, (state, restore) => {
        const entry = stacks.pop(scope, which);
        return entry === null ? null : { entry, forms: compensation(entry, state, restore(entry.tx)) };
      });
      if (picked === null) return { tx: null };
      if (picked.forms.length === 0) continue;
      try {
        const r = await this.host.transact(picked.forms, { ...(scope ? { draft: scope } : {}), undo: which });
        return { tx: r.tx };
      } catch (e) {
        stacks.restore(scope, which, picked.entry as UndoEntry);
        throw e;
      }
    }
  }

  stopAll(): void {
    for (const off of this.watches.values()) off();
    this.watches.clear();
  }
}
