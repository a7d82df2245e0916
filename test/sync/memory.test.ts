/**
 * Server memory is bounded by bytes (issue 9): pushing many large envelopes within every limit
 * grows the heap by at most the documented ceiling — the log tail (`maxTailBytes`), the judging
 * state's uncompacted new values (`compactAfterBytes`), buffers — not by what was pushed.
 * MEMORY_MB (default 96) sets how much is pushed; the figure is 500.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createServer } from '../../packages/server/src/index.js';
import { TEST_SCHEMA, tempDir } from './support/harness.js';
import { envOf, raw } from './support/raw.js';

const MB = Number(process.env.MEMORY_MB ?? 96);
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
  it(`pushing ${MB} MiB of large envelopes grows the heap by less than the ceiling`, { timeout: 120_000 }, async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const tail = 16, compact = 16;
    const options = { store: `sqlite:${join(t.dir, 'm.sqlite')}`, port: 0, schema: TEST_SCHEMA, limits: { maxTailBytes: tail * MiB, compactAfterBytes: compact * MiB, bytesPerSecond: 1 << 30, bytesBurst: 1 << 30 } };
    const server = await createServer(options);
    let closeServer = () => server.close();
    cleanups.push(() => closeServer());
    const c = await raw(server.url, cleanups);
    c.send({ t: 'hello', v: 1, replica: 'big', cursor: null });
    await c.until(() => c.msgs.some((m) => m.t === 'welcome'), 'welcome');
    const before = heapMiB();
    const value = 'v'.repeat(200 * 1024);
    let pushed = 0;
    let i = 0;
    while (pushed < MB * MiB) {
      // four 200 KiB values per push, overwriting a few entities' titles (the database stays small)
      const txs = Array.from({ length: 4 }, () => envOf('big', [{ e: `big.${(i++ % 8).toString(36)}`, op: 'add', a: 'item/title', v: value + i }]));
      c.send({ t: 'push', txs });
      pushed += 4 * value.length;
      const last = txs.at(-1)!.tx;
      await c.until(() => c.msgs.some((m) => (m.t === 'ack' || m.t === 'acks') && JSON.stringify(m).includes(last)), 'ack', 10_000);
      c.msgs.length = 0;
    }
    const after = heapMiB();
    const ceiling = tail + compact + 32;
    console.log(`pushed ${MB} MiB: heap ${before.toFixed(0)} → ${after.toFixed(0)} MiB (+${(after - before).toFixed(0)}; ceiling here ${ceiling} MiB)`);
    expect(after - before).toBeLessThan(ceiling);
    // a restart reads the whole log once; what it keeps afterwards is bounded the same way
    c.ws.close();
    await server.close();
    const restarted = await createServer(options);
    closeServer = () => restarted.close();
    const again = heapMiB();
    console.log(`after a restart on the ${MB} MiB log: heap ${again.toFixed(0)} MiB (+${(again - before).toFixed(0)})`);
    expect(again - before).toBeLessThan(ceiling);
  });
});
