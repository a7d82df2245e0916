import { Dashboard } from './chicago/Dashboard.js';
import type { Engine } from './engine.js';
import { CollabNote } from './notes/CollabNote.js';
import { SyncBadge } from './status/SyncBadge.js';
import { TodoList } from './todos/TodoList.js';

export function App({ engine }: { engine: Engine }) {
  return (
    <main>
      <header>
        <h1>Dataloom demo</h1>
        <SyncBadge engine={engine} />
        <span className="muted" data-testid="engine-kind">
          {engine.kind === 'client' ? 'replica in IndexedDB' : 'in-memory dataflow (nothing persisted)'}
        </span>
      </header>
      <TodoList />
      <Dashboard />
      <CollabNote />
    </main>
  );
}
