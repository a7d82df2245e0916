import { useCallback, useEffect, useRef, useState } from 'react';
import { DataloomError } from '@dataloom/core';
import { useClient } from './provider.js';
import type { TextLike } from './source.js';

/** What {@link useText} returns. */
export interface TextState {
  /** The text's current value (re-renders on every local and remote change). */
  readonly value: string;
  /** False until the client handed out the text. */
  readonly ready: boolean;
  /**
   * A callback ref for an uncontrolled `<textarea>` or `<input>` (do not pass it `value`):
   * keystrokes become edits of the text, and a collaborator's edits update the element while
   * keeping this user's caret and selection where they were in the text around them.
   */
  readonly bind: (el: HTMLTextAreaElement | HTMLInputElement | null) => void;
}

type Field = HTMLTextAreaElement | HTMLInputElement;
type Delta = ReadonlyArray<{ insert?: unknown; delete?: number; retain?: number }>;

/** Marks this hook's own edits, so their events are not replayed into the element. */
const LOCAL = { origin: 'dataloom/react:useText' };

/**
 * A `:db.type/text` attribute of entity `e` (a `Y.Text` the client keeps in sync, merged per
 * character), bound to an editor without moving anyone's caret.
 *
 * @example
 * const note = useText(noteId, ':note/body');
 * <textarea ref={note.bind} disabled={!note.ready} />
 * @throws DataloomError `react/no-text` when the provider's client has no `text(e, a)`.
 */
export function useText(e: unknown, a: string): TextState {
  const client = useClient();
  if (typeof client.text !== 'function') {
    throw new DataloomError('react/no-text', 'useText needs a client with collaborative text (client.text(e, a))', { a });
  }
  const [text, setText] = useState<TextLike | null>(null);
  const [value, setValue] = useState('');
  const field = useRef<Field | null>(null);
  const current = useRef<TextLike | null>(null);
  const key = e === null || e === undefined ? null : JSON.stringify(e);

  useEffect(() => {
    if (key === null) return;
    let live = true;
    let t: TextLike | null = null;
    const onChange = (ev: { delta?: Delta; transaction?: { origin?: unknown } }) => {
      if (!t) return;
      const next = t.toString();
      const el = field.current;
      if (el && ev.transaction?.origin !== LOCAL && el.value !== next) writeKeepingCaret(el, next, ev.delta ?? []);
      setValue(next);
    };
    void Promise.resolve(client.text!(e, a)).then((opened) => {
      if (!live) return;
      t = opened;
      current.current = opened;
      opened.observe(onChange);
      setText(opened);
      setValue(opened.toString());
      if (field.current) field.current.value = opened.toString();
    });
    return () => {
      live = false;
      t?.unobserve(onChange);
      current.current = null;
      setText(null);
    };
    // `key` stands for `e` (a lookup ref is a fresh array on each render)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key, a]);

  const bind = useCallback((el: Field | null) => {
    const prev = field.current;
    if (prev === el) return;
    if (prev) prev.removeEventListener('input', onInput);
    field.current = el;
    if (!el) return;
    el.addEventListener('input', onInput);
    if (current.current) el.value = current.current.toString();

    function onInput(this: Field) {
      const t = current.current;
      if (!t) return;
      applyEdit(t, t.toString(), this.value);
      setValue(t.toString());
    }
  }, []);

  return { value: text ? value : '', ready: text !== null, bind };
}

/** Applies `before → after` to `text` as one delete and one insert around the common prefix and suffix. */
export function applyEdit(text: TextLike, before: string, after: string): void {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let endB = before.length;
  let endA = after.length;
  while (endB > start && endA > start && before[endB - 1] === after[endA - 1]) {
    endB--;
    endA--;
  }
  if (endB === start && endA === start) return;
  const run = () => {
    if (endB > start) text.delete(start, endB - start);
    if (endA > start) text.insert(start, after.slice(start, endA));
  };
  if (text.doc) text.doc.transact(run, LOCAL);
  else run();
}

/** Where `pos` ends up after `delta` (an insert exactly at `pos` stays after it only when `after`). */
export function mapPosition(pos: number, delta: Delta, after = false): number {
  let index = 0; // position in the old text
  let shift = 0;
  for (const op of delta) {
    if (index > pos || (index === pos && !after && op.insert !== undefined)) break;
    if (op.retain !== undefined) index += op.retain;
    else if (op.insert !== undefined) shift += typeof op.insert === 'string' ? op.insert.length : 1;
    else if (op.delete !== undefined) {
      const gone = Math.min(op.delete, pos - index);
      shift -= gone;
      index += op.delete;
    }
  }
  return Math.max(0, pos + shift);
}

/** Sets `el`'s value to `next` after a collaborator's `delta`, keeping the selection in place. */
function writeKeepingCaret(el: Field, next: string, delta: Delta): void {
  const focused = el.ownerDocument.activeElement === el;
  const { selectionStart: s, selectionEnd: e, selectionDirection: dir } = el;
  el.value = next;
  if (!focused || s === null || e === null) return;
  const start = mapPosition(s, delta);
  const end = s === e ? start : mapPosition(e, delta);
  el.setSelectionRange(Math.min(start, next.length), Math.min(end, next.length), dir ?? undefined);
}
