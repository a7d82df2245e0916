/**
 * `dataloom import` / `dataloom export` (run from source through tsx, against real SQLite files
 * and the real PostgreSQL): tempids across the file, lookup refs, a second run that changes
 * nothing, a refused transaction named by file and line, an export that re-imports into the same
 * state, `--history`, and `--help` listing both.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { createClient } from '../../packages/client/src/index.js';
import type { SocketCtor } from '../../packages/client/src/sync/socket.js';
import { createPostgresStore } from '../../packages/server/src/storage/postgres.js';
import { PG_URL, pgNamespace, tempDir } from './support/harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/esm/index.mjs')).href;

function dataloom(args: string[], cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const proc = spawn(process.execPath, ['--import', tsx, join(root, 'packages/server/src/cli.ts'), ...args], {
      cwd,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'test/sync/support/tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (err += d));
    proc.once('exit', (code) => res({ code, out, err }));
  });
}

const SCHEMA = `{:person/email {:db/valueType :db.type/string :db/unique :db.unique/identity}
 :person/name {:db/valueType :db.type/string}
 :person/boss {:db/valueType :db.type/ref}
 :person/tags {:db/valueType :db.type/string :db/cardinality :db.cardinality/many}}`;

const EDN = `[{:db/id "ann" :person/email "ann@x" :person/name "Ann" :person/tags ["a" "b"]}]
[{:db/id "bob" :person/email "bob@x" :person/name "Bob" :person/boss "ann"}]
{:db/id -1 :person/name "Cy" :person/boss [:person/email "bob@x"]}
[[:db/add "ann" :person/name "Ann B."]]
`;

describe('dataloom import / export', () => {
  it('imports EDN with tempids across the file and lookup refs; a re-run changes nothing; export re-imports to the same state', { timeout: 60_000 }, async () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'schema.edn'), SCHEMA);
      writeFileSync(join(t.dir, 'people.edn'), EDN);
      const store = ['--store', 'sqlite:a.sqlite', '--schema', 'schema.edn'];
      const first = await dataloom(['import', 'people.edn', ...store], t.dir);
      expect(first.err + first.out).toMatch(/4 transactions \(4 appended, 0 already present\)/);
      expect(first.code).toBe(0);
      expect(first.out).toMatch(/3 tempids/);
      expect(first.err).toMatch(/import: 4\/4 transactions \(100%\)/);

      const again = await dataloom(['import', 'people.edn', ...store], t.dir);
      expect(again.out).toMatch(/4 transactions \(0 appended, 4 already present\)/);
      expect(again.code).toBe(0);

      const state = await dataloom(['export', '--store', 'sqlite:a.sqlite'], t.dir);
      expect(state.code).toBe(0);
      const people = state.out.split('\n').filter((l) => l.includes(':person/') && !l.includes(':db/ident'));
      expect(people).toHaveLength(3);
      const ann = people.find((l) => l.includes('ann@x'))!;
      expect(ann).toContain(':person/name "Ann B."');
      expect(ann).toContain(':person/tags ["a" "b"]');
      const annId = /:db\/id "([^"]+)"/.exec(ann)![1]!;
      const bob = people.find((l) => l.includes('bob@x'))!;
      expect(bob).toContain(`:person/boss "${annId}"`);
      const bobId = /:db\/id "([^"]+)"/.exec(bob)![1]!;
      expect(people.find((l) => l.includes('"Cy"'))).toContain(`:person/boss "${bobId}"`);

      // the export loads into a fresh store as the same entities
      writeFileSync(join(t.dir, 'state.edn'), state.out);
      const load = await dataloom(['import', 'state.edn', '--store', 'sqlite:b.sqlite'], t.dir);
      expect(load.code, load.err).toBe(0);
      const state2 = await dataloom(['export', '--store', 'sqlite:b.sqlite'], t.dir);
      expect(state2.out.split('\n').filter((l) => l.includes(':person/') && !l.includes(':db/ident')).sort()).toEqual([...people].sort());

      const hist = await dataloom(['export', '--history', '--store', 'sqlite:a.sqlite'], t.dir);
      const lines = hist.out.trim().split('\n');
      expect(lines.length).toBe(5); // schema bootstrap + 4 imported transactions
      expect(lines[2]).toMatch(/^\{:pos 3, :tx "[0-9a-z]{12}-0001-imp_[0-9a-f]{20}", :replica "imp_[0-9a-f]{20}", :ops \[/);
      expect(lines[2]).toContain(`:v #dataloom/ref "${annId}"`);
    } finally {
      t.cleanup();
    }
  });

  it('JSON lines into PostgreSQL; a refused transaction is named by file and line and stops the import', { timeout: 60_000 }, async () => {
    const t = tempDir();
    const namespace = pgNamespace();
    try {
      writeFileSync(join(t.dir, 'schema.edn'), SCHEMA);
      writeFileSync(join(t.dir, 'rows.jsonl'), ['{"db/id": "x", "person/email": "x@x", "person/name": "X"}', '', '[["db/add", "x", "person/name", 42]]', '{"person/name": "never"}'].join('\n'));
      const r = await dataloom(['import', 'rows.jsonl', '--store', `${PG_URL}?namespace=${namespace}`, '--schema', 'schema.edn'], t.dir);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/rows\.jsonl:3: sync\/schema-mismatch: value 42 of :person\/name is not a :db\.type\/string/);
      // the transaction after it was already in flight and is judged on its own: the count says so
      expect(r.err).toMatch(/import stopped; 2 of 3 transactions are in the log/);
      const out = await dataloom(['export', '--store', `${PG_URL}?namespace=${namespace}`], t.dir);
      expect(out.out).toContain(':person/name "X"');
      expect(out.out).not.toContain('42');
    } finally {
      await createPostgresStore({ url: PG_URL, namespace }).destroy();
      t.cleanup();
    }
  });

  it('serve --sources: a tx-log source from a JSON file feeds the log that clients read', { timeout: 60_000 }, async () => {
    const t = tempDir();
    writeFileSync(join(t.dir, 'schema.edn'), SCHEMA);
    writeFileSync(join(t.dir, 'log.edn'), '[[1 :person/name "Ann" 536870913 true] [2 :person/name "Bob" 536870913 true] [2 :person/boss 1 536870913 true]]\n');
    writeFileSync(join(t.dir, 'sources.json'), JSON.stringify([{ name: 'log', txLog: 'log.edn' }]));
    const proc = spawn(process.execPath, ['--import', tsx, join(root, 'packages/server/src/cli.ts'), 'serve', '--port', '0', '--store', 'sqlite:s.sqlite', '--schema', 'schema.edn', '--sources', 'sources.json'], {
      cwd: t.dir,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'test/sync/support/tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const url = await new Promise<string>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no start: ${out}`)), 30_000);
        proc.stdout!.on('data', (d) => {
          out += d;
          const m = /sync on (\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            res(m[1]!);
          }
        });
        proc.stderr!.on('data', (d) => (out += d));
        proc.once('exit', (c) => rej(new Error(`exited ${c}: ${out}`)));
      });
      const c = createClient({ name: `cli-sources-${process.pid}`, schema: {}, storage: 'memory', tabs: false, url, WebSocket: WebSocket as unknown as SocketCtor });
      try {
        const boss = async () => c.q('[:find ?bn . :where [?b :person/name "Bob"] [?b :person/boss ?x] [?x :person/name ?bn]]');
        for (let i = 0; i < 500 && (await boss()) !== 'Ann'; i++) await new Promise((r) => setTimeout(r, 20));
        expect(await boss()).toBe('Ann');
      } finally {
        await c.close();
      }
    } finally {
      proc.kill('SIGKILL');
      t.cleanup();
    }
  });

  it('--help lists import and export; bad files say what and where', { timeout: 60_000 }, async () => {
    const t = tempDir();
    try {
      const help = await dataloom(['--help'], t.dir);
      expect(help.out).toMatch(/import <file>/);
      expect(help.out).toMatch(/export/);
      expect(help.out).toMatch(/--history/);
      writeFileSync(join(t.dir, 'bad.edn'), '[{:person/name "x"}\n');
      const bad = await dataloom(['import', 'bad.edn', '--store', 'sqlite:c.sqlite'], t.dir);
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/bad\.edn: /);
      const missing = await dataloom(['import', 'nope.jsonl', '--store', 'sqlite:c.sqlite'], t.dir);
      expect(missing.err).toMatch(/nope\.jsonl: no such file/);
    } finally {
      t.cleanup();
    }
  });
});
