/** Integration tests of the sync server and client over real WebSockets (in-process server). */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createServer, type DataloomServer, type ServerOptions } from '../../packages/server/src/index.js';
import { createSqliteStore } from '../../packages/server/src/storage/sqlite.js';
import { cursorPos } from '@dataloom/protocol';
import { PG_URL, TEST_SCHEMA, makeClient, pgNamespace, tempDir, within, sleep } from './support/harness.js';
import { envOf, raw as rawConn } from './support/raw.js';
import { createPostgresStore } from '../../packages/server/src/storage/postgres.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function start(extra: Partial<ServerOptions> = {}): Promise<{ server: DataloomServer; file: string }> {
  const t = tempDir();
  const file = join(t.dir, 'db.sqlite');
  const server = await createServer({ store: `sqlite:${file}`, port: 0, schema: TEST_SCHEMA, ...extra });
  cleanups.push(t.cleanup, () => server.close());
  return { server, file };
}

function client(url: string, id: string, extra = {}) {
  const c = makeClient(url, id, extra);
  cleanups.push(() => c.sync.close());
  return c;
}

/** Raw protocol connection for hand-written messages (terminated after the test). */
const raw = (url: string, protocols?: string[]) => rawConn(url, cleanups, protocols);

describe('sync server + client', () => {
  it('delivers A’s transaction to B and both converge on the server state; schema arrives as data', async () => {
    const { server } = await start();
    const a = client(server.url, 'clientA');
    const b = client(server.url, 'clientB');
    const e = a.replica.newEntity();
    const r = await a.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/title', v: 'hello' }, { op: 'add', e, a: 'item/count', v: 1 }] });
    await within(a.sync.waitForTx(r.tx), 5000, 'ack');
    await within(Promise.all([a.sync.whenSynced(), b.sync.whenSynced()]), 5000, 'synced');
    for (let i = 0; i < 100 && b.replica.value(e, 'item/title') === null; i++) await sleep(10);
    expect(b.replica.value(e, 'item/title')).toBe('hello');
    expect(b.replica.snapshot()).toBe(a.replica.snapshot());
    // schema bootstrap transaction made by the server is in every replica
    expect([...b.replica.ops.values()].some((o) => o.a === 'db/ident' && (o.v as any).kw === 'item/tags')).toBe(true);
    expect(a.sync.status()).toMatchObject({ online: true, pending: 0, state: 'online' });
    expect(a.sync.status().lastSyncedAt).not.toBeNull();
  });

  it('rejects a transaction that violates the schema: rollback, typed error on waitForTx and status', async () => {
    const { server } = await start();
    const a = client(server.url, 'clientA');
    const events: string[] = [];
    a.sync.subscribe((ev) => ev.type === 'rejected' && events.push(ev.error.code));
    await within(a.sync.whenSynced(), 5000, 'synced');
    const e = a.replica.newEntity();
    const r = await a.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/count', v: 'not a number' }] });
    await expect(a.sync.waitForTx(r.tx)).rejects.toMatchObject({ code: 'sync/schema-mismatch' });
    expect(events).toEqual(['sync/schema-mismatch']);
    expect(a.sync.status().lastError?.code).toBe('sync/schema-mismatch');
    expect([...a.replica.ops.values()].some((o) => o.tx === r.tx)).toBe(false);
    expect(a.replica.outbox()).toEqual([]);
  });

  it('judges cas against the committed state: first writer wins, second is rejected', async () => {
    const { server } = await start();
    const a = client(server.url, 'clientA');
    const b = client(server.url, 'clientB');
    const e = a.replica.newEntity();
    await within(a.sync.waitForTx((await a.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/count', v: 1 }] })).tx), 5000, 'ack');
    await within(b.sync.whenSynced(), 5000, 'b synced');
    for (let i = 0; i < 100 && b.replica.value(e, 'item/count') === null; i++) await sleep(10);
    const cas = (v: number) => ({ ops: [{ op: 'add' as const, e, a: 'item/count', v }], checks: [{ kind: 'cas' as const, e, a: 'item/count', expected: 1, v }] });
    const ra = await a.replica.localTransact(cas(2));
    await within(a.sync.waitForTx(ra.tx), 5000, 'a cas');
    const rb = await b.replica.localTransact(cas(3));
    await expect(b.sync.waitForTx(rb.tx)).rejects.toMatchObject({ code: 'sync/cas-failed' });
    await within(Promise.all([a.sync.whenSynced(), b.sync.whenSynced()]), 5000, 'synced');
    for (let i = 0; i < 100 && b.replica.value(e, 'item/count') !== 2; i++) await sleep(10);
    expect(b.replica.value(e, 'item/count')).toBe(2);
    expect(a.replica.snapshot()).toBe(b.replica.snapshot());
  });

  it('resumes from the cursor after a disconnect and sends the offline outbox', async () => {
    const { server } = await start();
    const a = client(server.url, 'clientA');
    const b = client(server.url, 'clientB');
    await within(Promise.all([a.sync.whenSynced(), b.sync.whenSynced()]), 5000, 'synced');
    b.sync.stop();
    const ea = a.replica.newEntity();
    await a.replica.localTransact({ ops: [{ op: 'add', e: ea, a: 'item/title', v: 'while B was away' }] });
    const eb = b.replica.newEntity();
    await b.replica.localTransact({ ops: [{ op: 'add', e: eb, a: 'item/title', v: 'written offline' }] });
    expect(b.sync.status()).toMatchObject({ online: false, pending: 1 });
    const cursorBefore = cursorPos(b.replica.cursor());
    b.sync.start();
    await within(Promise.all([a.sync.whenSynced(), b.sync.whenSynced()]), 5000, 'resynced');
    for (let i = 0; i < 100 && a.replica.value(eb, 'item/title') === null; i++) await sleep(10);
    expect(b.replica.value(ea, 'item/title')).toBe('while B was away');
    expect(a.replica.value(eb, 'item/title')).toBe('written offline');
    expect(cursorPos(b.replica.cursor())).toBeGreaterThan(cursorBefore);
    expect(a.replica.snapshot()).toBe(b.replica.snapshot());
  });

  it('deduplicates re-sent transactions: same position in both acks, stored once', async () => {
    const { server } = await start();
    const c = await raw(server.url);
    c.send({ t: 'hello', v: 1, replica: 'rawA', cursor: null });
    await c.until(() => c.msgs.some((m) => m.t === 'welcome'), 'welcome');
    const tx = `${Date.now().toString(36).padStart(12, '0')}-0000-rawA`;
    const env = { tx, replica: 'rawA', ops: [{ id: `${tx}/0`, tx, e: 'rawA.1', op: 'add', a: 'item/title', v: 'x' }] };
    c.send({ t: 'push', txs: [env] });
    c.send({ t: 'push', txs: [env, env] });
    await c.until(() => c.msgs.filter((m) => m.t === 'ack').length === 3, 'three acks');
    const acks = c.msgs.filter((m) => m.t === 'ack');
    expect(new Set(acks.map((m) => m.pos)).size).toBe(1);
    const head = server.head();
    expect(Number(acks[0].pos)).toBe(head);
  });

  it('keeps a transaction\'s first verdict: a copy of a rejected transaction arriving after the state changed is rejected again, never stored', async () => {
    // A client told "rejected" rolls the transaction back; if a copy still in flight (a duplicated
    // frame, a push on an older connection or another node) were judged afresh and stored, the
    // client would diverge from the log (network simulation, seed 1086).
    const { server, file } = await start();
    const c = await raw(server.url);
    c.send({ t: 'hello', v: 1, replica: 'rawV', cursor: null });
    await c.until(() => c.msgs.some((m) => m.t === 'welcome'), 'welcome');
    const answer = async (env: { tx: string }) => {
      c.send({ t: 'push', txs: [env] });
      await c.until(() => c.msgs.some((m) => (m.t === 'ack' || m.t === 'reject') && m.tx === env.tx), `answer to ${env.tx}`);
      const m = c.msgs.find((x) => (x.t === 'ack' || x.t === 'reject') && x.tx === env.tx);
      c.msgs.length = 0;
      return m;
    };
    const e = 'rawV.1';
    expect((await answer(envOf('rawV', [{ e, op: 'add', a: 'item/title', v: 't' }, { e, op: 'add', a: 'item/count', v: 4 }]))).t).toBe('ack');
    // cas "no count yet → 5" fails while the count is 4 …
    const cas = envOf('rawV', [{ e, op: 'add', a: 'item/count', v: 5 }], { checks: [{ kind: 'cas', e, a: 'item/count', expected: null, v: 5 }] });
    expect(await answer(cas)).toMatchObject({ t: 'reject', code: 'sync/cas-failed' });
    // … and would pass once the count is retracted: a copy of it keeps its first verdict
    expect((await answer(envOf('rawV', [{ e, op: 'retract', a: 'item/count' }]))).t).toBe('ack');
    expect(await answer(cas)).toMatchObject({ t: 'reject', code: 'sync/cas-failed' });
    // two copies in one push, and a copy after a restart, too
    c.send({ t: 'push', txs: [cas, cas] });
    await c.until(() => c.msgs.filter((m) => m.t === 'reject' && m.tx === cas.tx).length === 2, 'two rejects');
    c.ws.close();
    await server.close();
    const again = await createServer({ store: `sqlite:${file}`, port: 0, schema: TEST_SCHEMA });
    cleanups.push(() => again.close());
    const c2 = await raw(again.url);
    c2.send({ t: 'hello', v: 1, replica: 'rawV', cursor: null });
    c2.send({ t: 'push', txs: [cas] });
    await c2.until(() => c2.msgs.some((m) => m.t === 'reject' && m.tx === cas.tx), 'reject after a restart');
    // the same id with other content is judged on its own (nobody can have another's transaction refused in advance)
    const other = { ...cas, ops: cas.ops.map((o) => ({ ...o, v: 6 })), checks: [{ kind: 'cas', e, a: 'item/count', expected: null, v: 6 }] };
    c2.send({ t: 'push', txs: [other] });
    await c2.until(() => c2.msgs.some((m) => m.t === 'ack' && m.tx === cas.tx), 'other content judged afresh');
  });

  it('authenticates on upgrade (subprotocol token or query) and checks Origin', async () => {
    const { server } = await start({
      authenticate: (token) => (token === 's3cret' ? { id: 'u1' } : null),
      origins: ['https://app.example'],
    });
    await expect(raw(server.url)).rejects.toThrow(/401/);
    const ok = await raw(server.url, ['dataloom.v1', 'dataloom.token.' + Buffer.from('s3cret').toString('base64url')]);
    expect(ok.ws.protocol).toBe('dataloom.v1');
    const q = await raw(server.url + '?token=s3cret');
    expect(q.ws.readyState).toBe(WebSocket.OPEN);
    const bad = new WebSocket(server.url + '?token=s3cret', ['dataloom.v1'], { headers: { origin: 'https://evil.example' } });
    await expect(new Promise((res, rej) => (bad.once('open', res), bad.once('error', rej)))).rejects.toThrow(/403/);
    const good = new WebSocket(server.url + '?token=s3cret', ['dataloom.v1'], { headers: { origin: 'https://app.example' } });
    await new Promise((res, rej) => (good.once('open', res), good.once('error', rej)));
    good.close();
    // the sync client passes its token in the subprotocol list
    const a = client(server.url, 'clientA', { token: 's3cret' });
    await within(a.sync.whenSynced(), 5000, 'authenticated client synced');
  });

  it('authorizeWrite rejects forbidden transactions with sync/forbidden', async () => {
    const { server } = await start({ authorizeWrite: (_user, tx) => !tx.ops.some((o) => o.v === 'forbidden') });
    const a = client(server.url, 'clientA');
    const e = a.replica.newEntity();
    const r1 = await a.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/title', v: 'forbidden' }] });
    const r2 = await a.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/title', v: 'fine' }] });
    await expect(a.sync.waitForTx(r1.tx)).rejects.toMatchObject({ code: 'sync/forbidden' });
    const ack2 = await within(a.sync.waitForTx(r2.tx), 5000, 'second ack');
    // asked again after the fact: the remembered outcomes
    await expect(a.sync.waitForTx(r1.tx)).rejects.toMatchObject({ code: 'sync/forbidden' });
    expect((await a.sync.waitForTx(r2.tx)).pos).toBe(ack2.pos);
    expect(Number(ack2.pos)).toBeGreaterThan(0);
  });

  it('a re-push of a stored transaction is acknowledged at its position although authorizeWrite now refuses it; a refusal is kept for every copy', async () => {
    let allow = true;
    const { server } = await start({ authorizeWrite: () => allow });
    const c = await raw(server.url);
    c.send({ t: 'hello', v: 1, replica: 'rawW', cursor: null });
    await c.until(() => c.msgs.some((m) => m.t === 'welcome'), 'welcome');
    const answers = (tx: string) => c.msgs.filter((m) => (m.t === 'ack' || m.t === 'reject') && m.tx === tx);
    const stored = envOf('rawW', [{ e: 'rawW.1', op: 'add', a: 'item/title', v: 'kept' }]);
    c.send({ t: 'push', txs: [stored] });
    await c.until(() => answers(stored.tx).length === 1, 'ack');
    const pos = answers(stored.tx)[0].pos;
    allow = false;
    // the ack was lost, say: the client pushes it again after the permission was taken away
    const refused = envOf('rawW', [{ e: 'rawW.2', op: 'add', a: 'item/title', v: 'late' }]);
    c.send({ t: 'push', txs: [stored, refused] });
    await c.until(() => answers(stored.tx).length === 2 && answers(refused.tx).length === 1, 'answers');
    expect(answers(stored.tx)[1]).toEqual({ t: 'ack', tx: stored.tx, pos });
    expect(answers(refused.tx)[0]).toMatchObject({ t: 'reject', code: 'sync/forbidden' });
    allow = true;
    c.send({ t: 'push', txs: [refused] });
    await c.until(() => answers(refused.tx).length === 2, 'second answer');
    expect(answers(refused.tx)[1]).toMatchObject({ t: 'reject', code: 'sync/forbidden' });
    expect(server.head()).toBe(Number(pos));
  });

  it('closes connections that break limits with 1009 / 1008 and an error message', async () => {
    const { server } = await start({ limits: { maxMessageBytes: 4096, maxDepth: 6 } });
    const big = await raw(server.url);
    big.send('x'.repeat(5000));
    await big.until(() => big.closed() !== null, 'close');
    expect(big.closed()!.code).toBe(1009);
    const deep = await raw(server.url);
    deep.send('['.repeat(50) + ']'.repeat(50));
    await deep.until(() => deep.closed() !== null, 'close');
    expect(deep.closed()!.code).toBe(1008);
    expect(deep.msgs[0]).toMatchObject({ t: 'error', code: 'protocol/too-deep', fatal: true });
    const early = await raw(server.url);
    early.send({ t: 'push', txs: [] });
    await early.until(() => early.closed() !== null, 'close');
    expect(early.closed()!.code).toBe(1008);
  });

  it('refuses connections beyond maxConnections with 503', async () => {
    const { server } = await start({ limits: { maxConnections: 2 } });
    await raw(server.url);
    await raw(server.url);
    await expect(raw(server.url)).rejects.toThrow(/503/);
  });

  it('rate-limits a flooding connection without disturbing others', async () => {
    const { server } = await start({ limits: { messagesPerSecond: 10, messageBurst: 20 } });
    const a = client(server.url, 'clientA');
    await within(a.sync.whenSynced(), 5000, 'a synced');
    const flood = await raw(server.url);
    for (let i = 0; i < 100; i++) flood.send({ t: 'ping', n: i });
    await flood.until(() => flood.closed() !== null, 'close');
    expect(flood.closed()!.code).toBe(1008);
    expect(flood.msgs.at(-1)).toMatchObject({ t: 'error', code: 'protocol/rate-limit' });
    const e = a.replica.newEntity();
    const r = await a.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/title', v: 'still fine' }] });
    await within(a.sync.waitForTx(r.tx), 5000, 'a ack after flood');
  });

  it('serves /health and a static directory with SPA fallback and no path traversal', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    mkdirSync(join(t.dir, 'assets'));
    writeFileSync(join(t.dir, 'index.html'), '<h1>demo</h1>');
    writeFileSync(join(t.dir, 'assets', 'app.js'), 'console.log(1)');
    const { server } = await start({ static: t.dir });
    const h = await (await fetch(server.httpUrl + 'health')).json();
    expect(h).toMatchObject({ ok: true, store: 'sqlite' });
    expect(await (await fetch(server.httpUrl)).text()).toBe('<h1>demo</h1>');
    expect(await (await fetch(server.httpUrl + 'some/route')).text()).toBe('<h1>demo</h1>');
    const js = await fetch(server.httpUrl + 'assets/app.js');
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(server.httpUrl + '..%2f..%2fetc%2fpasswd')).status).toBe(404);
    expect((await fetch(server.httpUrl + 'missing.js')).status).toBe(404);
  });

  it('keeps acknowledged transactions across a restart on the same SQLite file', async () => {
    const { server, file } = await start();
    const a = client(server.url, 'clientA');
    const e = a.replica.newEntity();
    const r = await a.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/title', v: 'durable' }] });
    const ack = await within(a.sync.waitForTx(r.tx), 5000, 'ack');
    await server.close();
    const store = createSqliteStore({ file });
    await store.open();
    const all = await store.readSince(0, 100);
    await store.close();
    expect(all.find((x) => x.env.tx === r.tx)?.pos).toBe(Number(ack.pos));
  });

  it('schema changes sync as data; an offline client keeps compatible work, incompatible ops are rejected with a reason', async () => {
    const { server, file } = await start();
    const port = server.port;
    const a = client(server.url, 'clientA');
    const b = client(server.url, 'clientB');
    await within(Promise.all([a.sync.whenSynced(), b.sync.whenSynced()]), 5000, 'synced');
    b.sync.stop();
    const e = b.replica.newEntity();
    const ok = await b.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/title', v: 'kept' }] });
    const bad = await b.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/count', v: 5 }] });
    await server.close();
    const v2 = { ...TEST_SCHEMA, 'item/count': { 'db/valueType': 'db.type/string' }, 'item/due': { 'db/valueType': 'db.type/instant' } };
    const server2 = await createServer({ store: `sqlite:${file}`, port, schema: v2 });
    cleanups.push(() => server2.close());
    b.sync.start();
    await within(b.sync.waitForTx(ok.tx), 5000, 'compatible tx acked');
    await expect(b.sync.waitForTx(bad.tx)).rejects.toMatchObject({ code: 'sync/schema-mismatch' });
    await within(Promise.all([a.sync.whenSynced(), b.sync.whenSynced()]), 5000, 'resynced');
    const schemaOps = (r: typeof a.replica) => [...r.ops.values()].filter((o) => o.a === 'db/valueType').map((o) => (o.v as { kw: string }).kw);
    for (const r of [a.replica, b.replica]) {
      expect([...r.ops.values()].some((o) => o.a === 'db/ident' && (o.v as { kw: string }).kw === 'item/due')).toBe(true);
      expect(schemaOps(r)).toContain('db.type/instant');
    }
    expect(b.replica.value(e, 'item/title')).toBe('kept');
    expect(b.replica.value(e, 'item/count')).toBe(null);
    // a string count is now fine
    const now = await b.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/count', v: 'five' }] });
    await within(b.sync.waitForTx(now.tx), 5000, 'string count acked');
    // and clients may not change the schema themselves
    const sneaky = await a.replica.localTransact({ ops: [{ op: 'add', e: 'attr.x', a: 'db/ident', v: { kw: 'item/evil' } }] });
    await expect(a.sync.waitForTx(sneaky.tx)).rejects.toMatchObject({ code: 'sync/schema-forbidden' });
  });

  it('closes a client that does not read (bounded output buffer, 1013) without disturbing others', async () => {
    const { server } = await start({ limits: { maxBufferedBytes: 256 * 1024 } });
    const slow = await raw(server.url);
    slow.send({ t: 'hello', v: 1, replica: 'slowpoke', cursor: null });
    await slow.until(() => slow.msgs.some((m) => m.t === 'welcome'), 'welcome');
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const a = client(server.url, 'writer');
    const big = 'x'.repeat(200_000);
    for (let i = 0; i < 60; i++) await a.replica.localTransact({ ops: [{ op: 'add', e: a.replica.newEntity(), a: 'item/title', v: big }] });
    await within(a.sync.whenSynced(), 30_000, 'writer synced');
    for (let i = 0; i < 300 && server.connections() > 1; i++) await sleep(20);
    expect(server.connections()).toBe(1);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await slow.until(() => slow.closed() !== null, 'slow client closed');
    expect([1013, 1006]).toContain(slow.closed()!.code);
  });

  it('fans out across two server processes on one PostgreSQL database (LISTEN/NOTIFY)', async () => {
    const namespace = pgNamespace();
    const store = `${PG_URL}?namespace=${namespace}`;
    const n1 = await createServer({ store, port: 0, schema: TEST_SCHEMA });
    const n2 = await createServer({ store, port: 0, schema: TEST_SCHEMA, pollMs: 60_000 });
    cleanups.push(() => createPostgresStore({ url: PG_URL, namespace }).destroy(), () => n1.close(), () => n2.close());
    const a = client(n1.url, 'onNode1');
    const b = client(n2.url, 'onNode2');
    await within(Promise.all([a.sync.whenSynced(), b.sync.whenSynced()]), 10_000, 'synced');
    const acks: string[] = [];
    for (let i = 0; i < 5; i++) {
      const ra = await a.replica.localTransact({ ops: [{ op: 'add', e: a.replica.newEntity(), a: 'item/title', v: `from 1 #${i}` }] });
      const rb = await b.replica.localTransact({ ops: [{ op: 'add', e: b.replica.newEntity(), a: 'item/title', v: `from 2 #${i}` }] });
      await within(Promise.all([a.sync.waitForTx(ra.tx), b.sync.waitForTx(rb.tx)]), 10_000, 'acks');
      acks.push(a.replica.acked.get(ra.tx)!, b.replica.acked.get(rb.tx)!);
    }
    // one total order across both nodes: ten distinct positions
    expect(new Set(acks).size).toBe(10);
    expect(acks.every((p) => Number(p) > 0)).toBe(true);
    for (let i = 0; i < 200 && a.replica.snapshot() !== b.replica.snapshot(); i++) await sleep(20);
    expect(a.replica.snapshot()).toBe(b.replica.snapshot());
    expect(cursorPos(a.replica.cursor())).toBe(cursorPos(b.replica.cursor()));
  });

  it('restarts the stream for a cursor of another log (server data deleted and recreated)', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const first = await createServer({ store: `sqlite:${join(t.dir, 'one.sqlite')}`, port: 0, schema: TEST_SCHEMA });
    const port = first.port;
    const a = client(first.url, 'clientA');
    for (let i = 0; i < 3; i++) await a.replica.localTransact({ ops: [{ op: 'add', e: a.replica.newEntity(), a: 'item/title', v: `old ${i}` }] });
    await within(a.sync.whenSynced(), 5000, 'a synced on the first log');
    const oldCursor = a.replica.cursor()!;
    a.sync.stop();
    await first.close();
    // a new, longer log on the same address
    const second = await createServer({ store: `sqlite:${join(t.dir, 'two.sqlite')}`, port, schema: TEST_SCHEMA });
    cleanups.push(() => second.close());
    const b = client(second.url, 'clientB');
    const eb = b.replica.newEntity();
    for (let i = 0; i < 8; i++) await b.replica.localTransact({ ops: [{ op: 'add', e: eb, a: 'item/count', v: i }] });
    await within(b.sync.whenSynced(), 5000, 'b synced');
    expect(second.head()).toBeGreaterThan(cursorPos(oldCursor));
    a.sync.start();
    await within(a.sync.whenSynced(), 5000, 'a synced on the second log');
    for (let i = 0; i < 100 && a.replica.value(eb, 'item/count') !== 7; i++) await sleep(20);
    expect(a.replica.value(eb, 'item/count')).toBe(7);
    expect(a.replica.cursor()!.split(':')[0]).not.toBe(oldCursor.split(':')[0]);
  });
});
