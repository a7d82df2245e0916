/** `dataloom serve` (run from source through tsx): starts on SQLite with zero set-up, serves health and static files, stops on SIGTERM. */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir } from './support/harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('dataloom CLI', () => {
  it('serve: SQLite by default, --static, /health, clean SIGTERM', { timeout: 60_000 }, async () => {
    const t = tempDir();
    mkdirSync(join(t.dir, 'dist'));
    writeFileSync(join(t.dir, 'dist', 'index.html'), '<p>demo</p>');
    // cwd is a fresh directory (to show zero set-up), so load tsx by path.
    const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/esm/index.mjs')).href;
    const proc = spawn(process.execPath, ['--import', tsx, join(root, 'packages/server/src/cli.ts'), 'serve', '--port', '0', '--static', 'dist'], {
      cwd: t.dir,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'test/sync/support/tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const http = await new Promise<string>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no start: ${out}`)), 30_000);
        proc.stdout!.on('data', (d) => {
          out += d;
          const m = /http on (\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            res(m[1]!);
          }
        });
        proc.stderr!.on('data', (d) => (out += d));
        proc.once('exit', (c) => rej(new Error(`exited ${c}: ${out}`)));
      });
      expect(out).toMatch(/sync on ws:\/\/127\.0\.0\.1:\d+\//);
      expect(await (await fetch(http + 'health')).json()).toMatchObject({ ok: true, store: 'sqlite' });
      expect(await (await fetch(http)).text()).toBe('<p>demo</p>');
      expect(existsSync(join(t.dir, '.data', 'dataloom.sqlite'))).toBe(true);
      const code = await new Promise<number | null>((res) => {
        proc.once('exit', (c) => res(c));
        proc.kill('SIGTERM');
      });
      expect(code).toBe(0);
    } finally {
      proc.kill('SIGKILL');
      t.cleanup();
    }
  });
});
