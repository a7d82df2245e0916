import { DataloomProvider } from '@dataloom/react';
import { useCallback, useEffect, useState } from 'react';
import { Dashboard } from './chicago/Dashboard.js';
import { closeEngine, openEngine, type Engine } from './engine.js';
import { TimeTravel } from './history/TimeTravel.js';
import { CollabNote } from './notes/CollabNote.js';
import { SyncBadge } from './status/SyncBadge.js';
import { TodoList } from './todos/TodoList.js';

/** The demo page for one open engine, with the offline toggle (reopens the client). */
export function App({ initial }: { initial: Engine }) {
  const [engine, setEngine] = useState(initial);
  const [retired, setRetired] = useState<Engine | null>(null);
  const [switching, setSwitching] = useState(false);
  const offline = engine.url === null;
  const toggle = useCallback(async () => {
    setSwitching(true);
    try {
      const next = await openEngine(!offline);
      (window as unknown as { dataloom?: unknown }).dataloom = next.client;
      setRetired(engine);
      setEngine(next);
    } finally {
      setSwitching(false);
    }
  }, [engine, offline]);
  // Close the previous client only once the page has moved to the new one (its views closed).
  useEffect(() => {
    if (retired === null) return;
    const t = setTimeout(() => void closeEngine(retired), 0);
    return () => clearTimeout(t);
  }, [retired]);
  return (
    <DataloomProvider client={engine.client}>
      <Page engine={engine} offline={offline} switching={switching} onToggle={() => void toggle()} />
    </DataloomProvider>
  );
}

export function Page(props: { engine: Engine; offline: boolean; switching: boolean; onToggle: () => void }) {
  const { engine, offline, switching, onToggle } = props;
  return (
    <main>
      <header>
        <h1>Dataloom demo</h1>
        <SyncBadge engine={engine} />
        <label className="muted">
          <input type="checkbox" data-testid="offline-toggle" checked={offline} disabled={switching} onChange={onToggle} /> work offline
        </label>
        <span className="muted" data-testid="engine-kind">
          replica in IndexedDB{engine.worker ? ', in a Web Worker' : ''}
        </span>
      </header>
      <TodoList />
      <Dashboard />
      <CollabNote canText={typeof (engine.client as { text?: unknown }).text === 'function'} />
      {'history' in engine.client && <TimeTravel />}
    </main>
  );
}
