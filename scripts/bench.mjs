#!/usr/bin/env node
// `npm run bench`: runs every benchmark suite `bench/suites/*.bench.ts`, each in its own Node
// process (TypeScript through tsx, `@dataloom/*` resolved to packages/*/src by bench/tsconfig.json),
// Dataloom and DataScript side by side in that process. Results: a table on stdout and
// bench/results/<suite>.json. See bench/harness/run.ts for the env knobs (BENCH_FILTER,
// BENCH_SIZES, BENCH_TIME_MS, BENCH_WARMUP_MS, BENCH_SEED).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const suitesDir = join(root, 'bench/suites');
const suites = readdirSync(suitesDir).filter((f) => f.endsWith('.bench.ts')).sort();
const filter = (process.env.BENCH_FILTER ?? '').split(',').map((t) => t.trim()).filter((t) => t && !t.startsWith('!'));
let failed = 0;
for (const file of suites) {
  const suite = file.replace(/\.bench\.ts$/, '');
  // Skip a whole suite only when every include token names another suite ("other/…").
  if (filter.length > 0 && filter.every((t) => t.includes('/') && !t.startsWith(suite + '/'))) continue;
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', join(root, 'bench/harness/run.ts'), join(suitesDir, file)],
    { cwd: root, stdio: 'inherit', env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'bench/tsconfig.json') } },
  );
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`[bench] suite ${suite} exited with ${r.status ?? r.signal}\n`);
  }
}
process.exit(failed ? 1 : 0);
