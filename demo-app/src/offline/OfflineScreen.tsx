import { useSyncStatus } from '@dataloom/react';
import { ago, usePending, useNow, what } from './pending.js';

/** Offline: the replica's state, and the queue of changes waiting for the server. */
export default function OfflineScreen() {
  const status = useSyncStatus();
  const pending = usePending();
  const now = useNow();
  const state = status === null ? 'no sync' : status.online ? 'online' : status.state === 'stopped' ? 'working offline' : status.state === 'connecting' ? 'connecting' : 'offline — retrying';
  return (
    <div className="screen">
      <div className="tiles">
        <div className="tile">
          <div className="label">Sync</div>
          <div className="value small" data-testid="offline-state">{state}</div>
        </div>
        <div className="tile">
          <div className="label">Pending</div>
          <div className="value" data-testid="offline-pending">{status?.pending ?? pending?.length ?? 0}</div>
        </div>
        <div className="tile">
          <div className="label">Last synced</div>
          <div className="value small">{status?.lastSyncedAt ? ago(now - status.lastSyncedAt) : '—'}</div>
        </div>
      </div>
      <section className="card">
        <div className="card-head">
          <h2>Pending queue</h2>
          <span className="pill">outbox in IndexedDB</span>
        </div>
        {!pending || pending.length === 0 ? (
          <p className="empty" data-testid="queue-empty">Nothing waiting: every change reached the server.</p>
        ) : (
          <div className="table-scroll">
            <table data-testid="queue">
              <thead>
                <tr>
                  <th>Made</th>
                  <th>Touches</th>
                  <th>Where</th>
                </tr>
              </thead>
              <tbody>
                {pending.map((p) => (
                  <tr key={p.tx} data-testid="queue-row">
                    <td>{ago(now - p.at)}</td>
                    <td>{what(p.attrs)}</td>
                    <td>{p.draft ? 'a draft' : 'the books'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card">
        <h2>How it works</h2>
        <p className="muted">
          Every change is applied to this browser's replica first (IndexedDB, in a Web Worker) and queued. When the server is reachable the queue is
          sent in order; the server judges each transaction (rules, compare-and-set) and everyone's replica converges. A service worker keeps the app
          itself, so it opens even when the server is down.
        </p>
        <p className="muted">
          “Work offline” holds for every tab of this browser signed in as you: they share one replica and one outbox, so no tab keeps sending while
          another says offline. It is kept with the replica: a reload, or a tab opened later, is still offline until you switch back in any tab.
        </p>
      </section>
    </div>
  );
}
