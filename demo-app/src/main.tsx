import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { openEngine } from './engine.js';
import './styles.css';

const root = createRoot(document.getElementById('root')!);

openEngine().then(
  (engine) => {
    (window as unknown as { dataloom?: unknown }).dataloom = engine.client; // for e2e tests and the console
    root.render(
      <StrictMode>
        <App initial={engine} />
      </StrictMode>,
    );
  },
  (error: unknown) => {
    root.render(
      <main>
        <h1>Dataloom demo</h1>
        <p className="error" data-testid="engine-error">{String((error as Error).message ?? error)}</p>
      </main>,
    );
  },
);
