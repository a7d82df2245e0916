import { useUndo } from '@dataloom/react';
import { useState } from 'react';
import { TimeTravel } from './TimeTravel.js';

/** History (an as-of slider said in words) and undo / redo of this user's own changes. */
export default function HistoryScreen() {
  return (
    <div className="screen">
      <UndoCard />
      <TimeTravel />
    </div>
  );
}

function UndoCard() {
  const { canUndo, canRedo, undo, redo } = useUndo();
  const [said, setSaid] = useState<string | null>(null);
  const run = (what: string, p: Promise<unknown>) =>
    void p.then(
      (r) => setSaid((r as { tx?: string | null } | null)?.tx ? what : 'Nothing to do.'),
      (e: Error) => setSaid(e.message),
    );
  return (
    <section className="card" data-testid="undo">
      <div className="card-head">
        <h2>Undo and redo</h2>
        <span className="pill">your changes only</span>
      </div>
      <p className="muted">Undo reverts your newest change that still stands; changes others made later are left alone. The stacks survive a reload.</p>
      <div className="actions">
        <button data-testid="undo-button" disabled={!canUndo} onClick={() => run('Undone.', undo())}>
          ↶ Undo
        </button>
        <button data-testid="redo-button" disabled={!canRedo} onClick={() => run('Redone.', redo())}>
          ↷ Redo
        </button>
        {said && (
          <span className="muted" data-testid="undo-said">
            {said}
          </span>
        )}
      </div>
    </section>
  );
}
