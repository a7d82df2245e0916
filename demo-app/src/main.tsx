import { StrictMode, useState } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { App } from './App.js';
import { openEngine } from './engine.js';
import { USERS, currentUser, initials, signIn, type DemoUser } from './users.js';
import './styles.css';

const root = createRoot(document.getElementById('root')!);

/** Opens the signed-in user's replica and shows the app (or why it could not start). */
function start(r: Root, user: DemoUser): void {
  openEngine(user.id).then(
    (engine) => {
      (window as unknown as { dataloom?: unknown }).dataloom = engine.client; // for e2e tests and the console
      r.render(
        <StrictMode>
          <App initial={engine} />
        </StrictMode>,
      );
    },
    (error: unknown) => {
      r.render(
        <main className="signin">
          <h1>Loomwork</h1>
          <p className="error" data-testid="engine-error">{String((error as Error).message ?? error)}</p>
        </main>,
      );
    },
  );
}

/** Sign-in: pick one of the demo users (each has their own replica in this browser). */
function SignIn() {
  const [busy, setBusy] = useState(false);
  return (
    <main className="signin" data-testid="signin">
      <div>
        <h1>Loomwork</h1>
        <p className="muted">A team workspace that works offline — built on Dataloom. Sign in as one of the demo people; open a second window as someone else to see changes flow between you.</p>
      </div>
      <div className="people">
        {USERS.map((u) => (
          <button
            key={u.id}
            className="card person"
            data-testid={`signin-${u.id}`}
            disabled={busy}
            onClick={() => {
              setBusy(true);
              signIn(u);
              start(root, u);
            }}
          >
            <span className="avatar" style={{ background: u.color }}>{initials(u)}</span>
            <strong>{u.name}</strong>
            <span className="muted">{u.role}</span>
          </button>
        ))}
      </div>
    </main>
  );
}

const user = currentUser();
if (user) start(root, user);
else root.render(<SignIn />);
