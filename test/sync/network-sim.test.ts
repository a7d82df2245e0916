/**
 * Seeded network simulation (see support/sim.ts). Defaults keep CI short; `FUZZ_RUNS=n` runs n
 * times more seeds; `FUZZ_SEED=s` replays one seed. For a long hunt that tallies runs,
 * divergences and lost acknowledged transactions, see chaos-hunt.ts.
 *
 * - in-process server on SQLite, restarted gracefully: many seeds, fast;
 * - child-process server on SQLite, restarted with SIGKILL;
 * - two child-process servers on one PostgreSQL database (LISTEN/NOTIFY fan-out), SIGKILLed;
 * - the same with the log compacted below a short retention horizon while clients come and go,
 *   and clients that join late (fresh): those offline past the horizon and the fresh ones are
 *   bootstrapped from a snapshot, and must converge with those that followed the log.
 */
import { describe, expect, it } from 'vitest';
import { childFleet, inProcessFleet } from './support/fleets.js';
import { runSim } from './support/sim.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1);
const FIXED = process.env.FUZZ_SEED ? [Number(process.env.FUZZ_SEED)] : null;
const seeds = (n: number, base: number) => FIXED ?? Array.from({ length: n * RUNS }, (_, i) => base + i);

async function withSeed(seed: number, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    (e as Error).message = `${(e as Error).message}\nreplay with FUZZ_SEED=${seed}`;
    throw e;
  }
}

describe('network simulation', () => {
  for (const seed of seeds(200, 1000)) {
    it(`in-process SQLite server, seed ${seed}`, () =>
      withSeed(seed, async () => {
        const r = await runSim(await inProcessFleet(), { seed, clients: 5, steps: 80, restarts: 2 });
        expect(r.acked).toBeGreaterThan(0);
      }));
  }
  for (const seed of seeds(4, 2000)) {
    it(`SQLite server child process with SIGKILL restarts, seed ${seed}`, { timeout: 180_000 }, () =>
      withSeed(seed, async () => {
        const r = await runSim(await childFleet('sqlite', 1), { seed, clients: 5, steps: 120, restarts: 2 });
        expect(r.restarts).toBeGreaterThan(0);
        expect(r.acked).toBeGreaterThan(0);
      }));
  }
  const retention = { retention: { entries: 8, everyMs: 40 } };
  for (const seed of seeds(20, 4000)) {
    it(`in-process SQLite server compacting its log, late joiners, seed ${seed}`, () =>
      withSeed(seed, async () => {
        const r = await runSim(await inProcessFleet(retention), { seed, clients: 6, steps: 90, restarts: 2, late: 2 });
        expect(r.acked).toBeGreaterThan(0);
        expect(r.horizon).toBeGreaterThan(0);
      }));
  }
  for (const seed of seeds(2, 5000)) {
    it(`two PostgreSQL server processes compacting the shared log, late joiners, SIGKILL restarts, seed ${seed}`, { timeout: 180_000 }, () =>
      withSeed(seed, async () => {
        const r = await runSim(await childFleet('postgres', 2, retention), { seed, clients: 6, steps: 120, restarts: 2, late: 2 });
        expect(r.acked).toBeGreaterThan(0);
        expect(r.horizon).toBeGreaterThan(0);
      }));
  }
  for (const seed of seeds(4, 3000)) {
    it(`two PostgreSQL server processes with SIGKILL restarts, seed ${seed}`, { timeout: 180_000 }, () =>
      withSeed(seed, async () => {
        const r = await runSim(await childFleet('postgres', 2), { seed, clients: 6, steps: 120, restarts: 2 });
        expect(r.acked).toBeGreaterThan(0);
      }));
  }
});
