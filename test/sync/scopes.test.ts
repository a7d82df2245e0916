/**
 * Scopes (partial sync) against the real server and real clients, checked at the socket: a client
 * that subscribes to a query receives only the entities it finds (and, with read rules, only those
 * its user may read); an entity moving into the scope arrives with its current state, one moving
 * out is dropped from the replica; closing the scope brings everything back.
 */
import { describe, expect, it } from 'vitest';
import { DataloomError } from '@dataloom/core';
import type { Client } from '@dataloom/client';
import { MemoryStore } from '@dataloom/client';
import { memoryBacking } from '../../packages/client/src/store/memory.js';
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
    // with a pull pattern: the list entity comes along
    const dave = rig.client(s.url, { token: 'dave', scopes: [{ query: IN_LIST, inputs: ['B'], pull: '[{:item/list [:list/name]}]' }] });
    await until(async () => (await titles(dave)).join() === 'b1' && (await dave.q('[:find [?n ...] :where [_ :list/name ?n]]') as string[]).join() === 'B', 'dave holds his items and their list');
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

describe('scopes whose functions throw', () => {
  it('a function throwing on a value lets nothing through and stops nothing (no read rules)', async () => {
    const errors: unknown[] = [];
    const s = await server({ onError: (e: unknown) => errors.push(e) });
    const alice = client(s.url, 'alice');
    const bob = client(s.url, 'bob');
    // re-pattern throws on "bad[" (DataScript's q would throw): the scope takes the doc as not found
    const scope = bob.c.subscribe('[:find ?d :where [?d :item/title ?t] [(re-pattern ?t) ?r]]');
    await scope.ready();
    const w = await alice.c.transact([{ ':item/title': 'bad[' }]);
    await alice.c.confirmed(w.tx);
    const ok = await alice.c.transact([{ ':item/title': 'good' }]);
    await alice.c.confirmed(ok.tx);
    await until(async () => (await titles(bob.c)).join() === 'good', 'the engine goes on: the next doc enters');
    expect(errors.map(String)).toEqual([]);
  });
});

describe('scopes with a pull pattern', () => {
  const PULL = '[:item/title {:item/list [:list/name]}]';
  const LIST_NAMES = '[:find [?n ...] :where [_ :list/name ?n]]';
  const names = async (c: Client) => ((await c.q(LIST_NAMES)) as string[]).slice().sort();

  it('takes the lists its items reference along, follows ref changes, and still only what the user may read', async () => {
    const rules = `[[(can-read ?u ?l) [?l :list/members ?u]] [(can-read ?u ?i) [?i :item/title] [(!= ?u "nobody")]]]`;
    const s = await server({ permissions: rules });
    const alice = client(s.url, 'alice');
    const r = await alice.c.transact([
      { ':db/id': 'a', ':list/name': 'A', ':list/members': ['alice', 'bob'] },
      { ':db/id': 'b', ':list/name': 'B', ':list/members': ['alice', 'bob'] },
      { ':db/id': 'c', ':list/name': 'C-HIDDEN', ':list/members': ['alice'] },
      { ':db/id': 'z', ':list/name': 'Z', ':list/members': ['alice', 'bob'] },
      { ':db/id': 'i1', ':item/title': 'one', ':item/list': 'a' },
      { ':db/id': 'i2', ':item/title': 'two', ':item/list': 'c' },
    ]);
    await alice.c.confirmed(r.tx);
    const id = (k: string) => r.globalIds[k]!;
    const bob = client(s.url, 'bob');
    const scope = bob.c.subscribe({ query: '[:find ?i :where [?i :item/title]]', pull: PULL });
    await scope.ready();
    // the items and list A come; list C is referenced but unreadable; list Z is readable but not referenced
    await until(async () => (await names(bob.c)).join() === 'A' && (await titles(bob.c)).join() === 'one,two', 'bob: items and the lists they reference');
    // i1 moves to B: A leaves (nothing references it any more), B enters with its state
    const m = await alice.c.transact([[':db/add', id('i1'), ':item/list', id('b')]]);
    await alice.c.confirmed(m.tx);
    await until(async () => (await names(bob.c)).join() === 'B', 'the referenced list follows the ref');
    // bob gains list C: it enters his scope through i2
    const g = await alice.c.transact([[':db/add', id('c'), ':list/members', 'bob']]);
    await alice.c.confirmed(g.tx);
    await until(async () => (await names(bob.c)).join() === 'B,C-HIDDEN', 'a list the user gains, referenced, comes');
    const lost = await alice.c.transact([[':db/retract', id('c'), ':list/members', 'bob']]);
    await alice.c.confirmed(lost.tx);
    await until(async () => (await names(bob.c)).join() === 'B', 'a list the user loses goes');
    expect(bob.tap.frames.filter((f) => f.includes('"Z"')).length).toBe(0);
    // a bad pull pattern is refused, the scopes stay
    const bad = bob.c.subscribe({ query: '[:find ?i :where [?i :item/title]]', pull: '{:not :a-vector}' });
    expect(await bad.ready().then(() => null, (e: unknown) => e)).toBeInstanceOf(DataloomError);
    await bad.close();
    expect(await names(bob.c)).toEqual(['B']);
  });

  it('a recursive pull entry takes a whole chain along', async () => {
    const chain = { ...schema, ':list/parent': { ':db/valueType': ':db.type/ref' } };
    const s = await server({ schema: chain });
    const alice = rig.userClient(s.url, 'alice', { schema: chain });
    const r = await alice.c.transact([
      { ':db/id': 'root', ':list/name': 'root' },
      { ':db/id': 'mid', ':list/name': 'mid', ':list/parent': 'root' },
      { ':db/id': 'leaf', ':list/name': 'leaf', ':list/parent': 'mid' },
      { ':db/id': 'other', ':list/name': 'other' },
      { ':item/title': 'x', ':item/list': 'leaf' },
    ]);
    await alice.c.confirmed(r.tx);
    const bob = rig.userClient(s.url, 'bob', { schema: chain });
    const scope = bob.c.subscribe({ query: '[:find ?i :where [?i :item/title]]', pull: '[* {:item/list [* {:list/parent ...}]}]' });
    await scope.ready();
    await until(async () => (await names(bob.c)).join() === 'leaf,mid,root', 'the chain of parents');
    const cut = await alice.c.transact([[':db/retract', r.globalIds['mid']!, ':list/parent', r.globalIds['root']!]]);
    await alice.c.confirmed(cut.tx);
    await until(async () => (await names(bob.c)).join() === 'leaf,mid', 'cut off from the chain: dropped');
  });

  it('a recursion depth stops where pull stops, and components come along under * — only what the user may read', async () => {
    const chain = { ...schema, ':list/parent': { ':db/valueType': ':db.type/ref' }, ':item/notes': { ':db/valueType': ':db.type/ref', ':db/isComponent': true, ':db/cardinality': ':db.cardinality/many' } };
    const rules = `[[(can-read ?u ?e) [?e :list/members ?u]] [(can-read ?u ?e) [?e :item/title]]]`;
    const s = await server({ schema: chain, permissions: rules });
    const alice = rig.userClient(s.url, 'alice', { schema: chain });
    const r = await alice.c.transact([
      { ':db/id': 'root', ':list/name': 'ROOT-TOO-DEEP', ':list/members': ['alice', 'bob'] },
      { ':db/id': 'mid', ':list/name': 'mid', ':list/parent': 'root', ':list/members': ['alice', 'bob'] },
      { ':db/id': 'leaf', ':list/name': 'leaf', ':list/parent': 'mid', ':list/members': ['alice', 'bob'] },
      { ':db/id': 'n1', ':list/name': 'note', ':list/members': ['alice', 'bob'] },
      { ':db/id': 'n2', ':list/name': 'NOTE-HIDDEN', ':list/members': ['alice'] },
      { ':item/title': 'x', ':item/list': 'leaf', ':item/notes': ['n1', 'n2'] },
    ]);
    await alice.c.confirmed(r.tx);
    const bob = rig.userClient(s.url, 'bob', { schema: chain });
    // pull gives the item's list, its parent (depth 1 of 1) and no further; `*` nests the notes (components)
    const scope = bob.c.subscribe({ query: '[:find ?i :where [?i :item/title]]', pull: '[* {:item/list [:list/name {:list/parent 1}]}]' });
    await scope.ready();
    await until(async () => (await names(bob.c)).join() === 'leaf,mid,note', 'the list, its parent and the readable note');
    const sent = bob.tap.frames.filter((f) => f.includes('"t":"ops"')).join('\n');
    expect(sent).not.toContain('ROOT-TOO-DEEP');
    expect(sent).not.toContain('NOTE-HIDDEN');
    // a deeper chain after a move: still one parent deep
    const move = await alice.c.transact([[':db/add', r.globalIds['leaf']!, ':list/parent', r.globalIds['root']!]]);
    await alice.c.confirmed(move.tx);
    await until(async () => (await names(bob.c)).join() === 'ROOT-TOO-DEEP,leaf,note', 'the new parent in, the old one dropped');
  });
});

describe('reconnecting with a scope', () => {
  for (const withRules of [true, false]) {
    it(`is told only what changed since its cursor, what entered and what left (${withRules ? 'read rules' : 'no read rules'})`, async () => {
      const rules = `[[(can-read ?u ?e) [?e :list/members ?u]] [(can-read ?u ?i) [?i :item/list ?l] [?l :list/members ?u]]]`;
      const s = await server(withRules ? { permissions: rules } : {});
      const alice = client(s.url, 'alice');
      const r = await alice.c.transact([
        { ':db/id': 'a', ':list/name': 'A', ':list/members': ['alice', 'bob'] },
        { ':db/id': 'b', ':list/name': 'B', ':list/members': ['alice', 'bob'] },
        ...Array.from({ length: 12 }, (_, i) => ({ ':db/id': `a${i}`, ':item/title': `KEEP-${i}`, ':item/list': 'a' })),
        { ':db/id': 'b0', ':item/title': 'b0', ':item/list': 'b' },
      ]);
      await alice.c.confirmed(r.tx);
      const id = (k: string) => r.globalIds[k]!;
      const backing = memoryBacking();
      const scopes = [{ query: IN_LIST, inputs: ['A'] }];
      const first = rig.userClient(s.url, 'bob', { store: new MemoryStore(backing), storage: undefined, scopes });
      await until(async () => (await titles(first.c)).length === 12, 'bob holds list A');
      await first.c.close();
      // while bob is away: one item changes, one enters (moved from B), one leaves, one is new
      const w = await alice.c.transact([
        [':db/add', id('a1'), ':item/title', 'CHANGED'],
        [':db/add', id('b0'), ':item/list', id('a')],
        [':db/add', id('a2'), ':item/list', id('b')],
        { ':item/title': 'NEW', ':item/list': id('a') },
      ]);
      await alice.c.confirmed(w.tx);
      const back = rig.userClient(s.url, 'bob', { store: new MemoryStore(backing), storage: undefined, scopes });
      const want = ['CHANGED', 'KEEP-0', ...[3, 4, 5, 6, 7, 8, 9, 10, 11].map((i) => `KEEP-${i}`), 'NEW', 'b0'].sort();
      await until(async () => (await titles(back.c)).join() === want.join(), 'bob back: his scope as it is now');
      const frames = back.tap.frames;
      // nothing unchanged is sent again, and no list of everything
      expect(frames.filter((f) => /KEEP-/.test(f))).toEqual([]);
      expect(frames.some((f) => f.startsWith('{"t":"readable"'))).toBe(false);
      const drops = frames.filter((f) => f.startsWith('{"t":"drop"')).map((f) => JSON.parse(f) as { es: string[] });
      expect(drops.flatMap((d) => d.es)).toEqual([id('a2')]);
    });
  }

  it('a write outside what the client may read leaves it once acknowledged; when the entity becomes readable while it is away, it comes back whole', async () => {
    const rules = `[[(can-read ?u ?e) [?e :list/members ?u]] [(can-read ?u ?i) [?i :item/list ?l] [?l :list/members ?u]]]`;
    const s = await server({ permissions: rules });
    const alice = client(s.url, 'alice');
    const r = await alice.c.transact([
      { ':db/id': 'a', ':list/name': 'A', ':list/members': ['alice', 'bob'] },
      { ':db/id': 'p', ':list/name': 'P', ':list/members': ['alice'] },
      { ':db/id': 'secret', ':item/title': 'P-ITEM', ':item/list': 'p' },
    ]);
    await alice.c.confirmed(r.tx);
    const id = (k: string) => r.globalIds[k]!;
    const backing = memoryBacking();
    const bob = rig.userClient(s.url, 'bob', { store: new MemoryStore(backing), storage: undefined });
    await until(async () => (await bob.c.q('[:find ?n . :where [_ :list/name ?n]]')) === 'A', 'bob reads list A');
    // bob writes to an item of list P (no write rules): acknowledged, then dropped — he may not read it
    const w = await bob.c.transact([[':db/add', id('secret'), ':item/done', true]]);
    await bob.c.confirmed(w.tx);
    await until(async () => (await bob.c.q('[:find ?e . :where [?e :item/done true]]')) === null, "bob's own write leaves his replica");
    await bob.c.close();
    // while he is away, alice adds him to P: at hello he gets the item whole, not only his own write
    const g = await alice.c.transact([[':db/add', id('p'), ':list/members', 'bob']]);
    await alice.c.confirmed(g.tx);
    const back = rig.userClient(s.url, 'bob', { store: new MemoryStore(backing), storage: undefined });
    await until(async () => ((await titles(back.c)) as string[]).join() === 'P-ITEM', 'the item arrives whole');
    expect(await back.c.q('[:find ?e . :where [?e :item/done true]]')).not.toBe(null);
  });
});
