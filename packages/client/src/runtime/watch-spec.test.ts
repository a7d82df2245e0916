/**
 * `client.watch({ query, name | asOf | since })`: a named watch other queries use; live views of
 * the database as of / since a fixed time and of a moving "now minus a window"; bad options
 * refused. In-process and across a MessagePort (the worker protocol). Late-arriving ops moving a
 * fixed as-of view through the real server: test/replica/time-views.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { until } from '@dataloom/test/sync/support/wait.js';
import { MessageChannel } from 'node:worker_threads';
import { createClient, type Client } from './client.js';
import { exposeClientHost } from './worker.js';

const schema = { 'item/title': {}, 'item/n': {} };

let n = 0;
const inProcess = (): Client => createClient({ name: `spec-test-${n++}`, schema, storage: 'memory', tabs: false });
function viaWorkerPort(): Client {
  const { port1, port2 } = new MessageChannel();
  exposeClientHost(port1 as never);
  return createClient({ name: `spec-worker-${n++}`, schema, storage: 'memory', tabs: false, worker: port2 as never });
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
