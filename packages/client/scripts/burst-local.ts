/**
 * Client-only burst costs (no network; `BURST_STORAGE=indexeddb` for fake-indexeddb): A's N local transacts with a watched query, then B
 * applying A's N envelopes as the sync client delivers them (one `applyRemote` per envelope,
 * awaited serially, plus one ack per tx at A). `npx tsx packages/client/scripts/burst-local.ts`.
 */
import 'fake-indexeddb/auto';
import { createClient, type Client } from '../src/index.js';
import { serviceOf } from '../src/internals.js';
import type { TxEnvelope } from '@dataloom/core';

const N = Number(process.env.BURST_N ?? 500);
const ROUNDS = Number(process.env.BURST_ROUNDS ?? 5);
const schema = { ':item/title': { ':db/valueType': ':db.type/string' }, ':item/count': { ':db/valueType': ':db.type/long' } };
function open(name: string): Client {
  // BURST_STORAGE=indexeddb: fake-indexeddb (one IndexedDB transaction per store write)
  const storage = process.env.BURST_STORAGE === 'indexeddb' ? 'indexeddb' : 'memory';
  return createClient({ name: `${name}-${process.pid}`, schema, storage, tabs: false });
}
const a = { client: open('a') };
const b = { client: open('b') };
await a.client.ready;
await b.client.ready;
const ra = serviceOf(a.client)!.replica;
const rb = serviceOf(b.client)!.replica;
const envs: TxEnvelope[] = [];
ra.onPersisted((e) => {
  if (e.kind === 'local') envs.push(e.envelope);
});
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const tl: number[] = [], tr: number[] = [], ta: number[] = [];
const cpuStart = cpu();
for (let round = 0; round < ROUNDS; round++) {
  const title = `burst${round}`;
  const wa = a.client.watch(`[:find (count ?e) . :where [?e :item/title "${title}"]]`);
  const wb = b.client.watch(`[:find (count ?e) . :where [?e :item/title "${title}"]]`);
  await wa.ready;
  await wb.ready;
  envs.length = 0;
  let t0 = cpu();
  const local: Array<Promise<unknown>> = [];
  for (let i = 0; i < N; i++) local.push(a.client.transact([{ ':item/title': title, ':item/count': i }]));
  await Promise.all(local);
  tl.push(cpu() - t0);
  t0 = cpu();
  for (const env of envs) await rb.applyRemote([env], `c${round}:${env.tx}`);
  // remote-only changes reach views on a later macrotask
  for (let i = 0; i < 100 && wb.result() !== N; i++) await new Promise((r) => setTimeout(r, 1));
  tr.push(cpu() - t0);
  if (wb.result() !== N) throw new Error(`b saw ${String(wb.result())}`);
  t0 = cpu();
  for (const env of envs) await ra.ack(env.tx, null);
  ta.push(cpu() - t0);
  wa.close();
  wb.close();
}
console.log(`N=${N} CPU ms, medians over ${ROUNDS}: A local ${med(tl).toFixed(1)} ms, B applyRemote×N ${med(tr).toFixed(1)} ms, A ack×N ${med(ta).toFixed(1)} ms`);
console.log(`  CPU of all ${ROUNDS} rounds (incl. lazy writes that land in another phase): ${(cpu() - cpuStart).toFixed(0)} ms`);
console.log(`  all: local ${tl.map((x) => x.toFixed(0))} remote ${tr.map((x) => x.toFixed(0))} ack ${ta.map((x) => x.toFixed(0))}`);
await a.client.close();
await b.client.close();
