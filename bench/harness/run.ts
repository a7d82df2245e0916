/**
 * Runs one suite file in this process: `node --import tsx bench/harness/run.ts bench/suites/core.bench.ts`
 * (`npm run bench` does this for every suite). For each selected row it prepares and times the
 * Dataloom side and the peer (DataScript) side, prints a table and writes
 * `bench/results/<suite>.json`.
 *
 * Env: `BENCH_FILTER` (comma-separated substrings of `<suite>/<row>`; a leading `!` excludes),
 * `BENCH_SIZES` (default `20000,100000`), `BENCH_TIME_MS`, `BENCH_WARMUP_MS`, `BENCH_SEED`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { measure } from './measure.js';
import { type ResultRow, type RowSpec, type SuiteModule, isPremeasured } from './types.js';

const RESULTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../results');

/** Does `BENCH_FILTER` select `<suite>/<row>`? */
export function selected(id: string, filter = process.env.BENCH_FILTER ?? ''): boolean {
  const tokens = filter.split(',').map((t) => t.trim()).filter(Boolean);
  const include = tokens.filter((t) => !t.startsWith('!'));
  const exclude = tokens.filter((t) => t.startsWith('!')).map((t) => t.slice(1));
  if (exclude.some((t) => id.includes(t))) return false;
  return include.length === 0 || include.some((t) => id.includes(t));
}

/** Sizes from `BENCH_SIZES`. */
export function sizes(): number[] {
  const raw = process.env.BENCH_SIZES ?? '20000,100000';
  return raw.split(',').map((s) => Number(s.trim())).filter((n) => Number.isFinite(n) && n > 0);
}

interface Cell {
  ms: number | null;
  error?: string;
  result?: unknown;
}

async function side(prepare: () => unknown): Promise<Cell> {
  let fn: () => unknown;
  try {
    fn = (await prepare()) as () => unknown;
  } catch (e) {
    return { ms: null, error: errText(e) };
  }
  if (isPremeasured(fn)) return { ms: fn.premeasuredMs, result: fn.result };
  try {
    const m = measure(fn);
    return { ms: m.median, result: m.result };
  } catch (e) {
    return { ms: null, error: errText(e) };
  }
}

function errText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 160);
}

function fmtMs(ms: number | null): string {
  if (ms === null) return 'n/a';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toPrecision(3);
}

function pad(s: string, w: number, right = false): string {
  return right ? s.padStart(w) : s.padEnd(w);
}

export async function runSuite(file: string): Promise<ResultRow[]> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as SuiteModule;
  const peer = mod.peer ?? 'datascript';
  const rows: RowSpec[] = mod.rows({ sizes: sizes() }).filter((r) => selected(`${mod.suite}/${r.name}`));
  const out: ResultRow[] = [];
  const header = `${pad('name', 18)} ${pad('n', 8, true)} ${pad('dataloom ms', 12, true)} ${pad(peer + ' ms', 14, true)} ${pad('ratio', 8, true)}`;
  process.stdout.write(`\n## ${mod.suite} (${rows.length} rows; ratio = dataloom / ${peer}, below 1 is faster)\n${header}\n${'-'.repeat(header.length)}\n`);
  for (const r of rows) {
    const dl = await side(r.dataloom);
    const pe = await side(r.peer);
    const ratio = dl.ms !== null && pe.ms !== null && pe.ms > 0 ? dl.ms / pe.ms : null;
    let note = '';
    if (dl.error) note += `  [dataloom: ${dl.error}]`;
    if (pe.error) note += `  [${peer}: ${pe.error}]`;
    if (r.check && dl.ms !== null && pe.ms !== null) {
      const bad = r.check(dl.result, pe.result);
      if (bad) note += `  [MISMATCH: ${bad}]`;
    }
    process.stdout.write(
      `${pad(r.name, 18)} ${pad(String(r.n), 8, true)} ${pad(fmtMs(dl.ms), 12, true)} ${pad(fmtMs(pe.ms), 14, true)} ${pad(ratio === null ? 'n/a' : ratio.toFixed(2) + 'x', 8, true)}${note}\n`,
    );
    out.push({ suite: mod.suite, name: r.name, n: r.n, dataloom_ms: round(dl.ms), peer, peer_ms: round(pe.ms), ratio: ratio === null ? null : Number(ratio.toFixed(4)) });
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${mod.suite}.json`);
  if (out.length === 0) {
    process.stdout.write(`no rows selected; ${path} left as it was\n`);
    return out;
  }
  // A filtered run updates its rows and keeps the suite's other recorded rows.
  let saved = out;
  if ((process.env.BENCH_FILTER ?? '') !== '' && existsSync(path)) {
    try {
      const prev = JSON.parse(readFileSync(path, 'utf8')) as ResultRow[];
      const fresh = new Set(out.map((o) => `${o.name}@${o.n}`));
      saved = [...prev.filter((o) => !fresh.has(`${o.name}@${o.n}`)), ...out];
    } catch {
      saved = out;
    }
  }
  writeFileSync(path, JSON.stringify(saved, null, 2) + '\n');
  process.stdout.write(`wrote ${path}\n`);
  return out;
}

function round(ms: number | null): number | null {
  return ms === null ? null : Number(ms.toPrecision(6));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  for (const f of files) await runSuite(f);
}
