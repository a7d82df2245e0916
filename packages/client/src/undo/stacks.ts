/**
 * Undo and redo stacks, one pair per *scope*: the main database (`''`) and each draft (its id).
 * An entry is one local transaction of this client and the visible changes it made in its scope
 * (what `MergeState.apply` or the draft's overlay reported), so undoing it later knows the values
 * it replaced and the values it left (see `compensate.ts`).
 *
 * What lands where:
 * - an ordinary transaction (`record`) goes on the undo stack and clears the redo stack;
 * - an undo's compensating transaction (`undo`) goes on the redo stack;
 * - a redo's (`redo`) goes back on the undo stack, leaving the redo stack as it is;
 * - `skip`: bookkeeping that is nobody's edit (draft entities, invitations, text editor frames).
 *
 * The stacks are persisted with every store write (`StoreMeta.undo`), so they survive a reload.
 * With several tabs, each keeps its own stacks and the last one to write is what a reload finds.
 */
import type { DatomChange, GlobalId, HlcString, WireValue } from '@dataloom/core';

/** How a local transaction counts for undo. */
export type UndoMode = 'record' | 'undo' | 'redo' | 'skip';

export interface UndoChange {
  e: GlobalId;
  a: string;
  v: WireValue;
  added: boolean;
}

export interface UndoEntry {
  tx: HlcString;
  changes: UndoChange[];
}

/** The persisted form (JSON-safe). */
export interface UndoRecord {
  v: 1;
  stacks: Record<string, { undo: UndoEntry[]; redo: UndoEntry[] }>;
}

/** Most entries kept per stack (the oldest go first). */
export const UNDO_DEPTH = 50;

/** Attributes that are bookkeeping, never undone: schema (`db/*`) and draft entities (`draft/*`). */
function undoable(a: string): boolean {
  return !a.startsWith('db/') && !a.startsWith('draft/') && !a.startsWith('db.');
}

export class UndoStacks {
  private stacks = new Map<string, { undo: UndoEntry[]; redo: UndoEntry[] }>();
  private readonly listeners = new Set<(scope: string) => void>();

  /** Restores persisted stacks (cold start); anything malformed is dropped. */
  load(rec: unknown): void {
    this.stacks.clear();
    const r = rec as UndoRecord | undefined;
    if (!r || r.v !== 1 || typeof r.stacks !== 'object' || r.stacks === null) return;
    for (const [scope, s] of Object.entries(r.stacks)) {
      if (Array.isArray(s?.undo) && Array.isArray(s?.redo)) this.stacks.set(scope, { undo: s.undo.slice(-UNDO_DEPTH), redo: s.redo.slice(-UNDO_DEPTH) });
    }
  }

  /** The persisted form, or undefined when every stack is empty. */
  record(): UndoRecord | undefined {
    const stacks: UndoRecord['stacks'] = {};
    let any = false;
    for (const [scope, s] of this.stacks) {
      if (s.undo.length === 0 && s.redo.length === 0) continue;
      stacks[scope] = s;
      any = true;
    }
    return any ? { v: 1, stacks } : undefined;
  }

  /** Notes local transaction `tx` of `scope` with the visible `changes` it made. */
  note(scope: string, mode: UndoMode, tx: HlcString, changes: readonly DatomChange[]): void {
    if (mode === 'skip') return;
    const kept: UndoChange[] = [];
    for (const c of changes) if (undoable(c.a)) kept.push({ e: c.e, a: c.a, v: c.v, added: c.added });
    const s = this.scope(scope);
    if (kept.length === 0) {
      if (mode === 'record' && s.redo.length) {
        s.redo = [];
        this.changed(scope);
      }
      return;
    }
    const entry: UndoEntry = { tx, changes: kept };
    if (mode === 'undo') push(s.redo, entry);
    else {
      push(s.undo, entry);
      if (mode === 'record') s.redo = [];
    }
    this.changed(scope);
  }

  /** Drops the entry of `tx` wherever it is (its transaction was rolled back). */
  forget(tx: HlcString): void {
    for (const [scope, s] of this.stacks) {
      const u = s.undo.length, r = s.redo.length;
      s.undo = s.undo.filter((e) => e.tx !== tx);
      s.redo = s.redo.filter((e) => e.tx !== tx);
      if (s.undo.length !== u || s.redo.length !== r) this.changed(scope);
    }
  }

  /** The newest entry of a stack, or null. */
  peek(scope: string, which: 'undo' | 'redo'): UndoEntry | null {
    const l = this.stacks.get(scope)?.[which];
    return l && l.length ? l[l.length - 1]! : null;
  }

  /** Takes the newest entry of a stack. */
  pop(scope: string, which: 'undo' | 'redo'): UndoEntry | null {
    const l = this.stacks.get(scope)?.[which];
    const e = l?.pop() ?? null;
    if (e) this.changed(scope);
    return e;
  }

  /** Puts an entry back on top (an undo that failed to apply). */
  restore(scope: string, which: 'undo' | 'redo', entry: UndoEntry): void {
    push(this.scope(scope)[which], entry);
    this.changed(scope);
  }

  /** Whether `scope` has something to undo / redo. */
  status(scope: string): { canUndo: boolean; canRedo: boolean } {
    const s = this.stacks.get(scope);
    return { canUndo: (s?.undo.length ?? 0) > 0, canRedo: (s?.redo.length ?? 0) > 0 };
  }

  /** `fn(scope)` after a stack of `scope` changed. */
  onChange(fn: (scope: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private scope(scope: string) {
    let s = this.stacks.get(scope);
    if (!s) this.stacks.set(scope, (s = { undo: [], redo: [] }));
    return s;
  }

  private changed(scope: string): void {
    for (const fn of [...this.listeners]) fn(scope);
  }
}

function push(l: UndoEntry[], e: UndoEntry): void {
  l.push(e);
  if (l.length > UNDO_DEPTH) l.splice(0, l.length - UNDO_DEPTH);
}
