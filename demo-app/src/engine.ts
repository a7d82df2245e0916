import * as clientPkg from '@dataloom/client';
import * as dataflowPkg from '@dataloom/dataflow';
import { connSource, type ConnLike, type DataloomSource } from '@dataloom/react';
import { schema } from './schema.js';

/** A `:db.type/text` value as the client hands it out (a Y.Text); only what the demo uses. */
export interface SharedText {
  toString(): string;
  insert(index: number, text: string): void;
  delete(index: number, length: number): void;
  observe(fn: () => void): void;
  unobserve(fn: () => void): void;
  readonly doc?: { transact(fn: () => void): void } | null;
}

/** What the demo uses of a client, beyond the hooks' {@link DataloomSource}. */
export interface DemoClient extends DataloomSource {
  text?(e: unknown, a: string): SharedText | Promise<SharedText>;
  close?(): unknown;
}

export interface Engine {
  client: DemoClient;
  /** `client`: the real replica (IndexedDB, sync); `memory`: a dataflow conn, nothing persisted. */
  kind: 'client' | 'memory';
  /** The sync endpoint the client connects to, when any. */
  url: string | null;
}

type CreateClient = (options: Record<string, unknown>) => DemoClient | Promise<DemoClient>;
type CreateConn = (schema: unknown) => ConnLike;

/**
 * The sync endpoint on the page's own origin (`dataloom serve` serves the app and `/sync`).
 * `?sync=off` disables it; `?sync=ws://…` points elsewhere.
 */
export function syncUrl(loc: Location = location): string | null {
  const param = new URLSearchParams(loc.search).get('sync');
  if (param === 'off') return null;
  if (param) return param;
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/sync`;
}

/**
 * Opens the best engine available: the real client when `@dataloom/client` exports
 * `createClient`, otherwise an in-memory dataflow conn (nothing persisted, no sync).
 */
export async function openEngine(): Promise<Engine> {
  const params = new URLSearchParams(location.search);
  const name = params.get('db') ?? 'dataloom-demo';
  const createClient = (clientPkg as Record<string, unknown>)['createClient'] as CreateClient | undefined;
  if (typeof createClient === 'function') {
    const url = syncUrl();
    const options: Record<string, unknown> = { name, schema, storage: 'indexeddb' };
    if (url) options['url'] = url;
    const client = await createClient(options);
    return { client, kind: 'client', url };
  }
  const createConn = (dataflowPkg as Record<string, unknown>)['createConn'] as CreateConn | undefined;
  if (typeof createConn === 'function') {
    return { client: connSource(createConn(schema)), kind: 'memory', url: null };
  }
  throw new Error('No Dataloom engine is available in this build (@dataloom/client and @dataloom/dataflow export nothing yet).');
}
