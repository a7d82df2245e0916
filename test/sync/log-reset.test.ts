/**
 * A client meeting another log (`welcome` with `reset`): its server's data was wiped and made
 * again, it points at another server, or the server was restored from a backup (its log lost
 * entries the client saw: the client's cursor is ahead of it). Real server processes on SQLite files, real clients
 * (`createClient`, IndexedDB store through fake-indexeddb) over real WebSockets. After the reset
 * the replica holds exactly the new log's state plus its own writes — those the old server
 * acknowledged and those still pending, pushed again (`replica/remote.ts` `resetLog`) — and nothing
 * of the other replicas of the old log; a client of the new log converges with it, a watched query
 * got the diffs to its final result, and a reload shows the same.
 */
import 'fake-indexeddb/auto';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client, type ClientOptions } from '../../packages/client/src/index.js';
import { mulberry32, pick, replayableAsync, seeds } from '../gen/prng.js';
import { freePort, releasePort, startChild, type ChildServer } from './support/child.js';
import { TEST_SCHEMA, tempDir, within } from './support/harness.js';
import { until } from './support/wait.js';

const SCHEMA = {
  ':item/title': { ':db/valueType': ':db.type/string' },
  ':item/count': { ':db/valueType': ':db.type/long' },
  ':item/tags': { ':db/valueType': ':db.type/string', ':db/cardinality': ':db.cardinality/many' },
  ':item/owner': { ':db/valueType': ':db.type/ref' },
};
const ROWS = '[:find ?t ?c :where [?e :item/title ?t] [?e :item/count ?c]]';
const COUNTS = '[:find ?e ?c :where [?e :item/count ?c]]';

const t = tempDir();
const children: ChildServer[] = [];
const clients: Client[] = [];
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
  for (const c of children) await c.kill('SIGTERM').catch(() => {});
  t.cleanup();
});

async function server(file: string, port: number): Promise<ChildServer> {
  const c = await startChild({ store: `sqlite:${join(t.dir, file)}`, port, schema: TEST_SCHEMA });
  children.push(c);
  return c;
}

function client(name: string, url: string | undefined, storage: 'indexeddb' | 'memory', extra: Partial<ClientOptions> = {}): Client {
  const sync = url === undefined ? {} : { url, WebSocket: WebSocket as never };
  const c = createClient({ name, schema: SCHEMA, storage, tabs: false, ...sync, ...extra });
  clients.push(c);
  return c;
}

const rowsOf = async (c: Client) => new Set([...((await c.q(ROWS)) as Iterable<[string, number]>)].map(([title, n]) => `${title}=${n}`));

/** `n` transactions of writer `who`: new items, and updates of items it made (or, for X, of other writers' items). */
async function write(rnd: () => number, c: Client, who: string, n: number, others: number[] = []): Promise<string[]> {
  const txs: string[] = [];
  const mine: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    let res;
    if (r < 0.3 && mine.length) res = await c.transact([[':db/add', pick(rnd, mine), ':item/count', Math.floor(rnd() * 100)]]);
    else if (r < 0.4 && others.length) res = await c.transact([[':db/add', pick(rnd, others), ':item/count', 1000 + i]]);
    else {
      res = await c.transact([{ ':db/id': 'n', ':item/title': `${who}-${i}`, ':item/count': i, ':item/tags': [pick(rnd, ['a', 'b'])] }]);
      mine.push(res.tempids.n as number);
    }
    txs.push(res.tx);
  }
  return txs;
}

describe('a client meeting another log (reset)', () => {
  it('server data wiped: the replica becomes the new log plus its own writes, converges with the new log’s clients, reload shows the same', async () => {
    for (const seed of seeds(2, 4100)) {
      console.log(`log reset (wiped server): seed ${seed}`);
      await replayableAsync(seed, async () => {
        const rnd = mulberry32(seed);
        const port = await freePort();
        const url = `ws://127.0.0.1:${port}/`;
        let a: ChildServer | null = await server(`a-${seed}.sqlite`, port);
        const name = `reset-x-${seed}-${Date.now()}`;
        const x = client(name, url, 'indexeddb');
        const y = client(`reset-y-${seed}`, url, 'memory');
        await within(Promise.all([x.whenSynced(), y.whenSynced()]), 20_000, 'synced with A');
        await write(rnd, y, 'y', 6);
        await within(y.whenSynced(), 20_000, 'y synced');
        await within(x.whenSynced(), 20_000, 'x synced');
        await until(async () => [...(await rowsOf(x))].filter((r) => r.startsWith('y-')).length > 0, 'x holds y’s writes');
        const yEntities = [...((await x.q(COUNTS)) as Iterable<[number, number]>)].map(([e]) => e);
        const xAcked = await write(rnd, x, 'x', 8, yEntities);
        await within(Promise.all(xAcked.map((tx) => x.confirmed(tx))), 20_000, 'x acked by A');
        await within(x.whenSynced(), 20_000, 'x synced');
        const beforeRows = await rowsOf(x);
        expect([...beforeRows].some((r) => r.startsWith('y-'))).toBe(true);
        const view = x.watch(ROWS);
        await view.ready;
        const diffs: Array<[unknown, unknown, number]> = [];
        view.subscribe((d) => diffs.push(...(d as Array<[unknown, unknown, number]>)));

        // Y leaves for good (were it to reconnect, it would meet the reset too and push its own writes again)
        await y.close();
        // A goes; its data is wiped: a fresh log on the same address (another log id)
        await a.kill('SIGTERM');
        a = null;
        await until(async () => (await x.syncStatus()).online === false, 'x offline');
        // written while no server answers: pending
        const xPending = await write(rnd, x, 'xp', 3);
        const b = await server(`b-${seed}.sqlite`, port);
        const z = client(`reset-z-${seed}`, b.url, 'memory');
        await write(rnd, z, 'z', 5);
        await within(z.whenSynced(), 20_000, 'z synced with B');

        // X reconnects by itself (backoff), meets the reset
        await within(Promise.all([...xAcked, ...xPending].map((tx) => x.confirmed(tx))), 30_000, 'x writes acknowledged by B');
        await within(x.whenSynced(), 30_000, 'x synced with B');
        await within(z.whenSynced(), 20_000, 'z synced');
        await until(async () => JSON.stringify([...(await rowsOf(x))].sort()) === JSON.stringify([...(await rowsOf(z))].sort()), 'x and z converge');
        const rows = await rowsOf(x);
        expect([...rows].some((r) => r.startsWith('y-'))).toBe(false);
        expect([...rows].filter((r) => r.startsWith('z-'))).toHaveLength([...(await rowsOf(z))].filter((r) => r.startsWith('z-')).length);
        // every item X made (acknowledged by A, or pending) is on the new log with its own count
        const xTitles = [...beforeRows].filter((r) => r.startsWith('x-'));
        for (const r of xTitles) expect(rows.has(r)).toBe(true);
        expect([...rows].filter((r) => r.startsWith('xp-')).length).toBeGreaterThan(0);
        expect((await x.syncStatus()).quarantined).toBe(0);
        expect(await x.pending()).toEqual([]);
        // the watched query's diffs lead from what it showed to the result now, Y's rows retracted
        await until(() => (view.result() as Set<unknown>).size === rows.size, 'view caught up');
        expect(new Set([...(view.result() as Set<[string, number]>)].map(([title, n]) => `${title}=${n}`))).toEqual(rows);
        expect(diffs.some(([row, , m]) => m === -1 && String((row as unknown[])[0]).startsWith('y-'))).toBe(true);
        view.close();

        // a reload (no server) shows the same; the store holds nothing of Y
        await x.close();
        const again = client(name, undefined, 'indexeddb');
        await again.ready;
        expect(await rowsOf(again)).toEqual(rows);
        expect(await again.pending()).toEqual([]);
        await again.close();
        await b.kill('SIGTERM');
        releasePort(port);
      });
    }
  });

  it('a client pointed at another server: the same, and a second reset changes nothing more', async () => {
    const seed = seeds(1, 4200)[0]!;
    console.log(`log reset (other server): seed ${seed}`);
    await replayableAsync(seed, async () => {
      const rnd = mulberry32(seed);
      const [pa, pb] = [await freePort(), await freePort()];
      const a = await server(`oa-${seed}.sqlite`, pa);
      const b = await server(`ob-${seed}.sqlite`, pb);
      const name = `reset-o-${seed}-${Date.now()}`;
      let x = client(name, a.url, 'indexeddb');
      const y = client(`reset-oy-${seed}`, a.url, 'memory');
      const z = client(`reset-oz-${seed}`, b.url, 'memory');
      await write(rnd, y, 'y', 4);
      await within(y.whenSynced(), 20_000, 'y synced');
      await within(x.whenSynced(), 20_000, 'x synced with A');
      const mine = await write(rnd, x, 'x', 5);
      await within(Promise.all(mine.map((tx) => x.confirmed(tx))), 20_000, 'x acked by A');
      await within(x.whenSynced(), 20_000, 'x synced with A');
      await until(async () => [...(await rowsOf(x))].some((r) => r.startsWith('y-')), 'x holds y’s writes');
      const before = await rowsOf(x);
      expect([...before].some((r) => r.startsWith('y-'))).toBe(true);
      await write(rnd, z, 'z', 4);
      await within(z.whenSynced(), 20_000, 'z synced with B');
      await x.close();

      x = client(name, b.url, 'indexeddb');
      await within(x.whenSynced(), 30_000, 'x synced with B');
      await within(z.whenSynced(), 20_000, 'z synced');
      await until(async () => JSON.stringify([...(await rowsOf(x))].sort()) === JSON.stringify([...(await rowsOf(z))].sort()), 'x and z converge');
      const rows = await rowsOf(x);
      expect([...rows].some((r) => r.startsWith('y-'))).toBe(false);
      for (const r of before) if (r.startsWith('x-')) expect(rows.has(r)).toBe(true);
      await x.close();

      // back to A: another reset; B's ops go, X's own stay, A's log converges
      x = client(name, a.url, 'indexeddb');
      await within(x.whenSynced(), 30_000, 'x synced with A again');
      await within(y.whenSynced(), 20_000, 'y synced');
      await until(async () => JSON.stringify([...(await rowsOf(x))].sort()) === JSON.stringify([...(await rowsOf(y))].sort()), 'x and y converge');
      const back = await rowsOf(x);
      expect([...back].some((r) => r.startsWith('z-'))).toBe(false);
      expect([...back].some((r) => r.startsWith('y-'))).toBe(true);
      for (const r of rows) if (r.startsWith('x-')) expect(back.has(r)).toBe(true);
      await x.close();
      releasePort(pa);
      releasePort(pb);
    });
  });

  it('server restored from a backup (same log, fewer entries): the client’s cursor is ahead, it resets and pushes its own later writes again', async () => {
    const seed = seeds(1, 4300)[0]!;
    console.log(`log reset (restored server): seed ${seed}`);
    await replayableAsync(seed, async () => {
      const rnd = mulberry32(seed);
      const port = await freePort();
      const url = `ws://127.0.0.1:${port}/`;
      const file = join(t.dir, `r-${seed}.sqlite`);
      const backup = join(t.dir, `r-${seed}.backup`);
      const sqliteFiles = (f: string) => [f, `${f}-wal`, `${f}-shm`];
      let a = await server(`r-${seed}.sqlite`, port);
      const name = `reset-r-${seed}-${Date.now()}`;
      const x = client(name, url, 'indexeddb');
      const y = client(`reset-ry-${seed}`, url, 'memory');
      await write(rnd, y, 'y', 3);
      const early = await write(rnd, x, 'x', 3);
      await within(Promise.all(early.map((tx) => x.confirmed(tx))), 20_000, 'early writes acked');
      await within(Promise.all([x.whenSynced(), y.whenSynced()]), 20_000, 'synced');
      await a.kill('SIGTERM');
      for (const [from, to] of sqliteFiles(file).map((f, i) => [f, sqliteFiles(backup)[i]!] as const)) if (existsSync(from)) copyFileSync(from, to);
      a = await server(`r-${seed}.sqlite`, port);
      // written after the backup: Y's are lost with the restore (Y is gone), X's must come back
      await write(rnd, y, 'ylate', 3);
      const late = await write(rnd, x, 'xlate', 3);
      await within(Promise.all(late.map((tx) => x.confirmed(tx))), 20_000, 'late writes acked');
      await within(Promise.all([x.whenSynced(), y.whenSynced()]), 20_000, 'synced');
      await until(async () => [...(await rowsOf(x))].some((r) => r.startsWith('ylate-')), 'x holds y’s late writes');
      const held = await rowsOf(x);
      await y.close();
      await a.kill('SIGTERM');
      for (const f of sqliteFiles(file)) rmSync(f, { force: true });
      for (const [from, to] of sqliteFiles(backup).map((f, i) => [f, sqliteFiles(file)[i]!] as const)) if (existsSync(from)) copyFileSync(from, to);
      a = await server(`r-${seed}.sqlite`, port);
      const z = client(`reset-rz-${seed}`, url, 'memory');
      await within(x.whenSynced(), 30_000, 'x synced with the restored log');
      await until(async () => JSON.stringify([...(await rowsOf(x))].sort()) === JSON.stringify([...(await rowsOf(z))].sort()), 'x and z converge');
      const rows = await rowsOf(x);
      expect([...rows].some((r) => r.startsWith('ylate-'))).toBe(false);
      expect([...rows].some((r) => r.startsWith('y-'))).toBe(true);
      for (const r of held) if (r.startsWith('x-') || r.startsWith('xlate-')) expect(rows.has(r)).toBe(true);
      expect(await x.pending()).toEqual([]);
      await a.kill('SIGTERM');
      releasePort(port);
    });
  });
});
