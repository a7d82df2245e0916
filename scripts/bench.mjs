#!/usr/bin/env node
// `npm run bench`: runs every benchmark suite `bench/suites/*.bench.ts`, each in its own Node
// process (TypeScript through tsx, `@dataloom/*` resolved to packages/*/src by bench/tsconfig.json),
// Dataloom and DataScript side by side in that process. Results: a table on stdout and
// bench/results/<suite>.json. See bench/harness/run.ts for the env knobs (BENCH_FILTER,
// BENCH_SIZES, BENCH_TIME_MS, BENCH_WARMUP_MS, BENCH_SEED).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const suitesDir = join(root, 'bench/suites');
const suites = readdirSync(suitesDir).filter((f) => f.endsWith('.bench.ts')).sort();
const filter = (process.env.BENCH_FILTER ?? '').split(',').map((t) => t.trim()).filter((t) => t && !t.startsWith('!'));
let failed = 0;
function measuresAtImport(file) {
  const src = readFileSync(join(suitesDir, file), 'utf8');
  return src.includes('reportMeasuredRows(') || /writeResultsAtExit\('([a-z-]+)\.json'/.exec(src)?.[1] === file.replace(/\.bench\.ts$/, '');
}
for (const file of suites) {
  const suite = file.replace(/\.bench\.ts$/, '');
  // Skip a whole suite only when every include token names another suite ("other/…").
  // The token `browser` selects only the browser measurement below.
  if (filter.length > 0 && filter.every((t) => t === 'browser' || (t.includes('/') && !t.startsWith(suite + '/')))) continue;
  // Suites that measure at import (servers, sockets: bench/harness/measured-rows.ts) cannot
  // filter their rows; they run only when a token names the suite (`sync`, `boot`, `sync/…`).
  if (filter.length > 0 && measuresAtImport(file) && !filter.some((t) => suite.includes(t) || t.startsWith(suite + '/'))) continue;
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
// Browser rows, in Debian's Chromium at BENCH_BROWSER_ENTITIES entities (default 20000, 5 datoms
// each: 100k datoms); selected by BENCH_FILTER "browser":
// - issue 4: cold start of a replica from real IndexedDB, IndexedDB bytes per datom, and transact →
//   main-thread diff with 20 watched queries (e2e/replica/coldstart.measure.ts);
// - issue 14: 20 components each rendering a useQuery, local transact → re-rendered component
//   (goal < 16 ms median) and another client's change through the sync server on loopback →
//   re-rendered component (goal < 30 ms median) (e2e/react/render.measure.ts).
const BROWSER = [
  { name: 'browser', title: 'cold start from IndexedDB in Chromium', script: 'e2e/replica/coldstart.measure.ts' },
  { name: 'browser-render', title: 'React re-render in Chromium, 20 live useQuery components', script: 'e2e/react/render.measure.ts' },
];
const GOALS = { localTransactToRenderMedianMs: 16, remoteChangeToRenderMedianMs: 30 };
const wantBrowser = filter.length === 0 || filter.some((t) => t === 'browser' || t.startsWith('browser/'));
if (wantBrowser) {
  if (!existsSync('/usr/bin/chromium')) {
    process.stderr.write('[bench] browser: skipped, /usr/bin/chromium is missing (apt-get install -y chromium)\n');
  } else {
    const entities = process.env.BENCH_BROWSER_ENTITIES ?? '20000';
    for (const b of BROWSER) {
      process.stdout.write(`\n## ${b.name} (${b.title}, ${entities} entities × 5 datoms)\n`);
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, b.script), entities], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'e2e/tsconfig.json') },
      });
      const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
      if (r.status !== 0 || !line.startsWith('{')) {
        failed++;
        process.stderr.write(`[bench] ${b.name} measurement exited with ${r.status ?? r.signal}\n${r.stdout ?? ''}\n`);
        continue;
      }
      const m = JSON.parse(line);
      delete m.runs;
      for (const [k, v] of Object.entries(m)) process.stdout.write(`${k.padEnd(36)} ${v}${k in GOALS ? `  (goal < ${GOALS[k]} ms: ${v < GOALS[k] ? 'met' : 'NOT met'})` : ''}\n`);
      mkdirSync(join(root, 'bench/results'), { recursive: true });
      writeFileSync(join(root, `bench/results/${b.name}.json`), JSON.stringify({ suite: b.name, entities: Number(entities), ...m }, null, 2) + '\n');
      process.stdout.write(`wrote bench/results/${b.name}.json\n`);
    }
  }
}
process.exit(failed ? 1 : 0);
