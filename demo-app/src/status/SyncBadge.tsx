import { useSyncStatus } from '@dataloom/react';
import type { Engine } from '../engine.js';

/** Online/offline, pending transactions and the last error, live from the client. */
export function SyncBadge({ engine }: { engine: Engine }) {
  const status = useSyncStatus();
  if (status === null) {
    return (
      <span className="badge local" data-testid="sync-status" data-online="false">
        {engine.url === null ? 'offline (not syncing)' : 'connecting…'}
      </span>
    );
  }
  return (
    <span className={`badge ${status.online ? 'online' : 'offline'}`} data-testid="sync-status" data-online={String(status.online)}>
      {status.online ? 'online' : 'offline'} · <span data-testid="sync-pending">{status.pending}</span> pending
      {status.lastError && <span className="error" title={status.lastError.code}> · {status.lastError.message}</span>}
    </span>
  );
}
