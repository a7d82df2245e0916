import { useCallback } from 'react';
import { useClient } from './provider.js';

/**
 * A stable function that transacts on the provider's client and resolves to its report. Its
 * identity changes only when the client does, so it is safe in effect dependency lists.
 */
export function useTransact<R = unknown>(): (txData: unknown) => Promise<R> {
  const client = useClient();
  return useCallback((txData: unknown) => Promise.resolve(client.transact(txData) as R), [client]);
}
