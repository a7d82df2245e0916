/**
 * Documentation that runs: every ```js block of README.md is executed here, in order, against the
 * real packages (the client/server block against a real SQLite file and a real WebSocket). Values
 * the README shows in comments are asserted below from the block's own variables.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as core from '@dataloom/core';
import * as query from '@dataloom/query';
import * as dataflow from '@dataloom/dataflow';
import * as client from '@dataloom/client';
import * as server from '@dataloom/server';

const modules: Record<string, unknown> = {
  '@dataloom/core': core,
  '@dataloom/query': query,
  '@dataloom/dataflow': dataflow,
  '@dataloom/client': client,
  '@dataloom/server': server,
};

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
const dir = mkdtempSync(join(tmpdir(), 'dataloom-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;

/** Runs one README block; returns the block's top-level `const`s by name. */
async function run(code: string, replace: Array<[string, string]> = []): Promise<Record<string, unknown>> {
  let src = code;
  for (const [from, to] of replace) {
    expect(src, `README block no longer contains ${from}`).toContain(from);
    src = src.split(from).join(to);
  }
  src = src.replace(/^import \{([^}]*)\} from '([^']+)';$/gm, (_m, names: string, mod: string) => {
    if (!(mod in modules)) throw new Error(`README imports unknown module ${mod}`);
    return `const {${names}} = __modules[${JSON.stringify(mod)}];`;
  });
  const names = [...src.matchAll(/^const (\w+)\s*=/gm)].map((m) => m[1]);
  const fn = new AsyncFunction('__modules', 'console', `${src}\nreturn { ${names.join(', ')} };`);
  const logs: unknown[][] = [];
  const vars = (await fn(modules, { log: (...a: unknown[]) => logs.push(a) })) as Record<string, unknown>;
  return { ...vars, __logs: logs };
}

describe('README', () => {
  it('leads with the two commands', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock).toMatch(/npm install && npm start/);
    expect(firstBlock).toMatch(/npm test/);
  });

  it('has the runnable blocks this test knows', () => {
    expect(blocks.length).toBe(5);
  });

  it('DataScript-compatible Datalog block', async () => {
    const v = await run(blocks[0]);
    const db = v.db as core.Db;
    expect(query.q('[:find ?n ?a :in $ ?alias :where [?e :aka ?alias] [?e :name ?n] [?e :age ?a]]', db, 'Max Otto von Stierlitz')).toEqual(new Set([['Maksim', 45]]));
    expect(core.printEdn(query.q('[:find ?n :where [_ :name ?n]]', db))).toBe('#{["Maksim"]}');
  });

  it('incremental queries block', async () => {
    const v = await run(blocks[1]);
    const logs = v.__logs as unknown[][];
    expect(logs).toHaveLength(1);
    const [[diffs]] = logs as [[Array<[unknown[], number, number]>]];
    expect(diffs.map(([t, , w]) => [t, w])).toEqual([[['Tony', 100], 1]]);
  });

  it('client and server block (real SQLite file, real WebSocket)', async () => {
    const v = await run(blocks[2], [
      ["'sqlite:todos.sqlite'", JSON.stringify(`sqlite:${join(dir, 'todos.sqlite')}`)],
      ['port: 8787', 'port: 0'],
    ]);
    const live = v.live as client.WatchedQuery;
    const alice = v.alice as client.Client;
    const bob = v.bob as client.Client;
    const srv = v.server as server.DataloomServer;
    try {
      const deadline = Date.now() + 10_000;
      while ([...(live.result() as Iterable<unknown>)].length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(new Set(live.result() as Iterable<unknown>)).toEqual(new Set([['Buy milk'], ['Call the plumber']]));
      expect((v.written as { pos: number }).pos).toBe(srv.head());
      const logs = v.__logs as unknown[][];
      expect(logs.some(([label, diffs]) => label === 'bob sees' && JSON.stringify(diffs).includes('"Buy milk"'))).toBe(true);
    } finally {
      await alice.close();
      await bob.close();
      await srv.close();
    }
  });

  it('drafts block (real SQLite file, real WebSockets)', async () => {
    const v = await run(blocks[3], [
      ["'sqlite:orders.sqlite'", JSON.stringify(`sqlite:${join(dir, 'orders.sqlite')}`)],
      ['port: 8788', 'port: 0'],
    ]);
    const ann = v.ann as client.Client;
    const ben = v.ben as client.Client;
    const srv = v.orders as server.DataloomServer;
    try {
      const until = async (cond: () => boolean) => {
        const deadline = Date.now() + 10_000;
        while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      };
      await until(() => (v.benList as client.WatchedQuery).result() === 'ring twice, then call');
      expect((v.benSees as client.WatchedQuery).result()).toBe('ring twice, then call');
      expect(await (v.annForm as client.Draft).conflicts()).toEqual([]);
      expect((v.benList as client.WatchedQuery).result()).toBe('ring twice, then call');
      expect(await ann.q(v.note as string, 42)).toBe('ring twice, then call');
    } finally {
      await ann.close();
      await ben.close();
      await srv.close();
    }
  });

  it('engine on the client block (named view, rule, live asOf and since)', async () => {
    const v = await run(blocks[4]);
    const store = v.store as client.Client;
    try {
      const until = async (cond: () => boolean | Promise<boolean>) => {
        const deadline = Date.now() + 10_000;
        while (!(await cond()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      };
      const vips = v.vips as client.WatchedQuery;
      await until(() => (vips.result() as Set<unknown>).size === 1);
      expect(vips.result()).toEqual(new Set([['Ada']]));
      await until(async () => (await store.q('[:find ?n . :where [?c :customer/vip true] [?c :customer/name ?n]]')) === 'Ada');
      const then = v.customersThen as client.WatchedQuery;
      const recent = v.lastFiveMinutes as client.WatchedQuery;
      await Promise.all([then.ready, recent.ready]);
      expect(then.result()).toEqual(new Set([['Ada']]));
      expect(recent.result()).toEqual(new Set([[120]]));
    } finally {
      await store.close();
    }
  });
});
