/**
 * A live `asOf` view at a fixed time moves when an op stamped before that time arrives late:
 * client B writes while offline, client A watches the database as of a moment after B's write,
 * then the server comes up and B's write reaches A's view (real sync server, SQLite, loopback
 * WebSockets). A write stamped after the time does not move it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../sync/support/wait.js';
import { freePort as reservePort, releasePort } from '../sync/support/child.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createClient, type Client } from '@dataloom/client';
import { createServer } from '../../packages/server/src/index.js';

const schema = { 'item/title': { ':db/valueType': ':db.type/string' } };

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

let n = 0;
function client(url: string): Client {
  const c = createClient({ name: `time-views-${n++}`, schema, storage: 'memory', tabs: false, url, WebSocket: WebSocket as never });
  cleanups.push(() => c.close());
  return c;
}
const titles = (x: unknown) => [...((x as string[] | null) ?? [])].sort();

describe('live asOf views and late ops', () => {
  it('an offline write stamped before the view’s time reaches it when it syncs; a later one does not', async () => {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}/`;
    const a = client(url);
    const b = client(url);
    await b.transact([{ 'item/title': 'offline on B' }]);
    await new Promise((r) => setTimeout(r, 5));
    const t = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    await a.transact([{ 'item/title': 'after t on A' }]);
    const view = a.watch({ query: '[:find [?t ...] :where [_ :item/title ?t]]', asOf: t });
    const now = a.watch('[:find [?t ...] :where [_ :item/title ?t]]');
    await Promise.all([view.ready, now.ready]);
    expect(titles(view.result())).toEqual([]);

    const dir = mkdtempSync(join(tmpdir(), 'dataloom-time-views-'));
    const s = await createServer({ store: `sqlite:${join(dir, 'db.sqlite')}`, port, schema });
    cleanups.unshift(() => rmSync(dir, { recursive: true, force: true }), () => s.close());
    await until(() => titles(now.result()).length === 2, 'A receives B’s write');
    await until(() => titles(view.result()).length === 1, 'the as-of view receives it');
    expect(titles(view.result())).toEqual(['offline on B']);
    await b.transact([{ 'item/title': 'later on B' }]);
    await until(() => titles(now.result()).length === 3, 'A receives B’s later write');
    expect(titles(view.result())).toEqual(['offline on B']);
  });

  it('a rolled-back write leaves a since view (the value it restores, decided before, stays out) and an as-of view', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataloom-time-views-'));
    const s = await createServer({ store: `sqlite:${join(dir, 'db.sqlite')}`, port: 0, schema, authorizeWrite: (_u, tx) => !tx.ops.some((o) => o.v === 'forbidden') });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => s.close());
    const a = client(s.url);
    const first = await a.transact([{ ':db/id': 'x', 'item/title': 'ok' }]);
    await a.confirmed(first.tx);
    const e = first.tempids.x!;
    const recent = a.watch({ query: '[:find [?t ...] :where [_ :item/title ?t]]', since: first.tx });
    const now = a.watch('[:find [?t ...] :where [_ :item/title ?t]]');
    const ahead = a.watch({ query: '[:find [?t ...] :where [_ :item/title ?t]]', asOf: Date.now() + 60_000 }); // an as-of view holding every op
    await Promise.all([recent.ready, now.ready, ahead.ready]);
    expect(titles(recent.result())).toEqual([]);
    const aheadSeen: string[][] = [];
    ahead.subscribe(() => aheadSeen.push(titles(ahead.result())));
    const seen: string[][] = [];
    recent.subscribe(() => seen.push(titles(recent.result())));
    const bad = await a.transact([[':db/add', e, ':item/title', 'forbidden']]);
    await expect(a.confirmed(bad.tx)).rejects.toMatchObject({ code: expect.any(String) });
    await until(() => titles(now.result()).join() === 'ok', 'rolled back');
    await until(() => titles(recent.result()).length === 0, 'the since view drops the rolled-back write');
    expect(seen.some((r) => r.join() === 'forbidden')).toBe(true); // it was there optimistically
    expect(titles(recent.result())).toEqual([]); // 'ok' was decided before the view's time
    await until(() => titles(ahead.result()).join() === 'ok', 'the as-of view gives the rolled-back op up');
    expect(aheadSeen.some((r) => r.join() === 'forbidden')).toBe(true);
    await a.transact([[':db/add', e, ':item/title', 'better']]);
    await until(() => titles(recent.result()).join() === 'better', 'a later write shows');
  });
});
