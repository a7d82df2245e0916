/**
 * One client catching up a large log never stops the others (issue 9): the server reads and
 * sends the log in pages bounded by bytes and yields between pages, so an honest client's
 * transact → ack round trips are answered while the reader is still behind. The log here is
 * small enough for CI (CATCHUP_MB, default 24); `bench/suites/catchup.bench.ts` measures 100 MB.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createServer } from '../../packages/server/src/index.js';
import { createSqliteStore } from '../../packages/server/src/storage/sqlite.js';
import { ServerState } from '../../packages/server/src/state/server-state.js';
import { TEST_SCHEMA, makeClient, tempDir, within } from './support/harness.js';
import { envOf, raw } from './support/raw.js';

const MB = Number(process.env.CATCHUP_MB ?? 24);
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Writes about `mb` MiB of envelopes (200 KiB strings) straight into a SQLite log. */
async function bigLog(file: string, mb: number): Promise<number> {
  const store = createSqliteStore({ file });
  await store.open();
  const judge = new ServerState({ maxClockDriftMs: 60_000 });
  const count = Math.ceil((mb * 1024) / 200);
  let head = 0;
  for (let i = 0; i < count; i += 20) {
    const envs = Array.from({ length: Math.min(20, count - i) }, (_, j) => envOf('bulk', [{ e: `bulk.${(i + j).toString(36)}`, op: 'add', a: 'item/title', v: 'x'.repeat(200 * 1024) }]));
    head = (await store.append(envs as never, head, judge)).head;
  }
  await store.close();
  return count;
}

describe('catch-up', () => {
  it(`an honest client's transactions are acknowledged while another client reads a ${MB} MiB log`, { timeout: 60_000 }, async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = join(t.dir, 'big.sqlite');
    const entries = await bigLog(file, MB);
    const server = await createServer({ store: `sqlite:${file}`, port: 0, schema: TEST_SCHEMA });
    cleanups.push(() => server.close());
    const honest = makeClient(server.url, 'honest');
    cleanups.push(() => honest.sync.close());
    // the honest client starts at the head (its catch-up is not what is measured)
    await within(honest.sync.whenSynced(), 60_000, 'honest synced');

    // the reader counts what it received, without parsing
    const reader = await raw(server.url, cleanups);
    let received = 0;
    let done = false;
    reader.ws.removeAllListeners('message');
    reader.ws.on('message', (d: Buffer) => {
      received += d.length;
      if (d.includes(`"more":false`)) done = true;
    });
    reader.send({ t: 'hello', v: 1, replica: 'reader', cursor: null });
    const t0 = Date.now();
    while (received < 1024 * 1024) await new Promise((r) => setTimeout(r, 1));

    const rounds: Array<{ ms: number; readerMiB: number }> = [];
    while (!done && rounds.length < 50) {
      const e = honest.replica.newEntity();
      const start = performance.now();
      const r = await honest.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/title', v: `r${rounds.length}` }] });
      await within(honest.sync.waitForTx(r.tx), 30_000, 'ack');
      rounds.push({ ms: Math.round(performance.now() - start), readerMiB: +(received / 2 ** 20).toFixed(1) });
    }
    for (let i = 0; i < 6000 && !done; i++) await new Promise((r) => setTimeout(r, 10));
    const readMs = Date.now() - t0;
    console.log(`catch-up of ${entries} entries (${MB} MiB) in ${readMs} ms; honest round trips meanwhile: ${JSON.stringify(rounds.slice(0, 12))}`);
    expect(done).toBe(true);
    // Several round trips completed while the reader was still behind: the pump yields.
    const during = rounds.filter((r) => r.readerMiB < MB * 0.9);
    expect(during.length, JSON.stringify(rounds)).toBeGreaterThanOrEqual(10);
  });

  it('many clients catching up at once share one output budget (maxCatchupBytes), and all finish', { timeout: 60_000 }, async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = join(t.dir, 'big.sqlite');
    await bigLog(file, 12);
    const budget = 2 << 20;
    const server = await createServer({ store: `sqlite:${file}`, port: 0, schema: TEST_SCHEMA, limits: { maxCatchupBytes: budget } });
    cleanups.push(() => server.close());
    // six readers that say hello and then stop reading
    const readers = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const r = await raw(server.url, cleanups);
        r.ws.removeAllListeners('message');
        let done = false;
        r.ws.on('message', (d: Buffer) => d.includes('"more":false') && (done = true));
        r.send({ t: 'hello', v: 1, replica: `slow${i}`, cursor: null });
        (r.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
        return { r, done: () => done, resume: () => (r.ws as unknown as { _socket: { resume(): void } })._socket.resume() };
      }),
    );
    let peak = 0;
    for (let i = 0; i < 30; i++) {
      const h = (await (await fetch(server.httpUrl + 'health')).json()) as { catchupBytes: number };
      peak = Math.max(peak, h.catchupBytes);
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(`queued catch-up output with six stalled readers: peak ${(peak / 2 ** 20).toFixed(1)} MiB (budget 2 MiB)`);
    // the budget, plus at most one page in flight per reader
    expect(peak).toBeLessThan(budget + 6 * 512 * 1024);
    expect(peak).toBeGreaterThan(0);
    for (const x of readers) x.resume();
    for (let i = 0; i < 3000 && !readers.every((x) => x.done()); i++) await new Promise((r) => setTimeout(r, 10));
    expect(readers.every((x) => x.done())).toBe(true);
  });
});
