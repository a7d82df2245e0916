/**
 * Scopes (partial sync) against the real server and real clients, checked at the socket: a client
 * that subscribes to a query receives only the entities it finds (and, with read rules, only those
 * its user may read); an entity moving into the scope arrives with its current state, one moving
 * out is dropped from the replica; closing the scope brings everything back.
 */
import { describe, expect, it } from 'vitest';
import { DataloomError } from '@dataloom/core';
import type { Client } from '@dataloom/client';
import { until } from './support/wait.js';
import { testRig } from './support/rig.js';

const schema = { ':list/name': {}, ':list/members': { ':db/cardinality': ':db.cardinality/many' }, ':item/title': {}, ':item/list': { ':db/valueType': ':db.type/ref' } };
const IN_LIST = '[:find ?i :in $ ?name :where [?l :list/name ?name] [?i :item/list ?l]]';
const TITLES = '[:find [?t ...] :where [_ :item/title ?t]]';

const rig = testRig('scopes', { schema });
const server = (extra: Record<string, unknown> = {}) => rig.server({ authenticate: (t) => t, ...extra });
const client = (url: string, user: string) => rig.userClient(url, user);

const titles = async (c: Client) => ((await c.q(TITLES)) as string[]).slice().sort();

describe('scopes', () => {
  it('a client receives only its scope; entities move in (with their state) and out (dropped); closing brings everything back', async () => {
    const s = await server();
    const alice = client(s.url, 'alice');
    const bob = client(s.url, 'bob');
    const r = await alice.c.transact([
      { ':db/id': 'a', ':list/name': 'A' },
      { ':db/id': 'b', ':list/name': 'B' },
      { ':db/id': 'a1', ':item/title': 'a1', ':item/list': 'a' },
      { ':db/id': 'b1', ':item/title': 'b1', ':item/list': 'b' },
    ]);
    await alice.c.confirmed(r.tx);
    await until(async () => (await titles(bob.c)).join() === 'a1,b1', 'bob has everything before subscribing');
    const scope = bob.c.subscribe(IN_LIST, 'A');
    await scope.ready();
    expect(await titles(bob.c)).toEqual(['a1']);
    const seen = bob.tap.frames.length;
    const w = await alice.c.transact([
      { ':item/title': 'a2', ':item/list': r.globalIds['a']! },
      { ':item/title': 'B-SECRET', ':item/list': r.globalIds['b']! },
    ]);
    await alice.c.confirmed(w.tx);
    await until(async () => (await titles(bob.c)).join() === 'a1,a2', 'bob receives what enters his scope');
    // b1 moves into A: its current state (the title) arrives although the move did not write it
    const m1 = await alice.c.transact([[':db/add', r.globalIds['b1']!, ':item/list', r.globalIds['a']!]]);
    await alice.c.confirmed(m1.tx);
    await until(async () => (await titles(bob.c)).join() === 'a1,a2,b1', 'b1 enters the scope with its title');
    // a1 moves out: dropped from bob's replica
    const m2 = await alice.c.transact([[':db/add', r.globalIds['a1']!, ':item/list', r.globalIds['b']!]]);
    await alice.c.confirmed(m2.tx);
    await until(async () => (await titles(bob.c)).join() === 'a2,b1', 'a1 leaves the scope');
    expect(bob.tap.frames.slice(seen).some((f) => f.includes('B-SECRET'))).toBe(false);
    // no scope: everything again
    await scope.close();
    await until(async () => (await titles(bob.c)).join() === 'B-SECRET,a1,a2,b1', 'everything after closing the scope');
  });

  it('createClient({ scopes }) checks the scopes out from the start', async () => {
    const s = await server();
    const alice = client(s.url, 'alice');
    const r = await alice.c.transact([
      { ':db/id': 'a', ':list/name': 'A' },
      { ':db/id': 'b', ':list/name': 'B' },
      { ':item/title': 'a1', ':item/list': 'a' },
      { ':item/title': 'b1', ':item/list': 'b' },
    ]);
    await alice.c.confirmed(r.tx);
    const carol = rig.client(s.url, { token: 'carol', scopes: [{ query: IN_LIST, inputs: ['A'] }] });
    await until(async () => (await titles(carol)).join() === 'a1', 'carol holds her scope only');
    const w = await alice.c.transact([{ ':item/title': 'b2', ':item/list': r.globalIds['b']! }, { ':item/title': 'a2', ':item/list': r.globalIds['a']! }]);
    await alice.c.confirmed(w.tx);
    await until(async () => (await titles(carol)).join() === 'a1,a2', 'carol follows her scope');
  });

  it('scope ∩ permission; a bad scope query is refused with the reason', async () => {
    const rules = `[[(can-read ?u ?e) [?e :list/members ?u]] [(can-read ?u ?i) [?i :item/list ?l] [?l :list/members ?u]]]`;
    const s = await server({ permissions: rules });
    const alice = client(s.url, 'alice');
    const bob = client(s.url, 'bob');
    const r = await alice.c.transact([
      { ':db/id': 'a', ':list/name': 'A', ':list/members': ['alice', 'bob'] },
      { ':db/id': 'b', ':list/name': 'B', ':list/members': ['alice'] },
      { ':item/title': 'a1', ':item/list': 'a' },
      { ':item/title': 'B-PRIVATE', ':item/list': 'b' },
    ]);
    await alice.c.confirmed(r.tx);
    // bob's scope names list B, which he may not read: nothing of it arrives
    const scope = bob.c.subscribe('[:find ?i :where [?i :item/title]]');
    await scope.ready();
    await until(async () => (await titles(bob.c)).join() === 'a1', 'bob: his scope ∩ what he may read');
    const bad = bob.c.subscribe('[:find ?i :where [?i :item/title ?t] [(no-such-fn ?t)]]');
    const err = await bad.ready().then(() => null, (e: unknown) => e as DataloomError);
    expect(err).toBeInstanceOf(DataloomError);
    await bad.close();
    expect(bob.tap.frames.some((f) => f.includes('B-PRIVATE'))).toBe(false);
  });
});
