/**
 * The client replica against the real sync server (SQLite, loopback WebSockets): two
 * `createClient`s converge; a server-rejected transaction rolls back in the watched query and
 * rejects `confirmed(tx)`; a client that was offline catches up; a draft transaction is pushed at
 * once; `pending` counts a reloaded outbox.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { DataloomError } from '@dataloom/core';
import { createClient, type Client } from '@dataloom/client';
import { MemoryStore, memoryBacking } from '../../packages/client/src/store/memory.js';
import { createServer, type DataloomServer } from '../../packages/server/src/index.js';
import { until } from '../sync/support/wait.js';
import { freePort as reservePort, releasePort } from '../sync/support/child.js';

const schema = {
  'item/title': { ':db/valueType': ':db.type/string' },
  'item/tags': { ':db/valueType': ':db.type/string', ':db/cardinality': ':db.cardinality/many' },
  'item/owner': { ':db/valueType': ':db.type/ref' },
};

const cleanups: Array<() => unknown> = [];
/** A port kept for this test (support/child.ts), given back after its other cleanups. */
async function freePort(): Promise<number> {
  const port = await reservePort();
  cleanups.unshift(() => releasePort(port));
  return port;
}
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function server(): Promise<DataloomServer> {
  const dir = mkdtempSync(join(tmpdir(), 'dataloom-replica-sync-'));
  const s = await createServer({
    store: `sqlite:${join(dir, 'db.sqlite')}`,
    port: 0,
    schema,
    authorizeWrite: (_user, tx) => !tx.ops.some((o) => o.v === 'forbidden'),
  });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => s.close());
  return s;
}

let n = 0;
function client(url: string): Client {
  const c = createClient({ name: `sync-${n++}`, schema, storage: 'memory', tabs: false, url, WebSocket: WebSocket as never });
  cleanups.push(() => c.close());
  return c;
}

const titles = async (c: Client) => ((await c.q('[:find [?t ...] :where [_ :item/title ?t]]')) as string[]).sort();

describe('client replica + sync server', () => {
  it('A’s transaction reaches B’s watched query; both converge', async () => {
    const s = await server();
    const a = client(s.url);
    const b = client(s.url);
    const view = b.watch('[:find ?t :where [_ :item/title ?t]]');
    await view.ready;
    const r = await a.transact([{ ':db/id': 'x', 'item/title': 'hello', 'item/tags': ['t1', 't2'] }]);
    await a.confirmed(r.tx);
    await until(() => (view.result() as Set<unknown>).size === 1, 'B sees A');
    expect(view.result()).toEqual(new Set([['hello']]));
    const e = (await b.q('[:find ?e . :where [?e :item/title "hello"]]')) as number;
    await b.transact([[':db/add', e, ':item/tags', 't3']]);
    await until(async () => ((await a.q('[:find [?t ...] :where [_ :item/tags ?t]]')) as string[]).length === 3, 'A sees B');
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    expect(await titles(a)).toEqual(await titles(b));
    expect(((await a.syncStatus())!.pending)).toBe(0);
  });

  it('a rejected transaction rolls back and surfaces the error', async () => {
    const s = await server();
    const a = client(s.url);
    await a.ready;
    const view = a.watch('[:find ?t :where [_ :item/title ?t]]');
    await view.ready;
    const seen: string[] = [];
    view.subscribe((d) => d.forEach(([row, , m]) => seen.push(`${m > 0 ? '+' : '-'}${(row as string[])[0]}`)));
    const events: string[] = [];
    a.on((e) => {
      if (e.type === 'rejected') events.push(e.error.code);
    });
    const ok = await a.transact([{ 'item/title': 'fine' }]);
    const bad = await a.transact([{ 'item/title': 'forbidden' }]);
    await a.confirmed(ok.tx);
    const err = await a.confirmed(bad.tx).then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(DataloomError);
    await until(() => seen.includes('-forbidden'), 'rollback diff');
    expect(seen).toEqual(['+fine', '+forbidden', '-forbidden']);
    expect(await titles(a)).toEqual(['fine']);
    expect(events.length).toBe(1);
  });

  it('a client that transacted offline syncs when the server comes up', async () => {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}/`;
    const a = client(url);
    const r = await a.transact([{ 'item/title': 'written offline' }]);
    expect((await a.syncStatus())!.pending).toBe(1);
    const dir = mkdtempSync(join(tmpdir(), 'dataloom-replica-sync-'));
    const s = await createServer({ store: `sqlite:${join(dir, 'db.sqlite')}`, port, schema });
    cleanups.unshift(() => rmSync(dir, { recursive: true, force: true }), () => s.close());
    await a.confirmed(r.tx);
    const b = client(url);
    await until(async () => (await titles(b)).includes('written offline'), 'B receives the offline write');
    expect((await a.syncStatus())!.pending).toBe(0);
  });

  it('a draft transaction is pushed at once and counted in pending (issue 11)', async () => {
    const s = await server();
    const a = client(s.url);
    const b = client(s.url);
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const head = (await b.syncStatus())!.cursor;
    const r = await a.transact([{ 'item/title': 'work in progress' }], { draft: 'd1' });
    // no ordinary transaction follows: the draft alone reaches the server and is acknowledged
    await within(a.confirmed(r.tx), 5_000, 'the server acknowledges the draft');
    await within(a.whenSynced(), 5_000, 'whenSynced resolves');
    expect((await a.syncStatus())!.pending).toBe(0);
    // the server head moved: the other client's stream passes the draft (kept out of its main view)
    await until(async () => (await b.syncStatus())!.cursor !== head, 'B receives the draft envelope');
    expect(await titles(a)).toEqual([]);
    expect(await titles(b)).toEqual([]);
    // offline, a draft counts as pending like any transaction
    const port = await freePort();
    const c = client(`ws://127.0.0.1:${port}/`);
    await c.transact([{ 'item/title': 'offline draft' }], { draft: 'd2' });
    await until(async () => (await c.syncStatus())!.pending === 1, 'the offline draft is pending');
  });

  it('pending reads the stored outbox after a reload, before any connection (issue 14)', async () => {
    const port = await freePort(); // nothing listens: the client stays offline
    const url = `ws://127.0.0.1:${port}/`;
    const backing = memoryBacking();
    const open = () => {
      const c = createClient({ name: `reload-pending-${n++}`, schema, store: new MemoryStore(backing), tabs: false, url, WebSocket: WebSocket as never });
      cleanups.push(() => c.close());
      return c;
    };
    const a = open();
    await a.transact([{ 'item/title': 'one' }]);
    await a.transact([{ 'item/title': 'two' }]);
    await until(async () => (await a.syncStatus())!.pending === 2, 'two pending before the reload');
    await a.close();
    const b = open();
    await b.ready;
    await until(async () => (await b.syncStatus())?.pending === 2, 'two pending after the reload');
    expect(await titles(b)).toEqual(['one', 'two']);
  });
});

/** `p`, or a clear failure after `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out: ${what}`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
