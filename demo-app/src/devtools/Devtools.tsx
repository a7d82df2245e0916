import { useSyncStatus, useWatchedQueries } from '@dataloom/react';
import { age, usePending, useNow, what } from '../offline/pending.js';
import { useErrorLog, type ErrorLog } from './errors.js';

/**
 * The demo's devtools: sync state, the pending transactions with their age, the last errors (with
 * a clear button), and the live queries the hooks hold open with their row counts and the cost of
 * their last update. Its own chunk, loaded when first opened.
 */
export default function Devtools({ errors, onClose }: { errors: ErrorLog; onClose: () => void }) {
  const status = useSyncStatus();
  const pending = usePending() ?? [];
  const log = useErrorLog(errors);
  const queries = useWatchedQueries();
  const now = useNow();
  return (
    <aside className="devtools" data-testid="devtools" aria-label="devtools">
      <div className="card-head">
        <strong>Dataloom devtools</strong>
        <span className="spacer" />
        <button className="small" onClick={onClose} aria-label="close devtools">
          ✕
        </button>
      </div>
      <h3>Sync</h3>
      <table>
        <tbody>
          <tr>
            <th>state</th>
            <td data-testid="dt-state">{status ? (status.state ?? (status.online ? 'online' : 'offline')) : 'no sync'}</td>
          </tr>
          <tr>
            <th>pending</th>
            <td data-testid="dt-pending">{status?.pending ?? 0}</td>
          </tr>
          <tr>
            <th>last synced</th>
            <td>{status?.lastSyncedAt ? `${age(now - status.lastSyncedAt)} ago` : '—'}</td>
          </tr>
        </tbody>
      </table>
      <h3>Pending transactions</h3>
      {pending.length === 0 ? (
        <p className="muted">none</p>
      ) : (
        <table data-testid="dt-queue">
          <tbody>
            {pending.map((p) => (
              <tr key={p.tx}>
                <td>{age(now - p.at)}</td>
                <td>{what(p.attrs)}</td>
                <td>
                  <code title={p.tx}>{p.tx.slice(-10)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="card-head" style={{ marginTop: '0.8rem', marginBottom: 0 }}>
        <h3 style={{ margin: 0 }}>Last errors</h3>
        <span className="spacer" />
        <button className="small" data-testid="dt-clear" disabled={log.length === 0} onClick={() => errors.clear()}>
          Clear
        </button>
      </div>
      {log.length === 0 ? (
        <p className="muted" data-testid="dt-no-errors">
          none
        </p>
      ) : (
        <table data-testid="dt-errors">
          <tbody>
            {log.map((e) => (
              <tr key={`${e.at}${e.code}${e.message}`}>
                <td>{age(now - e.at)}</td>
                <td>
                  <code>{e.code}</code> {e.message}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Watched queries ({queries.length})</h3>
      <table data-testid="dt-queries">
        <thead>
          <tr>
            <th>query</th>
            <th className="num">rows</th>
            <th className="num" title="updates received">upd.</th>
            <th className="num" title="last update cost (ms)">ms</th>
          </tr>
        </thead>
        <tbody>
          {queries.map((q) => (
            <tr key={q.query + JSON.stringify(q.inputs)}>
              <td title={q.query}>
                <code>{q.query.length > 60 ? `${q.query.slice(0, 58)}…` : q.query}</code>
              </td>
              <td className="num" data-testid="dt-rows">{q.rows}</td>
              <td className="num">{q.updates}</td>
              <td className="num">{q.lastUpdateMs === null ? '—' : q.lastUpdateMs.toFixed(2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </aside>
  );
}
