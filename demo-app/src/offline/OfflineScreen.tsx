import { useClient, useSyncStatus } from '@dataloom/react';
import { useEffect, useState } from 'react';

interface PendingTx {
  tx: string;
  at: number;
  attrs: string[];
  draft: string | null;
}

interface WithPending {
  pending?(): Promise<PendingTx[]>;
}

const KINDS: Array<[RegExp, string]> = [
  [/^:?todo\//, 'a task'],
  [/^:?thug\/earnings/, 'revenue'],
  [/^:?thug\/rat/, 'a review flag'],
  [/^:?thug\//, 'a profile'],
  [/^:?territory\//, 'a region'],
  [/^:?note\//, 'the briefing'],
  [/^:?draft\//, 'a draft'],
];

/** What a pending transaction touches, in words: "a task", "revenue, a review flag". */
export function what(attrs: readonly string[]): string {
  const kinds = new Set(attrs.map((a) => KINDS.find(([re]) => re.test(a))?.[1] ?? 'other data'));
  return [...kinds].join(', ');
}

/** Ages like "12 s", "3 min". */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

/** The transactions waiting for the server, re-read whenever the sync status changes. */
export function usePending(): PendingTx[] | null {
  const client = useClient() as WithPending;
  const status = useSyncStatus();
  const [rows, setRows] = useState<PendingTx[] | null>(null);
  useEffect(() => {
    if (!client.pending) return;
    let live = true;
    void client.pending().then((r) => live && setRows(r));
    return () => {
      live = false;
    };
  }, [client, status]);
  return rows;
}

/** Ticks every second, for ages. */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

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
          <div className="value">{status?.lastSyncedAt ? `${age(now - status.lastSyncedAt)} ago` : '—'}</div>
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
                    <td>{age(now - p.at)} ago</td>
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
      </section>
    </div>
  );
}
