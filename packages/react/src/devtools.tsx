/**
 * `<DataloomDevtools>`: a panel for an app's developers — the sync state, the pending
 * transactions with their age, the last errors (with Clear), the live queries the hooks hold open
 * with their row counts and last update cost, and the client worker's time per dataflow operator.
 * Render it inside a `DataloomProvider`, typically lazily behind a toggle:
 *
 * ```tsx
 * const errors = useMemo(() => trackErrors(client), [client]);      // from the start
 * {open && <DataloomDevtools errors={errors} onClose={() => setOpen(false)} />}
 * ```
 *
 * Unstyled apps get a dark panel fixed at the bottom right; pass `className` to style it yourself.
 */
import { Fragment, useEffect, useState, type CSSProperties, type ReactNode } from 'react';
import { useErrorLog, useOperatorTimes, usePendingTransactions, type ErrorLog } from './devtools-data.js';
import { useSyncStatus } from './use-sync-status.js';
import { useWatchedQueries } from './use-watched.js';

export interface DataloomDevtoolsProps {
  /** The error log to show (`trackErrors(client)`, started with the client); none: no errors section. */
  errors?: ErrorLog;
  /** Shows a close button that calls it. */
  onClose?: () => void;
  /** Says what a pending transaction touches (default: its attributes). */
  describe?: (attrs: readonly string[]) => string;
  /** Replaces the built-in look (inline styles) with the app's class. */
  className?: string;
}

const PANEL: CSSProperties = {
  position: 'fixed',
  right: '1rem',
  bottom: '1rem',
  width: 'min(440px, calc(100vw - 2rem))',
  maxHeight: '70vh',
  overflow: 'auto',
  zIndex: 1000,
  background: '#111827',
  color: '#e5e7eb',
  borderRadius: 12,
  padding: '0.9rem 1rem',
  font: '13px/1.45 ui-sans-serif, system-ui, sans-serif',
  boxShadow: '0 12px 32px rgb(0 0 0 / 30%)',
};

const TOKEN: CSSProperties = { display: 'inline-block', maxWidth: '100%', overflowWrap: 'anywhere' };

/**
 * Query text that wraps between its tokens only: a line breaker may split `[?e` after the `?`. A
 * token wider than the cell still wraps inside itself. Same text content.
 */
function QueryText({ text }: { text: string }): ReactNode {
  return text.split(' ').map((t, i) => (
    <Fragment key={i}>
      {i > 0 && ' '}
      <span style={TOKEN}>{t}</span>
    </Fragment>
  ));
}

/** Ages like "12 s", "3 min". */
function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));

export function DataloomDevtools({ errors, onClose, describe = (a) => a.join(' '), className }: DataloomDevtoolsProps): ReactNode {
  const status = useSyncStatus();
  const pending = usePendingTransactions() ?? [];
  const queries = useWatchedQueries();
  const operators = useOperatorTimes();
  const now = useNow();
  return (
    <aside className={className ?? 'dataloom-devtools'} style={className ? undefined : PANEL} data-testid="devtools" aria-label="devtools">
      <div style={{ display: 'flex', alignItems: 'center', gap: '0.5rem' }}>
        <strong>Dataloom devtools</strong>
        <span style={{ flex: 1 }} />
        {onClose && (
          <button onClick={onClose} aria-label="close devtools">
            ✕
          </button>
        )}
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
        <p>none</p>
      ) : (
        <table data-testid="dt-queue">
          <tbody>
            {pending.map((p) => (
              <tr key={p.tx}>
                <td>{age(now - p.at)}</td>
                <td>{describe(p.attrs)}</td>
                <td>
                  <code title={p.tx}>{p.tx.slice(-10)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {errors && <Errors errors={errors} now={now} />}
      <h3>Watched queries ({queries.length})</h3>
      <table data-testid="dt-queries" style={{ tableLayout: 'fixed', width: '100%' }}>
        <thead>
          <tr>
            <th style={{ width: '58%' }}>query</th>
            <th title="rows in the result">rows</th>
            <th title="updates received">upd.</th>
            <th title="last update cost (ms)">ms</th>
          </tr>
        </thead>
        <tbody>
          {queries.map((q) => (
            <tr key={q.query + JSON.stringify(q.inputs)}>
              <td title={q.query}>
                <code style={{ whiteSpace: 'normal' }}>
                  <QueryText text={q.query.length > 60 ? `${q.query.slice(0, 58)}…` : q.query} />
                </code>
              </td>
              <td data-testid="dt-rows">{q.rows}</td>
              <td>{q.updates}</td>
              <td>{q.lastUpdateMs === null ? '—' : q.lastUpdateMs.toFixed(2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Operators (time in the worker since this panel opened)</h3>
      {operators === null ? (
        <p>not available for this client</p>
      ) : operators.length === 0 ? (
        <p data-testid="dt-no-operators">no operator has run yet — change something</p>
      ) : (
        <table data-testid="dt-operators" style={{ tableLayout: 'fixed', width: '100%' }}>
          <thead>
            <tr>
              <th style={{ width: '46%' }}>operator</th>
              <th title="steps (transactions it ran in)">steps</th>
              <th title="total ms">total</th>
              <th title="last step ms">last</th>
              <th title="longest step ms">max</th>
            </tr>
          </thead>
          <tbody>
            {operators.slice(0, 12).map((o, i) => (
              <tr key={`${o.label}#${i}`} data-testid="dt-operator">
                <td style={{ overflowWrap: 'anywhere' }} title={o.query ?? o.label}>
                  <code>
                    <QueryText text={o.query ? (o.query.length > 48 ? `${o.query.slice(0, 46)}…` : o.query) : o.label} />
                  </code>{' '}
                  <small>{o.kind}</small>
                </td>
                <td>{o.steps}</td>
                <td>{ms(o.totalMs)}</td>
                <td>{ms(o.lastMs)}</td>
                <td>{ms(o.maxMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </aside>
  );
}

function Errors({ errors, now }: { errors: ErrorLog; now: number }) {
  const log = useErrorLog(errors);
  return (
    <>
      <div style={{ display: 'flex', alignItems: 'center', marginTop: '0.8rem' }}>
        <h3 style={{ margin: 0 }}>Last errors</h3>
        <span style={{ flex: 1 }} />
        <button data-testid="dt-clear" disabled={log.length === 0} onClick={() => errors.clear()}>
          Clear
        </button>
      </div>
      {log.length === 0 ? (
        <p data-testid="dt-no-errors">none</p>
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
    </>
  );
}
