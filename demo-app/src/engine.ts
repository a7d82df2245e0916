import { createClient, type Client } from '@dataloom/client';
import { schema } from './schema.js';

/** The client as the demo uses it (hooks take it as their `DataloomSource`). */
export type DemoClient = Client;

export interface Engine {
  client: DemoClient;
  /** The sync endpoint the client connects to; null when sync is disabled (`?sync=off`). */
  url: string | null;
  /** The replica runs in a Web Worker (else on the main thread). */
  worker: boolean;
  /** The signed-in user's id (the sync token). */
  user: string;
}

/**
 * The sync endpoint on the page's own origin (`dataloom serve` serves the app and the WebSocket):
 * `ws(s)://<host>/sync`. `?sync=off` disables it; `?sync=ws://…` points elsewhere.
 */
export function syncUrl(loc: Location = location): string | null {
  const param = new URLSearchParams(loc.search).get('sync');
  if (param === 'off') return null;
  if (param) return param;
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/sync`;
}

/**
 * Opens `user`'s replica (IndexedDB unless `?storage=memory`, in a Web Worker unless
 * `?worker=off`; `?db=` names it), syncing with the server as `user`. "Work offline" is the
 * client's `setOffline`: it holds for the replica — every tab of this browser that opens it — and
 * is stored with it, so a reload (or a tab opened later) is still offline.
 */
export async function openEngine(user: string): Promise<Engine> {
  const params = new URLSearchParams(location.search);
  const name = params.get('db') ?? `dataloom-demo-${user}`; // one replica per user and browser
  const url = syncUrl();
  const useWorker = typeof Worker !== 'undefined' && params.get('worker') !== 'off';
  const worker = useWorker ? new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'dataloom' }) : false;
  const storage = params.get('storage') === 'memory' ? 'memory' : 'indexeddb'; // memory: for measurements
  const client = createClient({ name, schema, storage, ...(url ? { url, token: user } : {}), worker });
  await client.ready;
  return { client, url, worker: useWorker, user };
}
