/**
 * The DataScript/Datomic transaction-log source (the datsync scenario): a `datascript` connection in
 * Node receives transactions and a connected client's watched query follows them; what changed
 * while the server was down is reconciled at restart; an EDN log replayed twice (and again after a
 * restart) changes nothing; the report shapes DataScript and Datomic produce are read alike.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createServer, readTxReport, type DataloomServer, type DataScriptApi } from '../../packages/server/src/index.js';
import { tempDir, within } from './support/harness.js';
import { until } from './support/wait.js';
import { testRig } from './support/rig.js';

const d = createRequire(import.meta.url)('datascript') as DataScriptApi & { create_conn(schema: object): unknown; transact(conn: unknown, tx: unknown[]): unknown };

const SCHEMA = {
  'person/name': { 'db/valueType': 'db.type/string' },
  'person/friend': { 'db/valueType': 'db.type/ref' },
  'person/tags': { 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/many' },
};
const DS_SCHEMA = { 'person/friend': { ':db/valueType': ':db.type/ref' }, 'person/tags': { ':db/cardinality': ':db.cardinality/many' } };

const rig = testRig('txlog', { schema: SCHEMA });
const client = (url: string) => rig.client(url);

const caughtUp = (s: DataloomServer) => until(() => s.sources().every((x) => x.state === 'following' && x.caughtUp), `caught up: ${JSON.stringify(s.sources())}`);

const FRIENDS = '[:find ?n ?fn :where [?p :person/name ?n] [?p :person/friend ?f] [?f :person/name ?fn]]';

describe('DataScript / Datomic tx-log source', () => {
  it('follows a live datascript connection; a restart reconciles what changed meanwhile', { timeout: 60_000 }, async () => {
    const t = tempDir();
    rig.defer(t.cleanup);
    const conn = d.create_conn(DS_SCHEMA);
    d.transact(conn, [{ ':db/id': -1, 'person/name': 'Ann', 'person/tags': ['a', 'b'] }, { ':db/id': -2, 'person/name': 'Bob', 'person/friend': -1 }]);
    const start = () => createServer({ store: `sqlite:${join(t.dir, 'ds.sqlite')}`, port: 0, schema: SCHEMA, sources: [{ name: 'ds', datascript: { conn, api: d } }], onError: () => {} });
    let server = await start();
    await caughtUp(server);
    const c = client(server.url);
    await within(c.whenSynced(), 10_000, 'synced');
    const view = c.watch(FRIENDS);
    await view.ready;
    await until(() => (view.result() as Set<unknown>).size === 1, 'existing datoms at the client');
    expect(view.result()).toEqual(new Set([['Bob', 'Ann']]));
    expect(new Set(await c.q('[:find [?t ...] :where [?p :person/name "Ann"] [?p :person/tags ?t]]') as string[])).toEqual(new Set(['a', 'b']));

    const diffs: Array<[unknown, number]> = [];
    view.subscribe((x) => diffs.push(...x.map((y) => [(y as unknown[])[0], (y as unknown[])[2] as number] as [unknown, number])));
    d.transact(conn, [{ ':db/id': -1, 'person/name': 'Cy', 'person/friend': 2 }]);
    await until(() => diffs.length === 1, 'insert diff');
    expect(diffs).toEqual([[['Cy', 'Bob'], 1]]);
    diffs.length = 0;
    d.transact(conn, [[':db/add', 1, 'person/name', 'Ann B.'], [':db/retract', 1, 'person/tags', 'a']]);
    await until(() => diffs.length === 2, 'update diffs');
    expect(diffs.map((x) => JSON.stringify(x)).sort()).toEqual([JSON.stringify([['Bob', 'Ann'], -1]), JSON.stringify([['Bob', 'Ann B.'], 1])].sort());
    await until(async () => JSON.stringify(await c.q('[:find [?t ...] :where [?p :person/name "Ann B."] [?p :person/tags ?t]]')) === '["b"]', 'tag retracted');

    // changes while the server is down: reconciled at restart (a retraction included)
    await server.close();
    d.transact(conn, [[':db.fn/retractEntity', 3]]);
    d.transact(conn, [[':db/add', 2, 'person/name', 'Robert']]);
    server = await start();
    await caughtUp(server);
    const c2 = client(server.url);
    await within(c2.whenSynced(), 10_000, 'synced again');
    expect(new Set(await c2.q(FRIENDS) as Iterable<unknown>)).toEqual(new Set([['Robert', 'Ann B.']]));
    const head = server.head();
    await server.close();
    // nothing new since: a restart writes nothing
    server = await start();
    await caughtUp(server);
    expect(server.head()).toBe(head);
    await server.close();
  });

  it('replaying an EDN tx log twice (and after a restart) changes nothing', { timeout: 60_000 }, async () => {
    const t = tempDir();
    rig.defer(t.cleanup);
    const conn = d.create_conn(DS_SCHEMA);
    const lines: string[] = [];
    d.listen(conn, 'record', (report) => {
      const tx = readTxReport(report);
      lines.push('[' + tx.datoms.map((x) => `[${x.e} :${x.a} ${JSON.stringify(x.v)} ${tx.tx} ${x.added}]`).join(' ') + ']');
    });
    d.transact(conn, [{ ':db/id': -1, 'person/name': 'Ann' }, { ':db/id': -2, 'person/name': 'Bob', 'person/friend': -1 }]);
    d.transact(conn, [[':db/add', 1, 'person/name', 'Ann B.']]);
    d.transact(conn, [{ ':db/id': -1, 'person/name': 'Cy', 'person/friend': 1 }]);
    // the same log twice in one file, in DataScript's printed and Datomic's map shapes
    const file = join(t.dir, 'log.edn');
    writeFileSync(file, [...lines, ...lines.map((l) => `{:tx-data ${l.replace(/\[(\d+) (:\S+) (.+?) (\d+) (true|false)\]/g, '#datascript/Datom [$1 $2 $3 $4 $5]')} :tx-meta nil}`)].join('\n') + '\n');
    const start = () => createServer({ store: `sqlite:${join(t.dir, 'log.sqlite')}`, port: 0, schema: SCHEMA, sources: [{ name: 'log', txLog: file }], onError: () => {} });
    let server = await start();
    await caughtUp(server);
    const head = server.head();
    expect(server.sources()[0]).toMatchObject({ name: 'log', kind: 'txlog', transactions: 3, error: null });
    const c = client(server.url);
    await within(c.whenSynced(), 10_000, 'synced');
    expect(new Set(await c.q(FRIENDS) as Iterable<unknown>)).toEqual(new Set([['Bob', 'Ann B.'], ['Cy', 'Ann B.']]));
    await server.close();
    server = await start();
    await caughtUp(server);
    expect(server.head()).toBe(head);
    expect(server.sources()[0]!.transactions).toBe(0);
    await server.close();
  });

  it('a source configured `as` a user is judged by the write rules; its refusal shows in server.sources()', { timeout: 60_000 }, async () => {
    const t = tempDir();
    rig.defer(t.cleanup);
    const file = join(t.dir, 'log.edn');
    writeFileSync(file, '[[1 :person/name "Ann" 536870913 true]]\n');
    const rules = '[[(can-write ?u ?e) [?e :person/name _] [(= ?u "importer")]]]';
    const errors: unknown[] = [];
    const start = (as: string) => createServer({ store: `sqlite:${join(t.dir, 'as.sqlite')}`, port: 0, schema: SCHEMA, permissions: rules, authenticate: (x: string | null) => x, sources: [{ name: 'log', txLog: file, as }], onError: (e) => errors.push(e) });
    let server = await start('mallory');
    await until(() => server.sources()[0]!.state === 'error', 'refused');
    expect(server.sources()[0]!.error).toMatchObject({ code: 'source/rejected', message: expect.stringMatching(/sync\/forbidden/) });
    expect(errors.length).toBeGreaterThan(0);
    const head = server.head();
    await server.close();
    server = await start('importer');
    await caughtUp(server);
    expect(server.head()).toBe(head + 1);
    await server.close();
  });

  it('reads the report shapes alike and says what is wrong with a bad one', () => {
    const a = readTxReport('[[1 :person/name "Ann" 536870913 true] [1 :person/name "A" 536870913 false]]');
    const b = readTxReport('{:tx-data [#datascript/Datom [1 :person/name "Ann" 536870913 true] #datascript/Datom [1 :person/name "A" 536870913 false]]}');
    const c = readTxReport({ tx_data: [{ e: 1, a: 'person/name', v: 'Ann', tx: 536870913 }, { e: 1, a: 'person/name', v: 'A', tx: -536870913 }] });
    expect(a).toEqual(b);
    expect(a).toEqual(c);
    expect(a).toEqual({ tx: 536870913, datoms: [{ e: 1, a: 'person/name', v: 'Ann', added: true }, { e: 1, a: 'person/name', v: 'A', added: false }] });
    expect(() => readTxReport('{:foo 1}')).toThrow(/tx-data/);
    expect(() => readTxReport('[[1 10 "x" 536870913 true]]')).toThrow(/not an ident/);
  });
});
