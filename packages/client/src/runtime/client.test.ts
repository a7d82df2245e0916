import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { DataloomError, kw } from '@dataloom/core';
import { createClient, type Client } from './client.js';
import { exposeClientHost } from './worker.js';
import type { Diff } from './mirror.js';
import { until } from '@dataloom/test/sync/support/wait.js';

const schema = {
  'todo/title': {},
  'todo/done': {},
  'todo/tags': { ':db/cardinality': ':db.cardinality/many' },
  'todo/owner': { ':db/valueType': ':db.type/ref' },
  'user/email': { ':db/unique': ':db.unique/identity' },
  'todo/notes': { ':db/valueType': ':db.type/text' },
};

let n = 0;
function inProcess(storage: 'memory' | 'indexeddb' = 'memory'): Client {
  return createClient({ name: `client-test-${n++}`, schema, storage, tabs: false });
}
function viaWorkerPort(): Client {
  const { port1, port2 } = new MessageChannel();
  exposeClientHost(port1 as never);
  return createClient({ name: `client-worker-${n++}`, schema, storage: 'memory', tabs: false, worker: port2 as never });
}


for (const [mode, make] of [
  ['in-process', () => inProcess()],
  ['in-process + fake-indexeddb', () => inProcess('indexeddb')],
  ['across a MessagePort (worker protocol)', viaWorkerPort],
] as const) {
  describe(`createClient (${mode})`, () => {
    it('transacts, queries, pulls; watch mirrors results and diffs', async () => {
      const c = make();
      await c.ready;
      const res = await c.transact([
        { ':db/id': 'u', 'user/email': 'a@x' },
        { ':db/id': 't1', 'todo/title': 'Milk', 'todo/done': false, 'todo/owner': 'u', 'todo/tags': ['shop', 'home'] },
      ]);
      expect(typeof res.tempids.t1).toBe('number');
      const view = c.watch('[:find ?t :where [?e :todo/title ?t] [?e :todo/done false]]');
      await view.ready;
      expect(view.result()).toEqual(new Set([['Milk']]));
      const count = c.watch('[:find (count ?e) . :where [?e :todo/title]]');
      await count.ready;
      expect(count.result()).toBe(1);
      const seen: Diff[][] = [];
      view.subscribe((d) => seen.push(d));
      await c.transact([{ 'todo/title': 'Eggs', 'todo/done': false }, [':db/add', res.tempids.t1!, ':todo/done', true]]);
      await until(() => seen.length === 1);
      expect(seen[0]!.map(([row, , m]) => [row, m]).sort()).toEqual([[['Eggs'], 1], [['Milk'], -1]].sort());
      expect(view.result()).toEqual(new Set([['Eggs']]));
      await until(() => count.result() === 2);
      expect(await c.q('[:find [?t ...] :where [?e :todo/tags ?t]]')).toEqual(expect.arrayContaining(['shop', 'home']));
      expect(await c.q('[:find ?e . :in $ ?title :where [?e :todo/title ?title]]', 'Milk')).toBe(res.tempids.t1);
      const pulled = (await c.pull('[:todo/title {:todo/owner [:user/email]}]', res.tempids.t1)) as Map<unknown, unknown>;
      expect(pulled.get(kw('todo/title'))).toBe('Milk');
      expect((pulled.get(kw('todo/owner')) as Map<unknown, unknown>).get(kw('user/email'))).toBe('a@x');
      expect(((await c.entity(['user/email', 'a@x'])) as Map<unknown, unknown>).get(kw('user/email'))).toBe('a@x');
      view.close();
      count.close();
      await c.close();
    });

    it('closed while views are still open (a hook unmounting after sign-out): closing them does nothing, later calls say replica/closed', async () => {
      const stray: unknown[] = [];
      const onStray = (e: unknown) => stray.push(e);
      process.on('unhandledRejection', onStray);
      try {
        const c = make();
        await c.ready;
        const view = c.watch('[:find ?t :where [_ :todo/title ?t]]');
        await view.ready;
        const sub = c.subscribe('[:find ?e :where [?e :todo/title]]');
        const closing = c.close();
        expect(c.close()).toBe(closing); // once
        await closing;
        view.close();
        await sub.close();
        await expect(c.q('[:find ?e :where [?e :todo/title]]')).rejects.toMatchObject({ code: 'replica/closed', message: expect.stringContaining('q()') });
        await expect(c.transact([{ 'todo/title': 'late' }])).rejects.toBeInstanceOf(DataloomError);
        await new Promise((r) => setTimeout(r, 20));
        expect(stray).toEqual([]);
      } finally {
        process.off('unhandledRejection', onStray);
      }
    });

    it('rejects bad input with a typed DataloomError', async () => {
      const c = make();
      await expect(c.transact([[':db/add', ['user/email', 'nobody'], ':todo/title', 'x']])).rejects.toBeInstanceOf(DataloomError);
      await expect(c.transact([[':db/add', ['user/email', 'nobody'], ':todo/title', 'x']])).rejects.toMatchObject({ code: 'entity-id/missing' });
      await expect(c.q('[:find ?x :wher [?x :a]]')).rejects.toMatchObject({ code: expect.stringMatching(/^query\//) });
      const bad = c.watch('[:find ?x :where (bad)]');
      await expect(bad.ready).rejects.toMatchObject({ code: expect.any(String) });
      await c.close();
    });

    it('collaborative text: Y.Text edits become ops; queries see the string', async () => {
      const c = make();
      const { tempids } = await c.transact([{ ':db/id': 't', 'todo/title': 'Doc', 'todo/notes': 'hello' }]);
      expect(await c.q('[:find ?n . :where [?e :todo/notes ?n]]')).toBe('hello');
      const text = await c.text(tempids.t, ':todo/notes');
      expect(text.toString()).toBe('hello');
      text.insert(5, ' world');
      await until(() => false === false);
      for (let i = 0; i < 100; i++) {
        if ((await c.q('[:find ?n . :where [?e :todo/notes ?n]]')) === 'hello world') break;
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(await c.q('[:find ?n . :where [?e :todo/notes ?n]]')).toBe('hello world');
      await c.transact([[':db/add', tempids.t!, ':todo/notes', 'hello brave world']]);
      await until(() => text.toString() === 'hello brave world');
      await c.close();
    });

    it('asOf, since, history', async () => {
      const c = make();
      const a = await c.transact([{ ':db/id': 'u', 'user/email': 'h@x', 'todo/title': 'v1' }]);
      await c.transact([{ 'user/email': 'h@x', 'todo/title': 'v2' }]);
      expect(await c.asOf(a.tx).q('[:find ?t . :where [_ :todo/title ?t]]')).toBe('v1');
      expect(await c.q('[:find ?t . :where [_ :todo/title ?t]]')).toBe('v2');
      expect(await c.since(a.tx).q('[:find [?t ...] :where [_ :todo/title ?t]]')).toEqual(['v2']);
      const h = await c.history();
      expect(h.filter((r) => r[1] === kw('todo/title')).map((r) => [r[2], r[4]])).toEqual([
        ['v1', true],
        ['v1', false],
        ['v2', true],
      ]);
      await c.close();
    });

    it('historyDb: the query language over [?e ?a ?v ?tx ?added] (tx an HLC string)', async () => {
      const c = make();
      const a = await c.transact([{ ':db/id': 'u', 'user/email': 'h@x', 'todo/title': 'v1', 'todo/tags': ['x', 'y'] }]);
      const b = await c.transact([{ 'user/email': 'h@x', 'todo/title': 'v2' }]);
      const e = a.tempids['u']!;
      const r = await c.transact([[':db/retract', e, 'todo/tags', 'x']]);
      const h = c.historyDb();
      expect(await h.q('[:find ?v ?added :where [?e :todo/title ?v ?tx ?added]]')).toEqual(new Set([['v1', true], ['v1', false], ['v2', true]]));
      // ?tx is the HLC stamp of the transaction that caused the transition
      expect(await h.q('[:find ?v ?tx :where [_ :todo/title ?v ?tx true]]')).toEqual(new Set([['v1', a.tx], ['v2', b.tx]]));
      expect(await h.q('[:find ?v ?tx :where [_ :todo/title ?v ?tx false]]')).toEqual(new Set([['v1', b.tx]]));
      // shorter patterns, entity binding, inputs
      expect(await h.q('[:find ?v ?added :in $ ?e :where [?e :todo/tags ?v _ ?added]]', e)).toEqual(new Set([['x', true], ['y', true], ['x', false]]));
      expect(await h.q('[:find [?tx ...] :where [_ :todo/tags "x" ?tx false]]')).toEqual([r.tx]);
      expect(await h.q('[:find (count ?a) . :where [?e ?a ?v ?tx true]]')).toBe(3);
      expect(await h.q('[:find (count ?v) . :with ?e ?a ?tx :where [?e ?a ?v ?tx true]]')).toBe(5);
      // inside not / or
      expect(await h.q('[:find [?v ...] :where [_ :todo/title ?v _ true] (not [_ :todo/title ?v _ false])]')).toEqual(['v2']);
      expect(
        await h.q('[:find ?v ?added :where (or [_ :todo/title ?v _ ?added] (and [_ :todo/tags ?v _ ?added] [(= ?v "x")]))]'),
      ).toEqual(new Set([['v1', true], ['v1', false], ['v2', true], ['x', true], ['x', false]]));
      // the current database is unchanged and still the default of q
      expect(await c.q('[:find [?v ...] :where [_ :todo/tags ?v]]')).toEqual(['y']);
      // rows stay available
      expect((await c.history()).length).toBe(7);
      await c.close();
    });
  });
}

describe('createClient persistence (fake-indexeddb)', () => {
  it('a reload reads back the data offline, pending edits intact', async () => {
    const name = `reload-client-${n++}`;
    const c1 = createClient({ name, schema, storage: 'indexeddb', tabs: false });
    await c1.transact([{ 'todo/title': 'persisted' }]);
    await c1.close();
    const c2 = createClient({ name, schema, storage: 'indexeddb', tabs: false });
    expect(await c2.q('[:find [?t ...] :where [_ :todo/title ?t]]')).toEqual(['persisted']);
    expect(await c2.storageKind()).toBe('indexeddb');
    await c2.close();
  });
});
