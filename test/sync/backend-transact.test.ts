/**
 * `server.transact(tx, { as })`: trusted back-end writes reach a real client's watched query over
 * the WebSocket, on SQLite and on PostgreSQL; tempids, lookup refs and upserts resolve against the
 * committed log; bad data, schema violations and refused `as` users write nothing and say why.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createServer, type DataloomServer } from '../../packages/server/src/index.js';
import { createPostgresStore } from '../../packages/server/src/storage/postgres.js';
import { PG_URL, pgNamespace, tempDir, within } from './support/harness.js';
import { until } from './support/wait.js';
import { testRig } from './support/rig.js';

const SCHEMA = {
  'person/email': { 'db/valueType': 'db.type/string', 'db/unique': 'db.unique/identity' },
  'person/name': { 'db/valueType': 'db.type/string' },
  'person/age': { 'db/valueType': 'db.type/long' },
  'person/friend': { 'db/valueType': 'db.type/ref' },
};

const rig = testRig('bt', { schema: {} });
const client = (url: string) => rig.client(url);

async function sqliteServer(extra: Partial<Parameters<typeof createServer>[0]> = {}): Promise<DataloomServer> {
  const t = tempDir();
  const server = await createServer({ store: `sqlite:${join(t.dir, 'bt.sqlite')}`, port: 0, schema: SCHEMA, ...extra });
  rig.defer(t.cleanup, () => server.close());
  return server;
}

async function pgServer(): Promise<DataloomServer> {
  const namespace = pgNamespace();
  const server = await createServer({ store: `${PG_URL}?namespace=${namespace}`, port: 0, schema: SCHEMA });
  rig.defer(() => createPostgresStore({ url: PG_URL, namespace }).destroy(), () => server.close());
  return server;
}

async function scenario(server: DataloomServer): Promise<void> {
  const c = client(server.url);
  await within(c.whenSynced(), 10_000, 'client synced');
  const view = c.watch('[:find ?n ?a :where [?e :person/name ?n] [?e :person/age ?a]]');
  await view.ready;
  const diffs: Array<[unknown, number]> = [];
  view.subscribe((d) => diffs.push(...d.map((x) => [(x as unknown[])[0], (x as unknown[])[2] as number] as [unknown, number])));

  const r1 = await server.transact([
    { ':db/id': 'ann', ':person/email': 'ann@x', ':person/name': 'Ann', ':person/age': 40 },
    { ':db/id': 'bob', ':person/email': 'bob@x', ':person/name': 'Bob', ':person/age': 30, ':person/friend': 'ann' },
  ]);
  expect(r1.pos).toBeGreaterThan(0);
  expect(Object.keys(r1.tempids).sort()).toEqual(['ann', 'bob']);
  expect(r1.tx).toMatch(/-server_/);
  await until(() => diffs.length === 2, 'first diffs at the client');
  expect(new Set(diffs.map((d) => JSON.stringify(d)))).toEqual(new Set([JSON.stringify([['Ann', 40], 1]), JSON.stringify([['Bob', 30], 1])]));

  // a lookup ref and an upsert on the identity attribute resolve against the committed log
  const r2 = await server.transact(`[[:db/add [:person/email "ann@x"] :person/age 41] {:person/email "bob@x" :person/name "Robert"}]`);
  expect(r2.pos).toBeGreaterThan(r1.pos);
  await until(() => diffs.length === 6, 'update diffs');
  expect(diffs.slice(2).map((d) => JSON.stringify(d)).sort()).toEqual(
    [[['Ann', 40], -1], [['Ann', 41], 1], [['Bob', 30], -1], [['Robert', 30], 1]].map((d) => JSON.stringify(d)).sort(),
  );
  const friend = await c.q('[:find ?fn . :where [?b :person/name "Robert"] [?b :person/friend ?f] [?f :person/name ?fn]]');
  expect(friend).toBe('Ann');
  expect(server.head()).toBe(r2.pos);
}

describe('server.transact', () => {
  it('writes tx data that a connected client receives as a watched-query diff (SQLite)', async () => {
    await scenario(await sqliteServer());
  });

  it('writes tx data that a connected client receives as a watched-query diff (PostgreSQL)', async () => {
    await scenario(await pgServer());
  });

  it('works from any server process on one PostgreSQL log: a write on one node reaches a client of the other, lookups see the other node\'s writes', async () => {
    const namespace = pgNamespace();
    const store = `${PG_URL}?namespace=${namespace}`;
    const n1 = await createServer({ store, port: 0, schema: SCHEMA });
    const n2 = await createServer({ store, port: 0, schema: SCHEMA, pollMs: 60_000 });
    rig.defer(() => createPostgresStore({ url: PG_URL, namespace }).destroy(), () => n1.close(), () => n2.close());
    const c = client(n1.url);
    await within(c.whenSynced(), 10_000, 'client synced');
    await n1.transact([{ ':person/email': 'ann@x', ':person/name': 'Ann', ':person/age': 40 }]);
    // n2 has not necessarily seen n1's write yet: transact catches up before resolving the lookup ref
    const r = await n2.transact([[':db/add', [':person/email', 'ann@x'], ':person/age', 41]]);
    expect(r.pos).toBe(2 + 1); // schema bootstrap, Ann, this one
    for (let i = 0; i < 500 && (await c.q('[:find ?a . :where [?e :person/email "ann@x"] [?e :person/age ?a]]')) !== 41; i++) await new Promise((res) => setTimeout(res, 10));
    expect(await c.q('[:find ?a . :where [?e :person/email "ann@x"] [?e :person/age ?a]]')).toBe(41);
  });

  it('refuses bad data, schema violations and unknown refs with typed errors and writes nothing', async () => {
    const server = await sqliteServer();
    const head = server.head();
    await expect(server.transact('[{:person/name')).rejects.toMatchObject({ code: expect.stringMatching(/^edn\//) });
    await expect(server.transact([{ ':person/name': 7 }])).rejects.toMatchObject({ code: 'sync/schema-mismatch' });
    await expect(server.transact([[':db/add', [':person/email', 'nobody@x'], ':person/age', 3]])).rejects.toMatchObject({ code: 'entity-id/missing' });
    await expect(server.transact([{ ':person/name': 'x', ':person/friend': 'nobody.abc' }])).rejects.toMatchObject({ code: 'sync/unknown-ref' });
    await expect(server.transact([{ ':person/name': 'x'.repeat(300_000) }])).rejects.toMatchObject({ code: 'ops/limit' });
    expect(server.head()).toBe(head);
  });

  it('judges a write made `as` a user with authorizeWrite; without `as` it is trusted', async () => {
    const seen: unknown[] = [];
    const server = await sqliteServer({
      authorizeWrite: (user, tx) => {
        seen.push(user);
        return (user as { id: string }).id === 'admin' || tx.ops.every((op) => op.a !== 'person/age');
      },
    });
    await expect(server.transact([{ ':person/name': 'Eve', ':person/age': 1 }], { as: { id: 'eve' } })).rejects.toMatchObject({ code: 'sync/forbidden' });
    const ok = await server.transact([{ ':person/name': 'Eve', ':person/age': 1 }], { as: { id: 'admin' } });
    expect(ok.pos).toBeGreaterThan(0);
    await server.transact([{ ':person/name': 'Trusted', ':person/age': 2 }]);
    expect(seen).toEqual([{ id: 'eve' }, { id: 'admin' }]);
  });

  it('a write `as` a user is judged by the write rules (can-write); without `as` it is trusted', async () => {
    const rules = `[[(can-write ?u ?e) [?e :person/email ?u]]]`;
    const server = await sqliteServer({ permissions: rules, authenticate: (token: string | null) => token });
    await expect(server.transact([{ ':person/email': 'ann@x', ':person/name': 'Ann' }], { as: 'bob@x' })).rejects.toMatchObject({ code: 'sync/forbidden' });
    const own = await server.transact([{ ':person/email': 'ann@x', ':person/name': 'Ann' }], { as: 'ann@x' });
    expect(own.pos).toBeGreaterThan(0);
    const trusted = await server.transact([{ ':person/email': 'eve@x', ':person/name': 'Eve' }]);
    expect(trusted.pos).toBe(own.pos + 1);
  });

  it('an upsert `as` a user into an entity that user may not read is refused once: a definite refusal is not retried', async () => {
    const t = tempDir();
    const file = join(t.dir, 'bt.sqlite');
    const server = await createServer({ store: `sqlite:${file}`, port: 0, schema: SCHEMA, permissions: '[[(can-read ?u ?e) [?e :person/name ?u]]]', authenticate: (token: string | null) => token });
    rig.defer(t.cleanup);
    try {
      await server.transact([{ ':person/email': 'ann@x', ':person/name': 'ann' }]);
      await expect(server.transact([{ ':person/email': 'ann@x', ':person/age': 5 }], { as: 'bob' })).rejects.toMatchObject({ code: 'sync/unique' });
    } finally {
      await server.close();
    }
    // every refusal the judge makes is recorded (the server holds the file while it runs): one, not one per retry
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) AS n FROM dataloom_rejected').get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it('a cas race between back-end writers is judged by the log', async () => {
    const server = await sqliteServer();
    const { tempids } = await server.transact([{ ':db/id': 'c', ':person/email': 'c@x', ':person/age': 1 }]);
    const e = tempids.c!;
    const results = await Promise.allSettled([server.transact([[':db/cas', e, ':person/age', 1, 2]]), server.transact([[':db/cas', e, ':person/age', 1, 3]])]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'sync/cas-failed' });
  });
});
