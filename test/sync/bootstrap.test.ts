/**
 * Bootstrap from a snapshot and log compaction (issue 10, item 3), against the real server, real
 * SQLite files and the real PostgreSQL database, over real WebSockets:
 *
 * - a fresh client (no read rules, no scope) receives the current state, not the log, and converges
 *   with a client that followed the whole log;
 * - a fresh client with a scope receives that scope at hello; a resuming one is told to keep a list
 *   as long as its scope, not everything;
 * - the log compacted below a retention horizon: a client offline past it is bootstrapped (never a
 *   gap) and converges; a server restarted on the compacted store (SQLite and PostgreSQL) rebuilds
 *   the same state and goes on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cursorPos } from '@dataloom/protocol';
import { createServer, type DataloomServer } from '../../packages/server/src/index.js';
import { openStore } from '../../packages/server/src/storage/open.js';
import { PG_URL, TEST_SCHEMA, makeClient, pgNamespace, tempDir, until, within } from './support/harness.js';
import { materialize, type MemoryReplica } from './support/memory-replica.js';
import { raw } from './support/raw.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type Peer = ReturnType<typeof makeClient>;

function peer(url: string, id: string): Peer {
  const p = makeClient(url, id);
  cleanups.push(() => p.sync.close());
  return p;
}

/** `n` transactions of `p`: items created, counts overwritten, tags added and removed, an item retracted. */
async function write(p: Peer, n: number, salt: string): Promise<void> {
  const own = (r: MemoryReplica) => [...new Set([...r.ops.values()].filter((o) => o.a === 'item/title').map((o) => o.e))].sort();
  for (let i = 0; i < n; i++) {
    const ents = own(p.replica);
    if (ents.length < 4 || i % 7 === 0) {
      const e = p.replica.newEntity();
      await p.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/title', v: `${salt}-${i}` }, { op: 'add', e, a: 'item/count', v: i }] });
      continue;
    }
    const e = ents[i % ents.length]!;
    if (i % 11 === 0) await p.replica.localTransact({ ops: [{ op: 'retractEntity', e }] });
    else if (i % 3 === 0) await p.replica.localTransact({ ops: [{ op: i % 2 ? 'retract' : 'add', e, a: 'item/tags', v: `t${i % 4}` }] });
    else await p.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/count', v: 1000 + i }] });
  }
}

async function synced(...ps: Peer[]): Promise<void> {
  await within(Promise.all(ps.map((p) => p.sync.whenSynced())), 20_000, 'synced');
}

async function sqliteServer(extra: Record<string, unknown> = {}): Promise<{ server: DataloomServer; store: string; reopen(extra?: Record<string, unknown>): Promise<DataloomServer> }> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return serverOn(`sqlite:${join(t.dir, 'db.sqlite')}`, extra);
}

async function serverOn(store: string, extra: Record<string, unknown> = {}) {
  const open = async (more: Record<string, unknown> = {}) => {
    const s = await createServer({ store, port: 0, schema: TEST_SCHEMA, onError: () => {}, ...extra, ...more });
    cleanups.push(() => s.close());
    return s;
  };
  return { server: await open(), store, reopen: open };
}

/** The frames a bare connection receives after saying `hello` (its cursor, its scope), until the stream is at the head. */
async function helloFrames(url: string, hello: Record<string, unknown>, head: number): Promise<any[]> {
  const c = await raw(url, cleanups);
  c.send({ t: 'hello', v: 1, replica: 'rawboot', cursor: null, ...hello });
  await c.until(() => c.msgs.some((m) => m.t === 'ops' && cursorPos(m.cursor) >= head && !m.more), 'the stream at the head', 10_000);
  return c.msgs;
}

describe('bootstrap from a snapshot', () => {
  it('a fresh client receives the current state, not the log, and converges with a client that followed the log', async () => {
    const { server } = await sqliteServer();
    const a = peer(server.url, 'boota');
    await write(a, 60, 'a');
    await synced(a);
    const head = server.head();
    const frames = await helloFrames(server.url, {}, head);
    const ops = frames.filter((m) => m.t === 'ops');
    // one state: every envelope stamped with the head's position, the cursor jumps from nothing to the head
    expect(ops.flatMap((m) => m.txs.map((x: { pos: string }) => x.pos))).toEqual(ops.flatMap((m) => m.txs.map(() => String(head))));
    expect(frames.some((m) => m.t === 'readable')).toBe(false);
    const b = peer(server.url, 'bootb');
    await synced(b);
    expect(b.replica.snapshot()).toBe(a.replica.snapshot());
    // and then the live tail
    await write(b, 15, 'b');
    await write(a, 15, 'a2');
    await synced(a, b);
    await until(() => cursorPos(a.replica.cursor()) === server.head() && cursorPos(b.replica.cursor()) === server.head(), 'both at the head');
    expect(b.replica.snapshot()).toBe(a.replica.snapshot());
  });

  it('a fresh scoped client receives its scope at hello; a resuming one is told to keep its scope, not everything', async () => {
    const { server } = await sqliteServer();
    const a = peer(server.url, 'scopea');
    await write(a, 40, 'a');
    const list = a.replica.newEntity();
    const mine = a.replica.newEntity();
    await a.replica.localTransact({ ops: [{ op: 'add', e: list, a: 'item/title', v: 'the list' }, { op: 'add', e: mine, a: 'item/title', v: 'in the list' }, { op: 'add', e: mine, a: 'item/owner', v: { ref: list } }] });
    await synced(a);
    const head = server.head();
    const scopes = [{ query: '[:find ?i :in $ ?t :where [?l :item/title ?t] [?i :item/owner ?l]]', inputs: ['the list'] }];
    const fresh = await helloFrames(server.url, { scopes }, head);
    const sent = fresh.filter((m) => m.t === 'ops').flatMap((m) => m.txs.flatMap((x: { env: { ops: Array<{ e: string; a: string }> } }) => x.env.ops));
    expect(new Set(sent.filter((o) => !o.a?.startsWith('db/')).map((o) => o.e))).toEqual(new Set([mine]));
    expect(fresh.some((m) => m.t === 'readable')).toBe(false);
    // resuming from a cursor: the list of what to keep is the scope (one entity), not the database
    const resumed = await helloFrames(server.url, { cursor: a.replica.cursor(), scopes }, head);
    const keep = resumed.filter((m) => m.t === 'readable');
    expect(keep.flatMap((m) => m.es)).toEqual([mine]);
    expect(keep.flatMap((m) => m.attrs)).toEqual([]);
  });
});

describe('retention option', () => {
  it('is checked before anything starts: a typed error naming the field', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const store = `sqlite:${join(t.dir, 'db.sqlite')}`;
    for (const [retention, field, says] of [
      [{ entries: -1 }, 'retention.entries', /non-negative integer, got -1/],
      [{ ms: Number('x') }, 'retention.ms', /got NaN/],
      [{ everyMs: 0, entries: 5 }, 'retention.everyMs', /positive integer/],
      [{ keep: 5 }, 'retention.keep', /not an option/],
      [{}, 'retention.entries', /or retention.ms must be given/],
    ] as const) {
      await expect(createServer({ store, port: 0, retention: retention as never })).rejects.toMatchObject({ code: 'server/bad-option', data: { field }, message: expect.stringMatching(says) });
    }
  });
});

describe('log compaction while a client reads the log', () => {
  it('a connection caught below the new horizon is closed with sync/compacted (1013), never streamed the gap', { timeout: 60_000 }, async () => {
    const { server } = await sqliteServer({ retention: { entries: 2, everyMs: 3_600_000 }, limits: { maxBufferedBytes: 1 << 20 } });
    const a = peer(server.url, 'gapa');
    const e = a.replica.newEntity();
    for (let i = 0; i < 120; i++) await a.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/title', v: `${i}:${'x'.repeat(60_000)}` }] });
    await synced(a);
    const head = server.head();
    // a reader resuming near the start, which stops reading after its first frames
    const r = await raw(server.url, cleanups);
    const welcome = new Promise<{ head: string }>((res) => r.ws.once('message', (d) => res(JSON.parse(String(d)))));
    r.send({ t: 'hello', v: 1, replica: 'gapreader', cursor: null });
    const log = (await welcome).head.split(':')[0];
    r.ws.terminate();
    const reader = await raw(server.url, cleanups);
    const socket = (reader.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    reader.send({ t: 'hello', v: 1, replica: 'gapreader', cursor: `${log}:1` });
    await reader.until(() => reader.msgs.some((m) => m.t === 'ops'), 'the first page');
    socket.pause();
    const horizon = await server.compact();
    expect(horizon).toBe(head - 2);
    socket.resume();
    await reader.until(() => reader.closed() !== null, 'the close', 20_000);
    const err = reader.msgs.find((m) => m.t === 'error');
    expect(err).toMatchObject({ code: 'sync/compacted', fatal: true });
    expect(reader.closed()!.code).toBe(1013);
    // it had read only part of the log: what it lacks was never streamed with a gap, it reconnects into a bootstrap
    const pages = reader.msgs.filter((x) => x.t === 'ops');
    expect(Number(pages[pages.length - 1].cursor.split(':')[1])).toBeLessThan(horizon);
    const frames = await helloFrames(server.url, { cursor: pages[pages.length - 1].cursor }, server.head());
    expect(frames.some((m) => m.t === 'error')).toBe(false);
  });
});

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`log compaction below a retention horizon (${kind})`, () => {
    it('a client offline past the horizon is bootstrapped and converges; a restart on the compacted store rebuilds the same state', { timeout: 60_000 }, async () => {
      const t = tempDir();
      cleanups.push(t.cleanup);
      const store = kind === 'sqlite' ? `sqlite:${join(t.dir, 'db.sqlite')}` : `${PG_URL}?namespace=${pgNamespace()}`;
      if (kind === 'postgres') cleanups.push(async () => openStore(store).destroy());
      const { server, reopen } = await serverOn(store, { retention: { entries: 5, everyMs: 3_600_000 } });
      const a = peer(server.url, 'cmpa');
      const b = peer(server.url, 'cmpb');
      await write(a, 10, 'a');
      await synced(a, b);
      await until(() => b.replica.snapshot() === a.replica.snapshot(), 'b caught up');
      b.sync.stop();
      const away = cursorPos(b.replica.cursor());
      await write(a, 50, 'a2');
      // b writes while offline: its outbox goes after the bootstrap
      await write(b, 5, 'b');
      await synced(a);
      const horizon = await server.compact();
      expect(horizon).toBe(server.head() - 5);
      expect(horizon).toBeGreaterThan(away);
      // a bare client at b's old cursor is bootstrapped from the state (its cursor jumps to the head), never given the gap
      const frames = await helloFrames(server.url, { cursor: b.replica.cursor() }, server.head());
      expect(frames.some((m) => m.t === 'error')).toBe(false);
      const firstOps = frames.find((m) => m.t === 'ops' && !m.more);
      expect(firstOps.txs.every((x: { pos: string }) => x.pos === String(frames[0].head.split(':')[1]))).toBe(true);
      b.sync.start();
      await synced(a, b);
      await until(() => cursorPos(a.replica.cursor()) === server.head() && cursorPos(b.replica.cursor()) === server.head(), 'both at the head');
      expect(b.replica.snapshot()).toBe(a.replica.snapshot());
      const before = a.replica.snapshot();

      // restart on the compacted store: the state is rebuilt from the rewritten log
      a.sync.stop();
      b.sync.stop();
      await server.close();
      const check = openStore(store);
      await check.open();
      const log = await check.readSince(0, 1e6);
      expect(await check.horizon()).toBe(horizon);
      await check.close();
      const written = log.length;
      expect(log.map((e) => e.pos)).toEqual(Array.from({ length: written }, (_, i) => i + 1));
      expect(materialize(log.flatMap((e) => e.env.ops))).toBe(before);
      // superseded ops below the horizon are gone from the log (a followed the whole log: it holds every op)
      expect(log.reduce((n, e) => n + e.env.ops.length, 0)).toBeLessThan(a.replica.ops.size);
      expect(log.filter((e) => e.pos > horizon).reduce((n, e) => n + e.env.ops.length, 0)).toBeGreaterThan(0);
      const again = await reopen({ port: server.port });
      const c = peer(again.url, 'cmpc');
      await synced(c);
      expect(c.replica.snapshot()).toBe(before);
      // the clients that followed go on against the restarted server (their cursors are above the horizon)
      a.sync.start();
      b.sync.start();
      await write(a, 10, 'a3');
      await synced(a, b, c);
      await until(() => c.replica.snapshot() === a.replica.snapshot() && b.replica.snapshot() === a.replica.snapshot(), 'everyone follows a after the restart');
    });
  });
}
