/**
 * The Chicago outfit, live: run with `npx tsx examples/chicago/index.ts [seed]`.
 *
 * Registers the territory, subordinate and total-earnings queries, the rats query and the
 * might-rat / might-squeak business rules (seeded randomness), then changes corinna's earnings
 * and prints every diff as it arrives.
 */
import { printEdn, type Diff } from '@dataloom/core';
import { createConn } from '@dataloom/dataflow';
import * as chic from './scenario.js';

export function runChicago(seed = 42, log: (line: string) => void = console.log) {
  const rnd = chic.mulberry32(seed);
  const conn = createConn(chic.schema);
  conn.transact(chic.initialData);
  const show = (name: string) => (diffs: Diff[]) => {
    for (const [row, tx, m] of diffs) log(`${name.padEnd(26)} ${m > 0 ? '+' : '-'} ${printEdn(row as never)}  @${String(tx)}`);
  };
  const views = {
    territory: conn.register('chic/territory-earnings', chic.territoryEarnings),
    sub: conn.register('chic/sub-earnings', chic.subEarnings, chic.rules),
    total: conn.register('chic/thug-total-earnings', chic.thugTotalEarnings),
    rats: conn.register('chic/rats', chic.rats),
  };
  for (const [name, v] of Object.entries(views)) {
    log(`${v.name}: ${printEdn(v.result() as never)}`);
    v.subscribe(show(v.name));
    void name;
  }
  // Business rules: a thug with total earnings in (500, 1000) may turn rat; a boss whose
  // subordinate is a rat may squeak. A rat's earnings drop to 1.
  const turnToRat = (desc: string, prob: number) => (diffs: Diff[], ctx: { transact: (tx: unknown[]) => unknown }) => {
    for (const [row, , m] of diffs) {
      if (m < 0) continue;
      const [t, name, earnings] = row as [number, string, number];
      const isRat = rnd() < prob;
      log(`is ${name} a ${desc}? ${isRat}`);
      if (isRat) {
        ctx.transact([
          [':db/add', t, 'thug/rat?', true],
          [':db/retract', t, 'thug/earnings', earnings],
          [':db/add', t, 'thug/earnings', 1],
        ]);
      }
    }
  };
  conn.businessRule('chic/might-rat', chic.ratTrigger, [], turnToRat('rat', 0.5));
  conn.businessRule('chic/might-squeak', chic.squeakTrigger, [chic.rules], turnToRat('squeaker', 0.8));
  log('--- corinna now earns 550');
  conn.transact([
    [':db/retract', 10, 'thug/earnings', 125],
    [':db/add', 10, 'thug/earnings', 550],
  ]);
  return { conn, views };
}

const isMain = typeof process !== 'undefined' && process.argv[1] !== undefined && /examples[\\/]chicago[\\/]index\.ts$/.test(process.argv[1]);
if (isMain) runChicago(Number(process.argv[2] ?? 42));
