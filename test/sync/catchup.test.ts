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
});
