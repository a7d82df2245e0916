import { useCallback, useEffect, useRef, useState } from 'react';
import { nameError, type NamedError } from './named-errors.js';
import { useClient, useEntityNames } from './provider.js';

/**
 * A stable function that transacts on the provider's client and resolves to its report. Its
 * identity changes only when the client does, so it is safe in effect dependency lists.
 */
export function useTransact<R = unknown>(): (txData: unknown) => Promise<R> {
  const client = useClient();
  return useCallback((txData: unknown) => Promise.resolve(client.transact(txData) as R), [client]);
}

/** What {@link useTransactState} returns. */
export interface TransactState<R> {
  /** Transacts; resolves to the report, or to null when refused (the refusal is then `error`). */
  transact(txData: unknown): Promise<R | null>;
  /** The last refusal of this hook's transactions — locally, or by the server later — named. */
  readonly error: NamedError | null;
  clear(): void;
}

/**
 * {@link useTransact} with its errors surfaced here, per hook: a transaction refused locally (bad
 * data, a failed `:db/cas`) or later by the server (a rule, a stale `:db/cas`, judged when it
 * syncs — `client.confirmed(tx)`) sets `error`, whose message names the entity by the
 * provider's `entityNames` (`cas failed on carla :thug/earnings …`, not on `k3x9a2.5`). A later
 * success leaves an earlier error until `clear()` or the next refusal.
 */
export function useTransactState<R extends { tx?: string } = { tx?: string }>(): TransactState<R> {
  const client = useClient() as ReturnType<typeof useClient> & { confirmed?(tx: string): Promise<unknown> };
  const names = useEntityNames();
  const [error, setError] = useState<NamedError | null>(null);
  const live = useRef(true);
  useEffect(() => {
    live.current = true;
    return () => {
      live.current = false;
    };
  }, []);
  const fail = useCallback(
    (e: unknown, tx: string | null) => void nameError(client, names, e, tx).then((n) => live.current && setError(n)),
    [client, names],
  );
  const transact = useCallback(
    async (txData: unknown): Promise<R | null> => {
      let report: R;
      try {
        report = (await client.transact(txData)) as R;
      } catch (e) {
        fail(e, null);
        return null;
      }
      const tx = report?.tx;
      if (tx && client.confirmed) client.confirmed(tx).catch((e: unknown) => fail(e, tx));
      return report;
    },
    [client, fail],
  );
  const clear = useCallback(() => setError(null), []);
  return { transact, error, clear };
}
