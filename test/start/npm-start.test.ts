/**
 * Regression test (issue 14): `kill <npm pid>` used to leave the server running — npm does not
 * pass the signal on through `sh -c` to `node scripts/start.mjs`. `npm start` now stops its server
 * when its parent goes away, and on SIGINT/SIGTERM/SIGHUP. Runs the real `npm start` (server from
 * source, no build) on a free port with its own SQLite file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dataloom-start-'));
const started: ChildProcess[] = [];
afterAll(() => {
  for (const c of started) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function npmStart(env: Record<string, string>): { npm: ChildProcess; url: Promise<string>; output: () => string } {
  const npm = spawn('npm', ['start'], {
    cwd: root,
    env: { ...process.env, PORT: '0', SKIP_BUILD: '1', DATALOOM_FROM_SOURCE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(npm);
  let out = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /open (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    npm.stdout!.on('data', onData);
    npm.stderr!.on('data', onData);
    npm.on('exit', (code) => reject(new Error(`npm start exited ${code}:\n${out}`)));
  });
  url.catch(() => {});
  return { npm, url, output: () => out };
}

async function reachable(url: string): Promise<boolean> {
  try {
    const r = await fetch(new URL('health', url), { signal: AbortSignal.timeout(1_000) });
    return r.ok;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  it('kill <npm pid> stops the server', { timeout: 90_000 }, async () => {
    const staticDir = mkdtempSync(join(dir, 'static-'));
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>demo</title>');
    const { npm, url } = npmStart({ DATALOOM_STORE: `sqlite:${join(dir, 'kill.sqlite')}`, DATALOOM_STATIC: staticDir });
    const base = await url;
    expect(await reachable(base)).toBe(true);
    process.kill(npm.pid!, 'SIGTERM'); // what `kill <npm pid>` does
    let up = true;
    for (let i = 0; i < 40 && up; i++) {
      await new Promise((r) => setTimeout(r, 250));
      up = await reachable(base);
    }
    expect(up, 'the server still answers 10 s after npm was killed').toBe(false);
  });

  it('refuses to start on a missing static directory, naming it', { timeout: 90_000 }, async () => {
    const missing = join(dir, 'no-dist');
    const { npm, output } = npmStart({ DATALOOM_STORE: `sqlite:${join(dir, 'static.sqlite')}`, DATALOOM_STATIC: missing });
    const code = await new Promise<number | null>((r) => npm.on('exit', r));
    expect(code).not.toBe(0);
    expect(output()).toContain(`static directory ${missing} does not exist`);
  });
});
