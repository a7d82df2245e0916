import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { SyncClient, type SyncOptions } from '../../../packages/client/src/sync/index.js';
import type { SocketCtor } from '../../../packages/client/src/sync/socket.js';
import { MemoryReplica } from './memory-replica.js';

export const PG_URL = process.env.DATALOOM_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const TEST_SCHEMA = {
  'item/title': { 'db/valueType': 'db.type/string' },
  'item/count': { 'db/valueType': 'db.type/long' },
  'item/tags': { 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/many' },
  'item/owner': { 'db/valueType': 'db.type/ref' },
};

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dataloom-sync-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let ns = 0;
export function pgNamespace(): string {
  return `dl_sync_${process.pid}_${Date.now().toString(36)}_${ns++}`;
}

export function makeClient(url: string, id: string, extra: Partial<SyncOptions> = {}): { replica: MemoryReplica; sync: SyncClient } {
  const replica = new MemoryReplica(id);
  const sync = new SyncClient({ url, replica, WebSocket: WebSocket as unknown as SocketCtor, backoff: { initialMs: 20, maxMs: 200 }, ...extra });
  return { replica, sync };
}

export { sleep, until, within } from './wait.js';
