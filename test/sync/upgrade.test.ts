/**
 * Who may connect (issue 9): the connection limit counts upgrades still waiting on a slow async
 * `authenticate`; a loopback server refuses DNS-rebinding requests (attacker-chosen Host and
 * Origin) and by default accepts only loopback Origins; `/health` says only "ok" unless
 * authorized; an invalid UTF-8 frame gets a typed error; `dataloom serve` on a non-loopback host
 * needs a token or `--insecure`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { createServer, type ServerOptions } from '../../packages/server/src/index.js';
import { TEST_SCHEMA, sleep, tempDir } from './support/harness.js';
import { raw } from './support/raw.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function start(extra: Partial<ServerOptions> = {}) {
  const t = tempDir();
  const server = await createServer({ store: `sqlite:${join(t.dir, 'db.sqlite')}`, port: 0, schema: TEST_SCHEMA, ...extra });
  cleanups.push(t.cleanup, () => server.close());
  return server;
}

/** Status of an upgrade attempt: 101 (opened) or the HTTP status it was refused with. */
function attempt(url: string, headers: Record<string, string> = {}, protocols = ['dataloom.v1']): Promise<number> {
  return new Promise((res) => {
    const ws = new WebSocket(url, protocols, { headers });
    cleanups.push(() => ws.terminate());
    ws.once('open', () => res(101));
    ws.once('unexpected-response', (_req, r) => res(r.statusCode ?? 0));
    ws.once('error', () => res(0));
  });
}

describe('upgrade guards', () => {
  it('counts connections from the start of the upgrade: a slow async authenticate cannot exceed the limit', async () => {
    const server = await start({ limits: { maxConnections: 5 }, authenticate: async () => (await sleep(300), { id: 'u' }) });
    const statuses = await Promise.all(Array.from({ length: 20 }, () => attempt(server.url)));
    expect(statuses.filter((s) => s === 101)).toHaveLength(5);
    expect(statuses.filter((s) => s === 503)).toHaveLength(15);
    expect(server.connections()).toBe(5);
  });

  it('an authenticate hook that never answers is cut off after helloTimeoutMs and frees its slot', async () => {
    const server = await start({ limits: { maxConnections: 1, helloTimeoutMs: 300 }, authenticate: (t) => (t === 'hang' ? new Promise(() => {}) : { id: 'u' }) });
    expect(await attempt(server.url + '?token=hang')).toBe(401);
    expect(await attempt(server.url + '?token=ok')).toBe(101);
  });

  it('refuses DNS rebinding on a loopback server and accepts only loopback origins by default', async () => {
    const server = await start();
    const port = server.port;
    expect(await attempt(server.url, { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` })).toBe(403);
    expect(await attempt(server.url, { Origin: 'https://evil.example' })).toBe(403);
    expect(await attempt(server.url, { Origin: 'http://localhost:5173' })).toBe(101);
    expect(await attempt(server.url, { Origin: `http://127.0.0.1:${port}` })).toBe(101);
    expect(await attempt(server.url)).toBe(101);
    const status = (host: string) =>
      new Promise<number>((res, rej) => get({ host: '127.0.0.1', port, path: '/health', headers: { Host: host } }, (r) => (r.resume(), res(r.statusCode ?? 0))).on('error', rej));
    expect(await status(`evil.example:${port}`)).toBe(403);
    expect(await status(`localhost:${port}`)).toBe(200);
    const explicit = await start({ origins: ['https://app.example'] });
    expect(await attempt(explicit.url, { Origin: 'https://app.example' })).toBe(101);
    expect(await attempt(explicit.url, { Origin: 'http://localhost:5173' })).toBe(403);
  });

  it('/health says only ok unless the request is authorized', async () => {
    const server = await start({ authenticate: (t) => (t === 'secret' ? { id: 'admin' } : null) });
    expect(await (await fetch(server.httpUrl + 'health')).json()).toEqual({ ok: true });
    const full = await (await fetch(server.httpUrl + 'health', { headers: { Authorization: 'Bearer secret' } })).json();
    expect(full).toMatchObject({ ok: true, store: 'sqlite', head: expect.any(Number), connections: 0 });
  });

  it('answers an invalid UTF-8 frame with a typed error and 1007', async () => {
    const server = await start();
    const c = await raw(server.url, cleanups);
    c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    await c.until(() => c.closed() !== null, 'close');
    expect(c.closed()!.code).toBe(1007);
    expect(c.msgs[0]).toMatchObject({ t: 'error', code: 'protocol/invalid-utf8', fatal: true });
  });

  it('dataloom serve on a non-loopback host needs --token or --insecure', { timeout: 60_000 }, async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/esm/index.mjs')).href;
    const proc = spawn(process.execPath, ['--import', tsx, join(root, 'packages/server/src/cli.ts'), 'serve', '--port', '0', '--host', '0.0.0.0'], {
      cwd: t.dir,
      env: { ...process.env, DATALOOM_TOKEN: '', TSX_TSCONFIG_PATH: join(root, 'test/sync/support/tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => proc.kill('SIGKILL'));
    let err = '';
    proc.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((res) => {
      proc.once('exit', res);
      setTimeout(() => res(null), 30_000); // a server that started anyway: fail, then killed
    });
    expect(code).toBe(1);
    expect(err).toMatch(/--token .*--insecure/);
    // limits are set by name; an unknown name is refused with the list
    const bad = spawn(process.execPath, ['--import', tsx, join(root, 'packages/server/src/cli.ts'), 'serve', '--port', '0', '--limit', 'maxClockDrift=5'], {
      cwd: t.dir,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'test/sync/support/tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => bad.kill('SIGKILL'));
    let badErr = '';
    bad.stderr!.on('data', (d) => (badErr += d));
    expect(await new Promise<number | null>((res) => (bad.once('exit', res), setTimeout(() => res(null), 30_000)))).toBe(1);
    expect(badErr).toMatch(/--limit maxClockDrift=5: .*maxClockDriftMs/);
  });
});
