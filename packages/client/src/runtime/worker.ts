/**
 * Worker side of `createClient({ worker })`: a worker script calls `exposeClientHost()` (or
 * imports `worker-entry.ts`, which does just that).
 */
import * as Comlink from 'comlink';
import { createHost, type Host } from './host.js';

/** Exposes a client host on `endpoint` (default: the worker's global scope). */
export function exposeClientHost(endpoint?: Comlink.Endpoint): Host {
  const host = createHost();
  Comlink.expose(host, endpoint);
  return host;
}

