import { useClient, useQuery, useQueryState, useTransact } from '@dataloom/react';
import { useEffect, useState, type ChangeEvent } from 'react';
import type { DemoClient, SharedText } from '../engine.js';

const NOTE = '[:find ?n . :where [?n :note/title "shared"]]';
const BODY = '[:find ?b . :where [?n :note/title "shared"] [?n :note/body ?b]]';

/** Applies the edit `before → after` to `text` as one delete and one insert (common prefix/suffix). */
export function applyEdit(text: SharedText, before: string, after: string): void {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let endB = before.length;
  let endA = after.length;
  while (endB > start && endA > start && before[endB - 1] === after[endA - 1]) {
    endB--;
    endA--;
  }
  const run = () => {
    if (endB > start) text.delete(start, endB - start);
    if (endA > start) text.insert(start, after.slice(start, endA));
  };
  if (text.doc) text.doc.transact(run);
  else run();
}

/**
 * A collaborative text field on a `:db.type/text` attribute: the textarea edits the Y.Text the
 * client hands out (character-level merge, no lost keystrokes); the line below is the same value
 * seen by a live query, as a string.
 */
export function CollabNote() {
  const client = useClient<DemoClient>();
  const transact = useTransact();
  const { rows: noteRows, loading } = useQueryState(NOTE);
  const note = noteRows[0]?.[0];
  const body = useQuery(BODY)[0]?.[0];
  const [text, setText] = useState<SharedText | null>(null);
  const [value, setValue] = useState('');

  useEffect(() => {
    if (note === undefined || !client.text) return;
    let live = true;
    let yt: SharedText | null = null;
    const sync = () => yt && setValue(yt.toString());
    void Promise.resolve(client.text(note, ':note/body')).then((t) => {
      if (!live) return;
      yt = t;
      setText(t);
      setValue(t.toString());
      t.observe(sync);
    });
    return () => {
      live = false;
      yt?.unobserve(sync);
    };
  }, [client, note]);

  if (!client.text) {
    return (
      <section className="card" data-testid="note">
        <h2>Shared note</h2>
        <p className="muted">Collaborative text needs the client's <code>text(e, a)</code> (not in this build).</p>
      </section>
    );
  }
  const onChange = (e: ChangeEvent<HTMLTextAreaElement>) => {
    if (!text) return;
    applyEdit(text, text.toString(), e.target.value);
    setValue(text.toString());
  };
  return (
    <section className="card" data-testid="note">
      <h2>Shared note</h2>
      {loading ? (
        <p className="muted">loading…</p>
      ) : note === undefined ? (
        <button data-testid="note-create" onClick={() => void transact([{ ':note/title': 'shared' }])}>
          Create the shared note
        </button>
      ) : (
        <>
          <textarea data-testid="note-body" rows={5} value={value} onChange={onChange} disabled={!text} />
          <p className="muted" data-testid="note-query">
            As a query sees it: {body === undefined || body === null ? '—' : JSON.stringify(body)}
          </p>
        </>
      )}
    </section>
  );
}
