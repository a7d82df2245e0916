#!/usr/bin/env node
// `npm start`: build what is stale, then run the sync server serving the demo app.
//
//   1. `npm run build` (TypeScript project references; incremental, quick when up to date)
//   2. `npm run build -w @dataloom/demo-app` when demo-app/dist is missing or older than any
//      source of the demo or the packages it bundles
//   3. the sync server, in this process: `createServer` from packages/server/dist with the demo's
//      server configuration (demo-app/server.config.mjs: schema, demo sign-in, write rules, read
//      permissions), SQLite at .data/dataloom.sqlite, serving demo-app/dist, and its back-end jobs
//      (`startJobs`: the user registry and the CRM feed of the Sources screen)
//
// Env: PORT (default 8787), HOST (default 127.0.0.1), DATALOOM_STORE (default
// sqlite:.data/dataloom.sqlite), DATALOOM_STATIC (default demo-app/dist), SKIP_BUILD=1 to skip
// steps 1–2, DATALOOM_FROM_SOURCE=1 to run the server from its TypeScript source (through tsx,
// as `npx dataloom` does before a build; the tests use it).
//
// Stopping: Ctrl-C, SIGTERM or SIGHUP close the server cleanly. `npm` does not pass a signal on
// to this process when it is itself killed, so the server also stops when its parent goes away.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

/** `@dataloom/server`, built (dist) or from source. */
async function loadServer() {
  if (process.env.DATALOOM_FROM_SOURCE === '1') {
    const { register } = await import('node:module');
    const tsx = await import('tsx/esm/api');
    register(pathToFileURL(join(root, 'packages/server/bin/source-hooks.js')));
    tsx.register();
    return import(pathToFileURL(join(root, 'packages/server/src/index.ts')).href);
  }
  const entry = join(root, 'packages/server/dist/index.js');
  if (!existsSync(entry)) {
    log(`missing ${entry}: the server package has not been built (npm run build)`);
    process.exit(1);
  }
  return import(pathToFileURL(entry).href);
}

const { createServer } = await loadServer();
const demo = await import(pathToFileURL(join(root, 'demo-app/server.config.mjs')).href);

mkdirSync(join(root, '.data'), { recursive: true });
const port = Number(process.env.PORT ?? 8787);
const store = process.env.DATALOOM_STORE ?? `sqlite:${join(root, '.data/dataloom.sqlite')}`;
let server;
try {
  server = await createServer({ ...demo.serverOptions(), store, port, host: process.env.HOST, static: process.env.DATALOOM_STATIC ?? join(root, 'demo-app/dist') });
} catch (e) {
  log(`could not start the server: ${e.message}`);
  process.exit(1);
}
const stopJobs = (await demo.startJobs?.(server)) ?? (() => {}); // the user registry, the CRM feed
console.log(`dataloom demo: open ${server.httpUrl}  (sync on ${server.url}, store ${store})`);

let stopping = false;
function stop(why) {
  if (stopping) return;
  stopping = true;
  log(`${why}: shutting down`);
  const force = setTimeout(() => process.exit(1), 5_000);
  force.unref();
  stopJobs();
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => stop(sig));
// Killing `npm` (e.g. `kill <npm pid>`) does not signal us: we get re-parented. Notice and stop.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop(`parent process ${parent} exited`);
}, 500).unref();
