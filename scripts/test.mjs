#!/usr/bin/env node
// `npm test`: make sure the machine has what the suites need (Chromium for e2e, a running
// PostgreSQL on 127.0.0.1:5432 for the server's Postgres adapter), run every vitest suite in the
// repository once, and print one plain summary line `N passed, N failed`.
//
// Extra arguments are passed to vitest (`npm test -- test/oracle` runs only that folder).
// Exit status: 0 when everything passed, 1 otherwise (including a missing prerequisite).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function log(msg) {
  process.stderr.write(`[test] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { stdio: 'inherit', ...opts });
}

function commandExists(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Chromium (Debian's package) drives the e2e suites through playwright-core. */
function ensureChromium() {
  if (existsSync(CHROMIUM)) return true;
  if (!isRoot) {
    log(`missing: ${CHROMIUM} (Debian packages chromium, chromium-driver).`);
    log('install as root: apt-get update && apt-get install -y chromium chromium-driver');
    return false;
  }
  log(`${CHROMIUM} not found; installing chromium and chromium-driver with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (run('apt-get', ['update'], { env }).status !== 0) return false;
  if (run('apt-get', ['install', '-y', 'chromium', 'chromium-driver'], { env }).status !== 0) return false;
  if (!existsSync(CHROMIUM)) {
    log(`apt-get finished but ${CHROMIUM} is still missing`);
    return false;
  }
  return true;
}

function pgReady() {
  return spawnSync('pg_isready', ['-q', '-h', '127.0.0.1', '-p', '5432'], { stdio: 'ignore' }).status === 0;
}

/** The PostgreSQL adapter's tests connect to postgres://postgres@127.0.0.1:5432/test (DATALOOM_PG_URL). */
function ensurePostgres() {
  if (!commandExists('pg_isready') || !commandExists('pg_ctlcluster')) {
    log('missing: PostgreSQL client/server tools (pg_isready, pg_ctlcluster).');
    log('install as root: apt-get install -y postgresql   (or run .ci/run, which also configures it)');
    return false;
  }
  if (pgReady()) return true;
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
  if (versions.length === 0) {
    log('missing: a PostgreSQL cluster (/etc/postgresql is empty). install: apt-get install -y postgresql');
    return false;
  }
  const version = versions.sort().at(-1);
  log(`PostgreSQL is not accepting connections on 127.0.0.1:5432; starting cluster ${version}/main`);
  const r = run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
  if (r.status !== 0) {
    log(`could not start PostgreSQL: pg_ctlcluster --skip-systemctl-redirect ${version} main start exited ${r.status}` + (isRoot ? '' : ' (try as root)'));
    return false;
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (pgReady()) return true;
    spawnSync('sleep', ['0.5']);
  }
  log('PostgreSQL started but is still not accepting connections on 127.0.0.1:5432 after 30 s');
  return false;
}

/** Plain output when stdout is not a terminal (CI logs), unless the caller chose otherwise. */
function colorEnv() {
  const env = { ...process.env };
  if (!process.stdout.isTTY && env.FORCE_COLOR === undefined && env.NO_COLOR === undefined) env.NO_COLOR = '1';
  return env;
}

/**
 * One full test run at a time per machine (targeted runs with paths are not queued): several checkouts (git worktrees) running the whole
 * suite at once on a 2-core machine starve each other into timeouts. `flock` (util-linux) queues
 * them; DATALOOM_TEST_LOCK=0 opts out. Returns [command, ...args] for spawnSync.
 */
function machineLock(cmd) {
  const fullRun = process.argv.length <= 2; // `npm test -- <path>` runs a few files: no queue
  if (!fullRun || process.env.DATALOOM_TEST_LOCK === '0' || !commandExists('flock')) return [cmd[0], cmd.slice(1)];
  const lock = join(tmpdir(), 'dataloom-npm-test.lock');
  if (spawnSync('flock', ['-n', lock, 'true'], { stdio: 'ignore' }).status !== 0) {
    log(`another npm test is running on this machine; waiting for it (lock ${lock}, DATALOOM_TEST_LOCK=0 to skip)`);
  }
  return ['flock', [lock, ...cmd]];
}

function main() {
  const ok = [ensureChromium(), ensurePostgres()].every(Boolean);
  if (!ok) {
    log('prerequisites missing (see above); no tests were run');
    console.log('0 passed, 0 failed');
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), 'dataloom-test-'));
  const out = join(dir, 'vitest.json');
  const started = Date.now();
  const vitest = ['npx', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)];
  const r = spawnSync(...machineLock(vitest), { cwd: root, stdio: 'inherit', env: colorEnv() });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let brokenFiles = 0;
  if (existsSync(out)) {
    const report = JSON.parse(readFileSync(out, 'utf8'));
    passed = report.numPassedTests ?? 0;
    failed = report.numFailedTests ?? 0;
    skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    // A file that fails to load has no failing tests of its own: count it as one failure.
    for (const file of report.testResults ?? []) {
      const fileFailed = file.status === 'failed';
      const anyTestFailed = (file.assertionResults ?? []).some((t) => t.status === 'failed');
      if (fileFailed && !anyTestFailed) brokenFiles++;
    }
  } else {
    log(`vitest wrote no JSON report (${out}); exit status ${r.status}`);
    brokenFiles = 1;
  }
  rmSync(dir, { recursive: true, force: true });
  failed += brokenFiles;
  if (r.status !== 0 && failed === 0) failed = 1; // vitest failed without a failing test (e.g. unhandled error)
  log(`${skipped} skipped, ${brokenFiles} file(s) failed to run, ${seconds} s`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exit(main());
