/**
 * Hostile and unlucky clients (issue 9): a transaction over a limit is refused at `transact` or
 * rejected by the server — never a wedged outbox; a per-transaction violation is a `reject`, the
 * connection stays; the schema survives every op form; unique values are judged by the server;
 * an envelope a replica cannot apply is quarantined and the stream goes on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { DataloomError } from '@dataloom/core';
import { DEFAULT_LIMITS } from '@dataloom/protocol';
import { createClient, type Client } from '../../packages/client/src/index.js';
import { SyncClient, Replica, type SyncEvent } from '../../packages/client/src/internals.js';
import type { SocketCtor } from '../../packages/client/src/sync/socket.js';
import { createServer, type ServerOptions } from '../../packages/server/src/index.js';
import { TEST_SCHEMA, makeClient, sleep, tempDir, within } from './support/harness.js';
import { envOf, raw } from './support/raw.js';

const CLIENT_SCHEMA = {
  ':item/title': { ':db/valueType': ':db.type/string' },
  ':item/code': { ':db/valueType': ':db.type/string', ':db/unique': ':db.unique/value' },
};
const SERVER_SCHEMA = { ...TEST_SCHEMA, 'item/code': { 'db/valueType': 'db.type/string', 'db/unique': 'db.unique/value' } };

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function start(extra: Partial<ServerOptions> = {}) {
  const t = tempDir();
  const server = await createServer({ store: `sqlite:${join(t.dir, 'db.sqlite')}`, port: 0, schema: SERVER_SCHEMA, ...extra });
  cleanups.push(t.cleanup, () => server.close());
  return server;
}

let n = 0;
function client(url: string, extra: Record<string, unknown> = {}): Client {
  const c = createClient({ name: `hostile-${process.pid}-${n++}`, schema: CLIENT_SCHEMA, storage: 'memory', tabs: false, url, WebSocket: WebSocket as unknown as SocketCtor, ...extra });
  cleanups.push(() => c.close());
  return c;
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; data: Record<string, unknown> } | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e as { code: string; data: Record<string, unknown> };
  }
}

/** A raw connection that said hello and read the stream up to the head. */
async function hello(url: string, replica: string) {
  const c = await raw(url, cleanups);
  c.send({ t: 'hello', v: 1, replica, cursor: null });
  await c.until(() => c.msgs.some((m) => m.t === 'welcome'), 'welcome');
  const head = c.msgs.find((m) => m.t === 'welcome').head;
  await c.until(() => head.endsWith(':0') || c.msgs.some((m) => m.t === 'ops' && m.cursor === head), 'caught up');
  return c;
}

const answers = (c: Awaited<ReturnType<typeof raw>>, tx: string) => c.msgs.filter((m) => (m.t === 'ack' || m.t === 'reject') && m.tx === tx);

describe('limits known to both ends', () => {
  it('transact refuses an over-limit transaction with a typed error naming the limit; nothing reaches the outbox', async () => {
    const server = await start();
    const a = client(server.url);
    await within(a.whenSynced(), 5000, 'synced');
    const cases: Array<[string, unknown]> = [
      ['maxStringLength', [{ ':item/title': 'x'.repeat(DEFAULT_LIMITS.maxStringLength + 1) }]],
      ['maxOpsPerTx', Array.from({ length: DEFAULT_LIMITS.maxOpsPerTx + 1 }, (_, i) => ({ ':item/title': `t${i}` }))],
      ['maxAttrLength', [{ [':a/' + 'b'.repeat(DEFAULT_LIMITS.maxAttrLength)]: 1 }]],
      ['maxMessageBytes', Array.from({ length: 8 }, () => ({ ':item/title': 'é'.repeat(DEFAULT_LIMITS.maxStringLength - 10) }))],
    ];
    for (const [limit, tx] of cases) {
      const err = await codeOf(a.transact(tx));
      expect(err, limit).toMatchObject({ code: 'ops/limit', data: { limit } });
    }
    expect((await a.syncStatus())!.pending).toBe(0);
    const ok = await a.transact([{ ':item/title': 'after' }]);
    await within(a.confirmed(ok.tx), 5000, 'next tx acked');
  });

  it('null transaction data and data nested 10,000 deep are refused with typed errors', async () => {
    const a = client('ws://127.0.0.1:1/');
    expect(await codeOf(a.transact(null))).toMatchObject({ code: 'transact/syntax' });
    let deep: unknown = [':db/add', 'x', ':item/title', 'y'];
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(await codeOf(a.transact(deep))).toMatchObject({ code: 'client/too-deep' });
  });

  it('a server with stricter limits: transact refuses by them once connected; what was made offline is rolled back with ops/limit and the outbox moves on', async () => {
    const server = await start({ limits: { maxStringLength: 100 } });
    // offline: only the replica's own (default) limits are known
    const replica = new Replica({ schema: CLIENT_SCHEMA });
    const sync = new SyncClient({ url: server.url, replica, WebSocket: WebSocket as unknown as SocketCtor, autoStart: false, backoff: { initialMs: 10, maxMs: 50 } });
    cleanups.push(() => sync.close(), () => replica.close());
    const big = await replica.localTransact([{ ':item/title': 'y'.repeat(200) }]);
    const next = await replica.localTransact([{ ':item/title': 'small' }]);
    sync.start();
    expect(await codeOf(sync.waitForTx(big.tx))).toMatchObject({ code: 'ops/limit', data: { limit: 'maxStringLength', max: 100 } });
    await within(sync.waitForTx(next.tx), 5000, 'next acked');
    await within(sync.whenSynced(), 5000, 'synced');
    expect(replica.outbox()).toEqual([]);
    expect(replica.merged().has(`${big.tx}/0`)).toBe(false);
    // online: the server's limits are the replica's now
    expect(await codeOf(replica.localTransact([{ ':item/title': 'z'.repeat(101) }]))).toMatchObject({ code: 'ops/limit', data: { limit: 'maxStringLength', max: 100 } });
    expect(replica.outbox()).toEqual([]);
  });

  it('an envelope made offline too big for the server’s frames is rolled back by the client (it cannot be sent) and the outbox moves on', async () => {
    const server = await start({ limits: { maxMessageBytes: 64 * 1024 } });
    const replica = new Replica({ schema: CLIENT_SCHEMA });
    const sync = new SyncClient({ url: server.url, replica, WebSocket: WebSocket as unknown as SocketCtor, autoStart: false, backoff: { initialMs: 10, maxMs: 50 } });
    cleanups.push(() => sync.close(), () => replica.close());
    const big = await replica.localTransact([{ ':item/title': 'y'.repeat(100 * 1024) }]);
    const next = await replica.localTransact([{ ':item/title': 'small' }]);
    sync.start();
    expect(await codeOf(sync.waitForTx(big.tx))).toMatchObject({ code: 'ops/limit', data: { limit: 'maxMessageBytes', max: 64 * 1024 } });
    await within(sync.waitForTx(next.tx), 5000, 'next acked');
    expect(replica.outbox()).toEqual([]);
  });

  it('the server answers an envelope over a limit or breaking the rules with reject, and the connection stays', async () => {
    const server = await start({ limits: { maxStringLength: 100 } });
    const c = await hello(server.url, 'rawA');
    const long = envOf('rawA', [{ e: 'rawA.1', op: 'add', a: 'item/title', v: 'z'.repeat(101) }]);
    const badE = envOf('rawA', [{ e: 'not-a-gid', op: 'add', a: 'item/title', v: 'x' }]);
    const badText = envOf('rawA', [{ e: 'rawA.1', op: 'text', a: 'item/title', v: btoa('not yjs') }]);
    const good = envOf('rawA', [{ e: 'rawA.2', op: 'add', a: 'item/title', v: 'fine' }]);
    c.send({ t: 'push', txs: [long, badE, badText, good] });
    await c.until(() => answers(c, good.tx).length > 0, 'answers');
    expect(answers(c, long.tx)[0]).toMatchObject({ t: 'reject', code: 'ops/limit', data: { limit: 'maxStringLength' } });
    expect(answers(c, badE.tx)[0]).toMatchObject({ t: 'reject', code: 'ops/malformed' });
    expect(answers(c, badText.tx)[0]).toMatchObject({ t: 'reject', code: 'ops/malformed' });
    expect(answers(c, good.tx)[0]).toMatchObject({ t: 'ack' });
    expect(c.closed()).toBeNull();
    // no stamp to answer: connection-level abuse, closed
    c.send({ t: 'push', txs: [{ tx: 'nope', replica: 'rawA', ops: [] }] });
    await c.until(() => c.closed() !== null, 'close');
    expect(c.closed()!.code).toBe(1008);
  });
});

describe('limits lowered after a transaction was stored', () => {
  it('a re-push of the stored transaction is still acknowledged at its position; a new one over the limit is rejected', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const store = `sqlite:${join(t.dir, 'db.sqlite')}`;
    const first = await createServer({ store, port: 0, schema: SERVER_SCHEMA });
    let c = await hello(first.url, 'rawL');
    const env = envOf('rawL', [{ e: 'rawL.1', op: 'add', a: 'item/title', v: 'w'.repeat(200) }]);
    c.send({ t: 'push', txs: [env] });
    await c.until(() => answers(c, env.tx).length > 0, 'ack');
    const pos = answers(c, env.tx)[0].pos;
    c.ws.close();
    await first.close();
    const second = await createServer({ store, port: 0, schema: SERVER_SCHEMA, limits: { maxStringLength: 100 } });
    cleanups.push(() => second.close());
    c = await hello(second.url, 'rawL');
    const fresh = envOf('rawL', [{ e: 'rawL.2', op: 'add', a: 'item/title', v: 'w'.repeat(200) }]);
    c.send({ t: 'push', txs: [env, fresh] });
    await c.until(() => answers(c, fresh.tx).length > 0, 'answers');
    expect(answers(c, env.tx)[0]).toMatchObject({ t: 'ack', pos });
    expect(answers(c, fresh.tx)[0]).toMatchObject({ t: 'reject', code: 'ops/limit' });
  });
});

describe('clock drift bound', () => {
  it('is seconds by default: a stamp a minute ahead is rejected (sync/clock-drift), the connection stays; the bound is configurable', async () => {
    expect(DEFAULT_LIMITS.maxClockDriftMs).toBeLessThanOrEqual(60_000);
    const strict = await start();
    const c = await hello(strict.url, 'rawD');
    const ahead = envOf('rawD', [{ e: 'rawD.1', op: 'add', a: 'item/title', v: 'from the future' }], {}, DEFAULT_LIMITS.maxClockDriftMs + 30_000);
    const now = envOf('rawD', [{ e: 'rawD.2', op: 'add', a: 'item/title', v: 'now' }]);
    c.send({ t: 'push', txs: [ahead, now] });
    await c.until(() => answers(c, now.tx).length > 0, 'answers');
    expect(answers(c, ahead.tx)[0]).toMatchObject({ t: 'reject', code: 'sync/clock-drift' });
    expect(answers(c, now.tx)[0]).toMatchObject({ t: 'ack' });
    const lenient = await start({ limits: { maxClockDriftMs: 10 * 60_000 } });
    const d = await hello(lenient.url, 'rawD');
    d.send({ t: 'push', txs: [ahead] });
    await d.until(() => answers(d, ahead.tx).length > 0, 'answer');
    expect(answers(d, ahead.tx)[0]).toMatchObject({ t: 'ack' });
  });
});

describe('schema and uniqueness judged on the server', () => {
  it('the schema survives every op form; data of the wrong type stays refused', async () => {
    const server = await start();
    const c = await hello(server.url, 'rawS');
    const schemaEnv = c.msgs.filter((m) => m.t === 'ops').flatMap((m) => m.txs).find((x: any) => x.env.ops.some((o: any) => o.a === 'db/ident'));
    const countAttr = schemaEnv.env.ops.find((o: any) => o.a === 'db/ident' && o.v.kw === 'item/count').e;
    const forms = [
      [{ e: countAttr, op: 'retractEntity' }],
      [{ e: countAttr, op: 'retract', a: 'db/valueType' }],
      [{ e: countAttr, op: 'retract', a: 'db/ident', v: { kw: 'item/count' } }],
      [{ e: countAttr, op: 'add', a: 'db/valueType', v: { kw: 'db.type/string' } }],
      [{ e: 'rawS.9', op: 'add', a: 'db/ident', v: { kw: 'item/new' } }],
      [{ e: countAttr, op: 'text', a: 'db/doc', v: 'AAA=' }],
    ];
    const envs = forms.map((ops) => envOf('rawS', ops));
    c.send({ t: 'push', txs: envs });
    await c.until(() => answers(c, envs.at(-1)!.tx).length > 0, 'answers');
    for (const [i, e] of envs.entries()) expect(answers(c, e.tx)[0]?.t, JSON.stringify(forms[i])).toBe('reject');
    const wrong = envOf('rawS', [{ e: 'rawS.1', op: 'add', a: 'item/count', v: 'text' }]);
    c.send({ t: 'push', txs: [wrong] });
    await c.until(() => answers(c, wrong.tx).length > 0, 'answer');
    expect(answers(c, wrong.tx)[0]).toMatchObject({ t: 'reject', code: 'sync/schema-mismatch' });
  });

  it('two entities never both hold a :db.unique/value value the server acknowledged', async () => {
    const server = await start();
    const a = client(server.url);
    const b = client(server.url);
    await within(Promise.all([a.whenSynced(), b.whenSynced()]), 5000, 'synced');
    const [ra, rb] = await Promise.all([a.transact([{ ':item/code': 'X1' }]), b.transact([{ ':item/code': 'X1' }])]);
    const outcomes = await Promise.allSettled([a.confirmed(ra.tx), b.confirmed(rb.tx)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'sync/unique' });
  });
});

/** A stand-in server whose log holds `entries` (position, envelope) and says so to every hello. */
function stubServer(entries: Array<{ pos: string; env: unknown }>, log = '0123456789abcdef') {
  const wss = new WebSocketServer({ port: 0, handleProtocols: () => 'dataloom.v1' });
  cleanups.push(() => new Promise((r) => wss.close(r)));
  const head = `${log}:${entries.at(-1)!.pos}`;
  const stats = { connections: 0 };
  wss.on('connection', (ws) => {
    stats.connections++;
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.t !== 'hello') return;
      ws.send(JSON.stringify({ t: 'welcome', v: 1, node: 'stub', head, limits: DEFAULT_LIMITS }));
      if (m.cursor === null) ws.send(JSON.stringify({ t: 'ops', txs: entries, cursor: head, more: false }));
    });
  });
  return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`, head, stats };
}

describe('quarantine', () => {
  it('an envelope the merge refuses (a typed error from applyRemote) is found by applying one by one and set aside', async () => {
    const tx = (i: number) => `${(1_700_000_000_000 + i).toString(36).padStart(12, '0')}-0000-srv`;
    const ok = (i: number) => ({ tx: tx(i), replica: 'srv', ops: [{ id: `${tx(i)}/0`, tx: tx(i), e: `srv.${i}`, op: 'add', a: 'item/title', v: `t${i}` }] });
    const stub = stubServer([1, 2, 3].map((i) => ({ pos: String(i), env: ok(i) })));
    const replica = new Replica({ schema: CLIENT_SCHEMA });
    // a replica whose merge throws a typed error on one envelope
    const target = Object.create(replica) as Replica;
    target.applyRemote = (envs, cursor) => (envs.some((e) => e.tx === tx(2)) ? Promise.reject(new DataloomError('ops/value', 'cannot merge this')) : replica.applyRemote(envs, cursor));
    const sync = new SyncClient({ url: stub.url, replica: target, WebSocket: WebSocket as unknown as SocketCtor, backoff: { initialMs: 10, maxMs: 50 } });
    cleanups.push(() => sync.close(), () => replica.close());
    await within(sync.whenSynced(), 5000, 'synced past the entry');
    await sleep(200);
    expect(stub.stats.connections).toBe(1);
    expect(sync.quarantined()).toMatchObject([{ pos: '2', tx: tx(2), error: { code: 'ops/value' } }]);
    expect(replica.cursor()).toBe(stub.head);
    expect([1, 3].every((i) => replica.merged().has(`${tx(i)}/0`))).toBe(true);
    expect(replica.merged().has(`${tx(2)}/0`)).toBe(false);
  });

  it('an envelope the replica cannot apply is set aside with a typed event; the stream goes on, no reconnect loop', async () => {
    // a stand-in server whose log holds a bad entry between two good ones
    const log = '0123456789abcdef';
    const tx = (i: number) => `${(1_700_000_000_000 + i).toString(36).padStart(12, '0')}-0000-srv`;
    const ok = (i: number) => ({ tx: tx(i), replica: 'srv', ops: [{ id: `${tx(i)}/0`, tx: tx(i), e: `srv.${i}`, op: 'add', a: 'item/title', v: `t${i}` }] });
    const bad = { tx: tx(2), replica: 'srv', ops: [{ id: `${tx(2)}/0`, tx: tx(2), e: 'no gid', op: 'add', a: 'item/title', v: 'x' }] };
    const stub = stubServer([{ pos: '1', env: ok(1) }, { pos: '2', env: bad }, { pos: '3', env: ok(3) }], log);
    const replica = new Replica({ schema: CLIENT_SCHEMA });
    const sync = new SyncClient({ url: stub.url, replica, WebSocket: WebSocket as unknown as SocketCtor, backoff: { initialMs: 10, maxMs: 50 } });
    cleanups.push(() => sync.close(), () => replica.close());
    const events: SyncEvent[] = [];
    sync.subscribe((e) => e.type !== 'status' && events.push(e));
    await within(sync.whenSynced(), 5000, 'synced past the bad entry');
    await sleep(300);
    expect(stub.stats.connections).toBe(1);
    expect(replica.cursor()).toBe(`${log}:3`);
    expect(sync.status()).toMatchObject({ quarantined: 1, lastError: { code: 'sync/quarantined', data: { pos: '2', cause: 'ops/malformed' } } });
    expect(sync.quarantined()).toMatchObject([{ pos: '2', tx: tx(2), error: { code: 'ops/malformed' } }]);
    expect(events).toMatchObject([{ type: 'quarantined', entry: { pos: '2' } }]);
    expect(replica.merged().has(`${tx(1)}/0`) && replica.merged().has(`${tx(3)}/0`)).toBe(true);
  });
});

describe('a large offline outbox', () => {
  it('is sent paced within the server rate limits and fully acknowledged (no rate-limit close loop)', { timeout: 60_000 }, async () => {
    const server = await start({ limits: { bytesPerSecond: 4 << 20, bytesBurst: 6 << 20 } });
    const a = makeClient(server.url, 'offline', { autoStart: false });
    cleanups.push(() => a.sync.close());
    const big = 'b'.repeat(200 * 1024);
    for (let i = 0; i < 40; i++) await a.replica.localTransact({ ops: [{ op: 'add', e: a.replica.newEntity(), a: 'item/title', v: big + i }] });
    const closes: string[] = [];
    a.sync.subscribe((e) => e.type === 'status' && e.status.lastError?.code === 'sync/disconnected' && closes.push(e.status.lastError.message));
    a.sync.start();
    await within(a.sync.whenSynced(), 50_000, `outbox of 8 MiB acknowledged; closes: ${closes.join('; ')}`);
    expect(a.replica.outbox()).toEqual([]);
    expect(closes).toEqual([]);
  });
});
