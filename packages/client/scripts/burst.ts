/**
 * Burst profile of the real client (in-process, memory storage) against an in-process server:
 * A's 500 local transacts, then until B's watched count reaches 500; also the A-transact → B-diff
 * latency. `npx tsx packages/client/scripts/burst.ts` (add `node --cpu-prof --import tsx` to profile).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createServer } from '../../server/src/index.js';
import { freePort, startChild } from '@dataloom/test/sync/support/child.js';
import { createClient, type Client } from '../src/index.js';
import { Replica } from '../src/internals.js';

// how the sync client drives the replicas (messages per burst)
const stats = { applyRemote: 0, envelopes: 0, ack: 0 };
const applyRemote = Replica.prototype.applyRemote;
Replica.prototype.applyRemote = function (this: Replica, e, c) {
  stats.applyRemote++;
  stats.envelopes += e.length;
  return applyRemote.call(this, e, c);
};
const ack = Replica.prototype.ack;
Replica.prototype.ack = function (this: Replica, t, c) {
  stats.ack++;
  return ack.call(this, t, c);
};

const N = Number(process.env.BURST_N ?? 500);
const ROUNDS = Number(process.env.BURST_ROUNDS ?? 3);
const schema = { ':item/title': { ':db/valueType': ':db.type/string' }, ':item/count': { ':db/valueType': ':db.type/long' } };
const dir = mkdtempSync(join(tmpdir(), 'burst-'));
// BURST_CHILD=1: the server runs in a child process (as in bench/suites/sync.bench.ts), so this
// process's CPU time is the clients' alone
const limits = { messagesPerSecond: 100_000, messageBurst: 100_000 };
const server = process.env.BURST_CHILD
  ? await (async () => {
      const c = await startChild({ store: `sqlite:${join(dir, 'db.sqlite')}`, port: await freePort(), schema, limits, pollMs: 1000 });
      return { url: c.url, close: () => c.kill() };
    })()
  : await createServer({ store: `sqlite:${join(dir, 'db.sqlite')}`, port: 0, schema, limits: limits as never });
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let seq = 0;
const mk = (): Client => createClient({ name: `burst-${seq++}`, schema, storage: 'memory', tabs: false, url: server.url, WebSocket: WebSocket as never });
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const a = mk();
const b = mk();
await Promise.all([a.whenSynced(), b.whenSynced()]);
const res = await a.transact([{ ':db/id': 'x', ':item/title': 'latency', ':item/count': 0 }]);
const eid = res.tempids.x!;
const view = b.watch('[:find ?c . :where [?e :item/title "latency"] [?e :item/count ?c]]');
await view.ready;
let wake: (() => void) | null = null;
view.subscribe(() => wake?.());
const lat: number[] = [];
for (let i = 0; i < 120; i++) {
  const p = new Promise<void>((r) => (wake = r));
  const t0 = performance.now();
  await a.transact([[':db/add', eid, ':item/count', 1000 + i]]);
  await p;
  if (i >= 20) lat.push(performance.now() - t0);
}
console.log(`a->b diff median ${pct(lat, 50).toFixed(2)} ms p99 ${pct(lat, 99).toFixed(2)} ms`);
const totals: number[] = [];
const cpus: number[] = [];
const locals: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const title = `burst${round}`;
  const count = b.watch(`[:find (count ?e) . :where [?e :item/title "${title}"]]`);
  await count.ready;
  const done = new Promise<void>((r) => count.subscribe(() => count.result() === N && r()));
  const t0 = performance.now();
  const c0 = cpu();
  const local: Array<Promise<unknown>> = [];
  for (let i = 0; i < N; i++) local.push(a.transact([{ ':item/title': title, ':item/count': i }]));
  await Promise.all(local);
  const tLocal = performance.now() - t0;
  await done;
  totals.push(performance.now() - t0);
  cpus.push(cpu() - c0);
  locals.push(tLocal);
  if (process.env.BURST_VERBOSE) {
    console.log(`  replica calls since the previous line: ${JSON.stringify(stats)}`);
    console.log(`burst ${N}: total ${(performance.now() - t0).toFixed(1)} ms, local part ${tLocal.toFixed(1)} ms`);
  }
  Object.assign(stats, { applyRemote: 0, envelopes: 0, ack: 0 });
  count.close();
}
console.log(`burst ${N} × ${ROUNDS}: total median ${pct(totals, 50).toFixed(1)} ms (min ${Math.min(...totals).toFixed(1)}), local part median ${pct(locals, 50).toFixed(1)} ms (min ${Math.min(...locals).toFixed(1)}), CPU of this process median ${pct(cpus, 50).toFixed(1)} ms`);
await a.close();
await b.close();
await server.close();
rmSync(dir, { recursive: true, force: true });
