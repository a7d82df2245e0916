// @vitest-environment happy-dom
/**
 * `useText` over a real `Y.Text`: keystrokes become edits of the text, and a collaborator's edit
 * (a change from another Y.Doc, applied as the client applies merged remote updates) updates the
 * element without moving this user's caret (issue 14: the shared note's caret jumped to the end).
 */
import { act } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DataloomProvider, useText } from './index.js';
import { mapPosition } from './use-text.js';
import type { DataloomSource } from './source.js';
import { mountRoot } from '../test/dom.js';

const dom = mountRoot();

/** Two replicas of one text: `mine` is what the client hands out, `theirs` a collaborator's. */
function pair(initial: string) {
  const mine = new Y.Doc();
  const theirs = new Y.Doc();
  theirs.getText('text').insert(0, initial);
  Y.applyUpdate(mine, Y.encodeStateAsUpdate(theirs), 'remote');
  mine.on('update', (u: Uint8Array, origin: unknown) => origin !== 'remote' && Y.applyUpdate(theirs, u, 'remote'));
  theirs.on('update', (u: Uint8Array, origin: unknown) => origin !== 'remote' && Y.applyUpdate(mine, u, 'remote'));
  const source: DataloomSource = { watch: () => { throw new Error('unused'); }, transact: () => null, text: async () => mine.getText('text') };
  return { mine: mine.getText('text'), theirs: theirs.getText('text'), source };
}

function Note({ shown }: { shown: string[] }) {
  const t = useText(['note/title', 'shared'], ':note/body');
  shown.push(t.value);
  return <textarea data-testid="body" ref={t.bind} disabled={!t.ready} />;
}

async function mount(source: DataloomSource, shown: string[] = []): Promise<HTMLTextAreaElement> {
  await act(async () => dom.root.render(<DataloomProvider client={source}><Note shown={shown} /></DataloomProvider>));
  await act(async () => { await Promise.resolve(); });
  return dom.container.querySelector('textarea')!;
}

function type(el: HTMLTextAreaElement, value: string, caret: number): void {
  el.value = value;
  el.setSelectionRange(caret, caret);
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

describe('useText', () => {
  it('shows the text and turns keystrokes into edits of it', async () => {
    const { mine, theirs, source } = pair('hello');
    const shown: string[] = [];
    const el = await mount(source, shown);
    expect(el.value).toBe('hello');
    expect(el.disabled).toBe(false);
    act(() => type(el, 'hello world', 11));
    expect(mine.toString()).toBe('hello world');
    expect(theirs.toString()).toBe('hello world');
    expect(shown.at(-1)).toBe('hello world');
  });

  it('shared note caret stays put on remote keystrokes', async () => {
    const { theirs, source } = pair('hello world');
    const el = await mount(source);
    el.focus();
    el.setSelectionRange(6, 6); // before "world"
    act(() => theirs.insert(0, 'Oh, ')); // a collaborator types before the caret
    expect(el.value).toBe('Oh, hello world');
    expect([el.selectionStart, el.selectionEnd]).toEqual([10, 10]);
    act(() => theirs.insert(el.value.length, '!')); // and after it
    expect(el.value).toBe('Oh, hello world!');
    expect([el.selectionStart, el.selectionEnd]).toEqual([10, 10]);
    el.setSelectionRange(4, 9); // "hello" selected
    act(() => theirs.delete(0, 4)); // the collaborator deletes before the selection
    expect(el.value).toBe('hello world!');
    expect([el.selectionStart, el.selectionEnd]).toEqual([0, 5]);
  });

  it('maps a position through inserts, deletes and retains', () => {
    expect(mapPosition(5, [{ insert: 'ab' }])).toBe(7);
    expect(mapPosition(5, [{ retain: 5 }, { insert: 'ab' }])).toBe(5); // at the caret: stays before
    expect(mapPosition(5, [{ retain: 5 }, { insert: 'ab' }], true)).toBe(7);
    expect(mapPosition(5, [{ retain: 2 }, { delete: 2 }])).toBe(3);
    expect(mapPosition(5, [{ retain: 3 }, { delete: 5 }])).toBe(3); // the caret's neighbourhood deleted
    expect(mapPosition(5, [{ retain: 6 }, { delete: 1 }])).toBe(5);
  });

  it('needs a client with text(e, a)', () => {
    const source: DataloomSource = { watch: () => { throw new Error('unused'); }, transact: () => null };
    expect(() => renderToString(<DataloomProvider client={source}><Note shown={[]} /></DataloomProvider>)).toThrow(expect.objectContaining({ code: 'react/no-text' }));
  });
});
