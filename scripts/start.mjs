#!/usr/bin/env node
// `npm start`: build what is stale, then run the sync server serving the demo app.
//
//   1. `npm run build` (TypeScript project references; incremental, quick when up to date)
//   2. `npm run build -w @dataloom/demo-app` when demo-app/dist is missing or older than any
//      source of the demo or the packages it bundles
//   3. node packages/server/dist/cli.js serve --port <PORT|8787> \
//        --store sqlite:.data/dataloom.sqlite --static demo-app/dist --schema demo-app/schema.edn
//
// Env: PORT (default 8787), DATALOOM_STORE (default sqlite:.data/dataloom.sqlite),
// SKIP_BUILD=1 to skip steps 1–2. Extra arguments are passed to `dataloom serve`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function log(msg) {
  process.stderr.write(`[start] ${msg}\n`);
}

function step(title, cmd, args) {
  log(title);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    log(`failed: ${cmd} ${args.join(' ')} (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

/** Newest modification time (ms) of any file under `dir`, skipping node_modules and dist. */
function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (process.env.SKIP_BUILD !== '1') {
  step('building packages (npm run build)', npm, ['run', 'build']);
  const index = join(root, 'demo-app/dist/index.html');
  const builtAt = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sources = Math.max(newest(join(root, 'demo-app')), newest(join(root, 'packages')));
  if (sources > builtAt) step('building the demo app (npm run build -w @dataloom/demo-app)', npm, ['run', 'build', '-w', '@dataloom/demo-app']);
  else log('demo-app/dist is up to date');
}

const cli = join(root, 'packages/server/dist/cli.js');
if (!existsSync(cli)) {
  log(`missing ${cli}: the server CLI (packages/server/src/cli.ts) has not been built`);
  process.exit(1);
}
mkdirSync(join(root, '.data'), { recursive: true });
const port = process.env.PORT ?? '8787';
const store = process.env.DATALOOM_STORE ?? 'sqlite:.data/dataloom.sqlite';
const args = [cli, 'serve', '--port', port, '--store', store, '--static', 'demo-app/dist', '--schema', 'demo-app/schema.edn', ...process.argv.slice(2)];
log(`node ${args.map((a) => (a === cli ? 'packages/server/dist/cli.js' : a)).join(' ')}`);
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
