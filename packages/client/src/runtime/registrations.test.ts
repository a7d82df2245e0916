/**
 * `client.register` (named views used by later queries) and `client.rule` (business rules whose
 * transactions are local transactions), in-process and across a MessagePort (the worker protocol).
 * The rule's transaction reaching another client through the server: test/replica/rules-sync.test.ts.
 * Watch options (`watch-spec.ts`): a named watch other queries use; live views of the database as
 * of / since a fixed time and of a moving "now minus a window"; bad options refused. Late ops moving
 * a fixed as-of view and a rollback leaving a since view, through the real server:
 * test/replica/time-views.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { until } from '@dataloom/test/sync/support/wait.js';
import { MessageChannel } from 'node:worker_threads';
import { DataloomError, type Diff } from '@dataloom/core';
import { createClient, type Client } from './client.js';
import type { ClientEvent } from './types.js';
import { exposeClientHost } from './worker.js';

const schema = {
  'todo/title': {},
  'todo/done': {},
  'todo/done-at': {},
  'todo/owner': { ':db/valueType': ':db.type/ref' },
  'user/name': { ':db/unique': ':db.unique/identity' },
  'item/title': {},
  'item/n': {},
};

let n = 0;
const inProcess = (): Client => createClient({ name: `reg-test-${n++}`, schema, storage: 'memory', tabs: false });
function viaWorkerPort(): Client {
  const { port1, port2 } = new MessageChannel();
  exposeClientHost(port1 as never);
  return createClient({ name: `reg-worker-${n++}`, schema, storage: 'memory', tabs: false, worker: port2 as never });
}

const sorted = (x: unknown) => [...(x as Iterable<unknown[]>)].map((r) => [...r]).sort((a, b) => String(a).localeCompare(String(b)));

for (const [mode, make] of [
  ['in-process', inProcess],
  ['across a MessagePort (worker protocol)', viaWorkerPort],
] as const) {
  describe(`client.register / client.rule (${mode})`, () => {
    it('a named view is a relation for later watches and q, kept up to date; unregister frees the name', async () => {
      const c = make();
      await c.ready;
      await c.transact([
        { ':db/id': 'ann', 'user/name': 'ann' },
        { ':db/id': 'bob', 'user/name': 'bob' },
        { 'todo/title': 'milk', 'todo/done': false, 'todo/owner': 'ann' },
        { 'todo/title': 'eggs', 'todo/done': true, 'todo/owner': 'ann' },
        { 'todo/title': 'rent', 'todo/done': false, 'todo/owner': 'bob' },
      ]);
      const open = c.register('app/open', '[:find ?t ?o :where [?t :todo/done false] [?t :todo/owner ?o]]');
      await open.ready;
      const perUser = c.watch('[:find ?name (count ?t) :where [app/open ?t ?o] [?o :user/name ?name]]');
      await perUser.ready;
      expect(sorted(perUser.result())).toEqual([
        ['ann', 1],
        ['bob', 1],
      ]);
      // q over a named view (answered by the engine)
      expect(sorted(await c.q('[:find ?name :where [app/open ?t ?o] [?o :user/name ?name]]'))).toEqual([['ann'], ['bob']]);
      const milk = (await c.q('[:find ?t . :where [?t :todo/title "milk"]]')) as number;
      await c.transact([{ 'todo/title': 'bread', 'todo/done': false, 'todo/owner': [':user/name', 'ann'] }]);
      await until(() => sorted(perUser.result())[0]![1] === 2, 'the watch over the view follows');
      await c.transact([{ ':db/id': milk, 'todo/done': true }]);
      await until(() => sorted(perUser.result())[0]![1] === 1, 'and retractions');

      // the name is taken until unregistered; the watch built on it keeps working
      const again = c.register('app/open', '[:find ?t :where [?t :todo/done true]]');
      await expect(again.ready).rejects.toMatchObject({ code: 'dataflow/name-taken' });
      await open.close();
      expect(await c.unregister('app/open')).toBe(false);
      await c.transact([{ 'todo/title': 'tax', 'todo/done': false, 'todo/owner': [':user/name', 'bob'] }]);
      await until(() => JSON.stringify(sorted(perUser.result())) === JSON.stringify([['ann', 1], ['bob', 2]]), 'dependent watch after unregister');
      const reused = c.register('app/open', '[:find ?t :where [?t :todo/done true]]');
      await reused.ready;
      expect((await c.q('[:find (count ?t) . :where [app/open ?t]]')) as number).toBe(2);
      await expect(c.q('[:find ?t :where [nobody/registered ?t]]')).resolves.toBeDefined(); // an unknown symbol stays q's business
      await c.close();
    });

    it('bad names are refused with a typed error', async () => {
      const c = make();
      await c.ready;
      for (const bad of ['dataloom/watch-1', ':kw', '?x', 'two words', '']) {
        const r = c.register(bad, '[:find ?t :where [?t :todo/title]]');
        await expect(r.ready).rejects.toBeInstanceOf(DataloomError);
        await expect(r.ready).rejects.toMatchObject({ code: 'client/bad-name' });
      }
      await c.close();
    });

    it('a rule sees the current rows, then changes; its returned tx data is a local transaction', async () => {
      const c = make();
      await c.ready;
      await c.transact([{ 'todo/title': 'milk', 'todo/done': true }]);
      const seen: Diff[][] = [];
      const rule = c.rule('app/stamp-done', '[:find ?t :where [?t :todo/done true] (not [?t :todo/done-at])]', (diffs) => {
        seen.push(diffs);
        return diffs.filter(([, , m]) => m === 1).map(([row]) => [':db/add', (row as number[])[0], ':todo/done-at', 'stamped']);
      });
      await rule.ready;
      const stamped = async () => (await c.q('[:find [?title ...] :where [?t :todo/done-at "stamped"] [?t :todo/title ?title]]')) as string[];
      await until(async () => (await stamped()).length === 1, 'the current row is stamped');
      expect(seen[0]!.map(([, tx, m]) => [tx, m])).toEqual([[null, 1]]);
      await c.transact([{ 'todo/title': 'eggs', 'todo/done': true }]);
      await until(async () => (await stamped()).sort().join() === 'eggs,milk', 'a new row is stamped');
      // the rule's own transactions took its rows away: -1 diffs with the HLC of the tx
      expect(seen.flat().some(([, tx, m]) => m === -1 && typeof tx === 'string')).toBe(true);
      // it is this client's pending transaction like any other, and not on the undo stack
      expect((await c.pending()).length).toBeGreaterThan(0);
      await rule.close();
      await c.transact([{ 'todo/title': 'rent', 'todo/done': true }]);
      await new Promise((r) => setTimeout(r, 30));
      expect((await stamped()).sort()).toEqual(['eggs', 'milk']);
      await c.close();
    });

    it('a failing rule reports rule-error events and stays registered; a self-feeding rule is stopped', async () => {
      const c = make();
      await c.ready;
      const events: ClientEvent[] = [];
      c.on((e) => events.push(e));
      let calls = 0;
      const bad = c.rule('app/bad', '[:find ?t :where [?t :todo/title]]', () => (++calls === 1 ? [[':db/add', 'x', ':no/such-attr-shape', 1, 2, 3]] : null));
      await bad.ready;
      await c.transact([{ 'todo/title': 'a' }]);
      await until(() => events.some((e) => e.type === 'rule-error' && e.name === 'app/bad'), 'rule-error for a refused tx');
      await c.transact([{ 'todo/title': 'b' }]);
      await until(() => calls >= 2, 'the rule keeps running');
      let k = 0;
      const loop = c.rule('app/loop', '[:find (count ?t) . :where [?t :todo/title]]', () => [{ 'todo/title': `loop-${k++}` }]);
      await loop.ready;
      await until(() => events.some((e) => e.type === 'rule-error' && e.name === 'app/loop' && e.error.code === 'dataflow/runaway-rules'), 'runaway stopped');
      expect(await c.unregister('app/loop')).toBe(false);
      expect(k).toBeLessThanOrEqual(102);
      await c.close();
    });
  });
}

const TITLES = '[:find [?t ...] :where [_ :item/title ?t]]';
const titles = (x: unknown) => [...((x as string[] | null) ?? [])].sort();

for (const [mode, make] of [
  ['in-process', inProcess],
  ['across a MessagePort (worker protocol)', viaWorkerPort],
] as const) {
  describe(`watch options (${mode})`, () => {
    it('a named watch is a relation for other queries while it is open', async () => {
      const c = make();
      await c.ready;
      await c.transact([{ 'item/title': 'a', 'item/n': 1 }, { 'item/title': 'b', 'item/n': 2 }]);
      const big = c.watch({ query: '[:find ?e :where [?e :item/n ?n] [(> ?n 1)]]', name: 'app/big' });
      await big.ready;
      const bigTitles = c.watch('[:find [?t ...] :where [app/big ?e] [?e :item/title ?t]]');
      await bigTitles.ready;
      expect(titles(bigTitles.result())).toEqual(['b']);
      await c.transact([{ 'item/title': 'c', 'item/n': 3 }]);
      await until(() => titles(bigTitles.result()).join() === 'b,c', 'follows');
      big.close();
      await until(async () => (await c.unregister('app/big')) === false && (await c.register('app/big', '[:find ?e :where [?e :item/n]]').ready.then(() => true)), 'the name is free again');
      await c.close();
    });

    it('asOf a fixed time stays put; since a fixed time shows only what came after', async () => {
      const c = make();
      await c.ready;
      const r1 = await c.transact([{ 'item/title': 'first' }]);
      const then = c.watch({ query: TITLES, asOf: r1.tx });
      const after = c.watch({ query: TITLES, since: r1.tx });
      await Promise.all([then.ready, after.ready]);
      expect(titles(then.result())).toEqual(['first']);
      expect(titles(after.result())).toEqual([]);
      await c.transact([{ 'item/title': 'second' }]);
      await until(() => titles(after.result()).join() === 'second', 'since moves');
      expect(titles(then.result())).toEqual(['first']);
      // a Date / ms works too (the whole millisecond)
      const byDate = c.watch({ query: TITLES, asOf: new Date() });
      await byDate.ready;
      expect(titles(byDate.result())).toEqual(['first', 'second']);
      await c.close();
    });

    it('a moving window: asOf now-minus-w shows a write only after w; since now-minus-w drops it after w', async () => {
      const c = make();
      await c.ready;
      const lagging = c.watch({ query: TITLES, asOf: { ago: 150 }, tick: 50 });
      const recent = c.watch({ query: TITLES, since: { ago: 150 }, tick: 50 });
      await Promise.all([lagging.ready, recent.ready]);
      const at = Date.now();
      await c.transact([{ 'item/title': 'x' }]);
      await until(() => titles(recent.result()).join() === 'x', 'recent shows the write');
      if (Date.now() - at < 140) expect(titles(lagging.result())).toEqual([]);
      await until(() => titles(lagging.result()).join() === 'x', 'the lagging view catches up after the window');
      expect(Date.now() - at).toBeGreaterThanOrEqual(140);
      await until(() => titles(recent.result()).length === 0, 'recent forgets it after the window');
      lagging.close();
      recent.close();
      await c.close();
    });

    it('bad options are refused with client/watch-options', async () => {
      const c = make();
      await c.ready;
      for (const bad of [{ query: TITLES, asOf: 1, since: 2 }, { query: TITLES, asOf: { ago: -1 } }, { query: TITLES, tick: 1, asOf: { ago: 5 } }, { query: TITLES, bogus: 1 }, { query: TITLES, name: 'x/y', asOf: 1 }]) {
        await expect(c.watch(bad as never).ready).rejects.toMatchObject({ code: 'client/watch-options' });
      }
      await c.close();
    });
  });
}
