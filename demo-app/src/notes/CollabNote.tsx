import { useClient, useQuery, useQueryState, useText, useTransact } from '@dataloom/react';

const NOTE = '[:find ?n . :where [?n :note/title "shared"]]';
const BODY = '[:find ?b . :where [?n :note/title "shared"] [?n :note/body ?b]]';

/**
 * A collaborative text field on a `:db.type/text` attribute (`useText`): keystrokes are
 * character-level edits of the client's Y.Text (no lost keystrokes), and a collaborator's typing
 * never moves this user's caret. The line below is the same value seen by a live query, as a string.
 */
export function CollabNote() {
  const client = useClient();
  const canText = typeof client.text === 'function';
  const transact = useTransact();
  const { rows, loading } = useQueryState(NOTE);
  const note = rows[0]?.[0];
  return (
    <section className="card" data-testid="note">
      <div className="card-head">
        <h2>Team briefing</h2>
        <span className="pill">collaborative text</span>
      </div>
      {!canText ? (
        <p className="muted">Collaborative text needs the client's <code>text(e, a)</code> (not in this build).</p>
      ) : loading ? (
        <p className="muted">loading…</p>
      ) : note === undefined || note === null ? (
        <button className="primary" data-testid="note-create" onClick={() => void transact([{ ':note/title': 'shared' }])}>
          Start the briefing
        </button>
      ) : (
        <NoteBody note={note} />
      )}
    </section>
  );
}

function NoteBody({ note }: { note: unknown }) {
  const text = useText(note, ':note/body');
  const body = useQuery(BODY)[0]?.[0];
  return (
    <>
      <textarea data-testid="note-body" rows={9} ref={text.bind} disabled={!text.ready} placeholder="This week: … (open a second window and type there too)" />
      <p className="muted" data-testid="note-query">
        As a query sees it: {body === undefined || body === null ? '—' : JSON.stringify(body)}
      </p>
    </>
  );
}
