/** Maps platform storage failures to typed `storage/*` errors. */
import { DataloomError } from '@dataloom/core';
import type { StorageErrorCode } from './types.js';

/** Wraps any thrown value as a `DataloomError` with a `storage/*` code. */
export function storageError(e: unknown, action: string, store: string): DataloomError {
  if (e instanceof DataloomError) return e;
  const name = (e as { name?: string } | null)?.name ?? '';
  const message = (e as { message?: string } | null)?.message ?? String(e);
  let code: StorageErrorCode = 'storage/failed';
  if (name === 'QuotaExceededError' || /quota/i.test(message)) code = 'storage/quota';
  else if (name === 'InvalidStateError' || name === 'AbortError' && /clos/i.test(message)) code = 'storage/closed';
  else if (name === 'VersionError') code = 'storage/version';
  return new DataloomError(code, `${store}: ${action} failed: ${name ? name + ': ' : ''}${message}`, { store, action, cause: name || message });
}
