/**
 * `npm run build` produces ESM JavaScript with type declarations that plain `node` imports
 * (issue 2: "plain node can import @dataloom/core and @dataloom/query after npm ci && npm run build").
 * Runs the real build (TypeScript project references, strict) and a child `node` process that
 * imports every package by name from its `dist/`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGES = ['core', 'protocol', 'query', 'dataflow', 'client', 'server', 'react'];

describe('npm run build', () => {
  it('builds every package with declarations, and plain node imports them', { timeout: 600_000 }, () => {
    const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, encoding: 'utf8' });
    expect(build.status, `npm run build failed:\n${build.stdout}\n${build.stderr}`).toBe(0);
    for (const p of PACKAGES) {
      expect(existsSync(`${root}packages/${p}/dist/index.js`), `${p}/dist/index.js`).toBe(true);
      expect(existsSync(`${root}packages/${p}/dist/index.d.ts`), `${p}/dist/index.d.ts`).toBe(true);
    }
    const script = `
      const { createDb, printEdn } = await import('@dataloom/core');
      const { q } = await import('@dataloom/query');
      const { createConn } = await import('@dataloom/dataflow');
      const { createServer } = await import('@dataloom/server');
      const { createClient } = await import('@dataloom/client');
      const { checkEnvelope } = await import('@dataloom/protocol');
      const db = createDb().with('[{:db/id -1 :name "Ivan" :age 37}]').dbAfter;
      const conn = createConn();
      const view = conn.register('names', '[:find ?n :where [_ :name ?n]]');
      conn.transact('[{:name "Petr"}]');
      console.log(JSON.stringify([q('[:find ?n . :where [?e :age 37] [?e :name ?n]]', db), printEdn(view.result()),
        typeof createServer, typeof createClient, typeof checkEnvelope]));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toEqual(['Ivan', '#{["Petr"]}', 'function', 'function', 'function']);
  });
});
