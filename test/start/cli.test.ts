/**
 * Regression tests for the `dataloom` command as a new user meets it (issue 14):
 * - `npx dataloom --help` on a fresh clone: the root package is not also called `dataloom` (npm
 *   could not tell which executable was meant) and the bin is a launcher that exists before
 *   `npm run build` (it runs the TypeScript source until `dist/` exists); the commands go to stdout.
 * - a missing `--static` directory is refused at start, not served as 404s;
 * - a schema parse error names the file (and the line and column).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from '@dataloom/server';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const launcher = join(root, 'packages/server/bin/dataloom.js');
const dir = mkdtempSync(join(tmpdir(), 'dataloom-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the launcher from the TypeScript source, as on a fresh clone before any build. */
function dataloom(args: string[], cwd = root) {
  return spawnSync(process.execPath, [launcher, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, DATALOOM_FROM_SOURCE: '1' },
    timeout: 60_000,
  });
}

describe('npx dataloom --help on a fresh clone', () => {
  it('the root package is not named like the bin, and the bin is a launcher tracked in git', () => {
    const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string };
    expect(rootPkg.name).not.toBe('dataloom');
    const server = JSON.parse(readFileSync(join(root, 'packages/server/package.json'), 'utf8')) as { bin: Record<string, string>; files: string[] };
    expect(server.bin.dataloom).toBe('./bin/dataloom.js');
    expect(server.files).toContain('bin');
    if (spawnSync('git', ['rev-parse', '--git-dir'], { cwd: root }).status !== 0) return; // not a git checkout
    const tracked = spawnSync('git', ['ls-files', '--error-unmatch', 'packages/server/bin/dataloom.js', 'packages/server/bin/source-hooks.js'], { cwd: root });
    expect(tracked.status, 'the launcher must be committed, so npm links it before dist/ exists').toBe(0);
  });

  it('prints the commands on stdout, from source (no dist/ needed)', () => {
    const r = dataloom(['--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^usage: dataloom <command>/);
    expect(r.stdout).toMatch(/^\s+serve\s/m);
    expect(r.stdout).toMatch(/^\s+--help\s/m);
    expect(r.stdout).toContain('--static <dir>');
    expect(r.stderr).toBe('');
  });

  it('npx resolves `dataloom` in the workspace to that launcher', () => {
    const bin = join(root, 'node_modules/.bin/dataloom');
    expect(realpathSync(bin)).toBe(realpathSync(launcher));
    const r = spawnSync('npx', ['--no-install', 'dataloom', '--help'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, DATALOOM_FROM_SOURCE: '1' },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\s+serve\s/m);
  });

  it('an unknown command exits 2 with the usage on stderr', () => {
    const r = dataloom(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
    expect(r.stdout).toBe('');
  });
});

describe('a missing --static directory', () => {
  it('is refused by dataloom serve', () => {
    const missing = join(dir, 'no-such-dist');
    const r = dataloom(['serve', '--port', '0', '--store', `sqlite:${join(dir, 'a.sqlite')}`, '--static', missing]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`static directory ${missing} does not exist`);
  });

  it('is refused by createServer with server/static-missing', async () => {
    await expect(createServer({ store: `sqlite:${join(dir, 'b.sqlite')}`, port: 0, static: join(dir, 'nope') })).rejects.toMatchObject({
      code: 'server/static-missing',
      data: { path: join(dir, 'nope') },
    });
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    await expect(createServer({ store: `sqlite:${join(dir, 'c.sqlite')}`, port: 0, static: file })).rejects.toMatchObject({ code: 'server/static-missing' });
  });
});

describe('a schema parse error', () => {
  it('names the file, line and column', () => {
    const file = join(dir, 'broken.edn');
    writeFileSync(file, '{:todo/title {}\n :todo/done {:db/unique}}\n');
    const r = dataloom(['serve', '--port', '0', '--store', `sqlite:${join(dir, 'd.sqlite')}`, '--schema', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^dataloom: schema file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:\\d+: `));
  });

  it('names the file for a schema the server refuses, and for a missing file', async () => {
    const { readSchemaFile } = await import('@dataloom/server');
    const file = join(dir, 'bad-type.edn');
    writeFileSync(file, '{:thug/boss {:db/valueType :db.type/pointer}}');
    expect(() => readSchemaFile(file)).toThrow(expect.objectContaining({ code: 'server/schema-file', data: expect.objectContaining({ file, cause: 'schema/validation' }) }));
    expect(() => readSchemaFile(join(dir, 'missing.edn'))).toThrow(/schema file .*missing\.edn: no such file/);
    const json = join(dir, 'bad.json');
    writeFileSync(json, '{"a": ');
    expect(() => readSchemaFile(json)).toThrow(/schema file .*bad\.json: /);
  });
});
