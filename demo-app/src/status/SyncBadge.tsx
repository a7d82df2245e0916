import { useSyncStatus } from '@dataloom/react';
import type { Engine } from '../engine.js';

/**
 * Sync state, pending transactions and the last error, live from the client. A second tab syncs
 * through the leader tab and shows its status; a replica switched offline (in any of its tabs:
 * `state` `stopped`) still counts what it will send.
 */
export function SyncBadge({ engine }: { engine: Engine }) {
  const status = useSyncStatus();
  if (status === null || engine.url === null || status.state === 'stopped') {
    return (
      <span className="badge local" data-testid="sync-status" data-online="false">
        offline (not syncing)
        {status && status.pending > 0 && (
          <>
            {' · '}
            <span data-testid="sync-pending">{status.pending}</span> pending
          </>
        )}
      </span>
    );
  }
  const state = status.online ? 'online' : status.state === 'connecting' ? 'connecting…' : 'offline';
  return (
    <span className={`badge ${status.online ? 'online' : 'offline'}`} data-testid="sync-status" data-online={String(status.online)} data-state={status.state ?? ''}>
      {state} · <span data-testid="sync-pending">{status.pending}</span> pending
      {status.lastError && (
        <span className="error" data-testid="sync-error" title={`${status.lastError.code}: ${status.lastError.message}`}>
          {' '}· {errorLabel(status.lastError.code)}
        </span>
      )}
    </span>
  );
}

/** The badge's word for an error (its code and message are in the tooltip; refusals are shown where they happened). */
export function errorLabel(code: string): string {
  if (code === 'sync/disconnected' || code === 'sync/client') return 'connection lost';
  if (/cas|forbidden|earnings|rejected|refused/.test(code)) return 'a change was refused';
  return 'sync error';
}
