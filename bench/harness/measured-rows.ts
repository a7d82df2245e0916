/**
 * For suites that measure at import (asynchronous work the runner's timer cannot time: servers,
 * sockets): their row type, and printing the rows and writing `bench/results/<suite>.json` at
 * process exit (after the runner wrote its empty file for the suite).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultRow } from './types.js';

/** One measured row, as written to the results file. */
export type MeasuredRow = ResultRow;

/** `bench/results/`. */
export const RESULTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../results');

/**
 * Writes `data` to `bench/results/<file>` when the process exits (after the runner wrote its own
 * file for the suite, which a suite measuring at import would otherwise find overwritten).
 */
export function writeResultsAtExit(file: string, data: unknown): void {
  const out = resolve(RESULTS_DIR, file);
  process.on('exit', () => {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(data, null, 2) + '\n');
  });
}

/** Prints `rows` under `title` and writes them to `bench/results/<suite>.json` when the process exits. */
export function reportMeasuredRows(suite: string, title: string, rows: readonly MeasuredRow[]): void {
  process.stdout.write(`\n## ${title}\n`);
  for (const r of rows) {
    process.stdout.write(`${r.name.padEnd(36)} ${String(r.n).padStart(7)} ${r.dataloom_ms === null ? '      —' : r.dataloom_ms.toFixed(2).padStart(9) + ' ms'} ${r.peer_ms === null ? '' : `  vs ${r.peer_ms} ms (${r.ratio}x)`}\n`);
  }
  writeResultsAtExit(`${suite}.json`, rows);
}
