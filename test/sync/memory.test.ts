/**
 * Server memory is bounded by bytes (issue 9): pushing many large envelopes within every limit
 * grows the heap by at most the documented ceiling — the log tail (`maxTailBytes`), the judging
 * state's uncompacted new values (`compactAfterBytes`), buffers — not by what was pushed.
 * MEMORY_MB (default 500, the figure) sets how much is pushed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DEFAULT_LIMITS } from '@dataloom/protocol';
import { createServer } from '../../packages/server/src/index.js';
import { TEST_SCHEMA, tempDir } from './support/harness.js';
import { envOf, raw } from './support/raw.js';

const MB = Number(process.env.MEMORY_MB ?? 500);
/** Pushes in flight at once. */
const WINDOW = 8;
/** Heap sampled (after a full GC) every this many MiB pushed. */
const SAMPLE_MiB = 50;
const MiB = 2 ** 20;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function heapMiB(): number {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / MiB;
}

describe('memory', () => {
  it(`pushing ${MB} MiB of large envelopes grows the heap by less than the ceiling`, { timeout: 240_000 }, async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const tail = 16, compact = 16, catchup = 16;
    const limits = { maxTailBytes: tail * MiB, compactAfterBytes: compact * MiB, maxCatchupBytes: catchup * MiB, bytesPerSecond: 1 << 30, bytesBurst: 1 << 30 };
    const options = { store: `sqlite:${join(t.dir, 'm.sqlite')}`, port: 0, schema: TEST_SCHEMA, limits };
    // The documented ceiling (packages/protocol/PROTOCOL.md, "Memory ceiling"): tail + compaction
    // bound + catch-up output + connections × frame size + the database (here 8 titles of 200 KiB,
    // with V8's own slack), plus what this process' client holds of its pushes in flight.
    const frame = DEFAULT_LIMITS.maxMessageBytes / MiB;
    const ceiling = tail + compact + catchup + 1 * frame + 8 + WINDOW * 0.8;
    const server = await createServer(options);
    let closeServer = () => server.close();
    cleanups.push(() => closeServer());
    const c = await raw(server.url, cleanups);
    c.send({ t: 'hello', v: 1, replica: 'big', cursor: null });
    await c.until(() => c.msgs.some((m) => m.t === 'welcome'), 'welcome');
    // acknowledgements counted as they come (a reject would never be counted: the wait names it)
    let acked = 0;
    let last: unknown = null;
    c.ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.t === 'ack') acked++;
      else if (m.t === 'acks') acked += m.acks.length;
      else last = m;
    });
    const before = heapMiB();
    const started = performance.now();
    const value = 'v'.repeat(200 * 1024);
    let pushed = 0;
    let sent = 0;
    let i = 0;
    let peak = before;
    let nextSample = SAMPLE_MiB * MiB;
    while (pushed < MB * MiB) {
      // four 200 KiB values per push, overwriting a few entities' titles (the database stays small);
      // WINDOW pushes in flight, so commits are grouped as with several busy clients
      const txs = Array.from({ length: 4 }, () => envOf('big', [{ e: `big.${(i++ % 8).toString(36)}`, op: 'add', a: 'item/title', v: value + i }]));
      c.send({ t: 'push', txs });
      sent += txs.length;
      pushed += 4 * value.length;
      await c.until(() => acked >= sent - WINDOW * 4, `acks (${acked}/${sent}; last other message ${JSON.stringify(last)?.slice(0, 300)})`, 20_000);
      c.msgs.length = 0;
      if (pushed >= nextSample) {
        peak = Math.max(peak, heapMiB());
        nextSample += SAMPLE_MiB * MiB;
      }
    }
    await c.until(() => acked === sent, 'the last acks', 20_000);
    const pushMs = Math.round(performance.now() - started);
    const after = heapMiB();
    peak = Math.max(peak, after);
    console.log(`pushed ${MB} MiB in ${pushMs} ms: heap ${before.toFixed(0)} → ${after.toFixed(0)} MiB (+${(after - before).toFixed(0)}; peak of samples every ${SAMPLE_MiB} MiB +${(peak - before).toFixed(0)}; documented ceiling for these limits ${ceiling.toFixed(0)} MiB)`);
    expect(peak - before).toBeLessThan(ceiling);
    // a restart reads the whole log once; what it keeps afterwards is bounded the same way
    c.ws.close();
    await server.close();
    const restarting = performance.now();
    const restarted = await createServer(options);
    closeServer = () => restarted.close();
    const again = heapMiB();
    console.log(`after a restart on the ${MB} MiB log (${Math.round(performance.now() - restarting)} ms): heap ${again.toFixed(0)} MiB (+${(again - before).toFixed(0)})`);
    expect(again - before).toBeLessThan(ceiling);
  });
});
