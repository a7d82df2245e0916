import { useEffect, useState } from 'react';
import { useClient } from './provider.js';
import type { DataloomSource } from './source.js';
import { registryFor, type WatchedQueryInfo } from './view-registry.js';

/** The live queries the hooks hold open on `source` (one per query and inputs), for devtools. */
export function watchedQueries(source: DataloomSource): WatchedQueryInfo[] {
  return registryFor(source).list();
}

/**
 * The provider's client's watched queries — query, row count, subscribers, updates and the last
 * update's cost — re-read every `everyMs` (default 1 s; devtools only, not a hot path).
 */
export function useWatchedQueries(everyMs = 1_000): WatchedQueryInfo[] {
  const client = useClient();
  const [list, setList] = useState(() => watchedQueries(client));
  useEffect(() => {
    setList(watchedQueries(client));
    const t = setInterval(() => setList(watchedQueries(client)), everyMs);
    return () => clearInterval(t);
  }, [client, everyMs]);
  return list;
}
