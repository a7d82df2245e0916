/**
 * The long chaos hunt: the network simulation (support/sim.ts) over many seeds, out of CI, with a
 * tally instead of a test report. Every 40th run is a SQLite child process SIGKILLed, every 40th
 * (offset 20) two PostgreSQL-backed processes SIGKILLed, the rest an in-process SQLite server.
 *
 *   npx tsx test/sync/chaos-hunt.ts [runs=10000] [first seed=100000]
 *
 * Prints a progress line every 50 runs and a final JSON line: runs, divergences (no convergence,
 * or a replica that differs from the log), lost acknowledged transactions, other failures, with
 * the seed of each failure (replay one with FUZZ_SEED=s in network-sim.test.ts, or here with
 * `chaos-hunt.ts 1 s`).
 */
import { childFleet, inProcessFleet } from './support/fleets.js';
import { runSim } from './support/sim.js';

const runs = Number(process.argv[2] ?? 10000);
const first = Number(process.argv[3] ?? 100000);
const tally = { runs: 0, inProcess: 0, sqliteKill: 0, postgresKill: 0, acked: 0, divergences: 0, lostAcked: 0, other: 0, failures: [] as Array<{ seed: number; kind: string; message: string }> };
const started = Date.now();

function classify(message: string): 'divergence' | 'lost' | 'other' {
  if (/no convergence|differs from the server log|ops not in the log/.test(message)) return 'divergence';
  if (/acknowledged tx .* is not in the log/.test(message)) return 'lost';
  return 'other';
}

for (let i = 0; i < runs; i++) {
  const seed = first + i;
  const kind = i % 40 === 39 ? 'sqliteKill' : i % 40 === 19 ? 'postgresKill' : 'inProcess';
  try {
    const r =
      kind === 'inProcess'
        ? await runSim(await inProcessFleet(), { seed, clients: 5, steps: 80, restarts: 2 })
        : kind === 'sqliteKill'
          ? await runSim(await childFleet('sqlite', 1), { seed, clients: 5, steps: 120, restarts: 2 })
          : await runSim(await childFleet('postgres', 2), { seed, clients: 6, steps: 120, restarts: 2 });
    tally.acked += r.acked;
  } catch (e) {
    const message = (e as Error).message.slice(0, 600);
    const c = classify(message);
    if (c === 'divergence') tally.divergences++;
    else if (c === 'lost') tally.lostAcked++;
    else tally.other++;
    tally.failures.push({ seed, kind, message });
    console.log(`FAIL seed ${seed} (${kind}, ${c}): ${message.split('\n')[0]}`);
  }
  tally.runs++;
  tally[kind]++;
  if (tally.runs % 50 === 0 || tally.runs === runs) {
    const s = Math.round((Date.now() - started) / 1000);
    console.log(`${new Date().toISOString()} runs ${tally.runs} (in-process ${tally.inProcess}, sqlite-kill ${tally.sqliteKill}, pg-kill ${tally.postgresKill}) acked ${tally.acked} divergences ${tally.divergences} lost-acked ${tally.lostAcked} other ${tally.other} — ${s}s`);
  }
}
console.log(JSON.stringify({ ...tally, seconds: Math.round((Date.now() - started) / 1000) }));
process.exit(0);
