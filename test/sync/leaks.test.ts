/**
 * No leaks beyond refs: side channels through which a user might learn something of entities they
 * may not read, against the real server and clients, every frame captured at the socket. Each test
 * has a secret (an unreadable entity's id or value) and asserts that no frame the prying user
 * receives holds it and that what the user observes does not depend on it.
 */
import { describe, expect, it } from 'vitest';
import type { DataloomError } from '@dataloom/core';
import { clientProtocols } from '@dataloom/protocol';
import { until } from './support/wait.js';
import { envOf, raw } from './support/raw.js';
import { testRig } from './support/rig.js';
import type { ServerOptions } from '@dataloom/server';

const schema = {
  ':doc/title': {},
  ':doc/body': {},
  ':doc/owner': {},
  ':doc/key': { ':db/unique': ':db.unique/identity' },
  ':doc/slug': { ':db/unique': ':db.unique/value' },
  ':doc/parent': { ':db/valueType': ':db.type/ref' },
  ':user/name': {},
};
const RULES = `[[(can-read ?u ?e) [?e :doc/owner ?u]] [(can-read ?u ?e) [?e :user/name ?u]]]`;

const rig = testRig('leaks', { schema });
const server = (opts: Partial<ServerOptions> = {}) => rig.server({ permissions: RULES, authenticate: (t) => t, ...opts });


/** Alice's private doc (the secret) and bob's own user entity; bob connected, frames tapped. */
async function setup(opts: Partial<ServerOptions> = {}) {
  const s = await server(opts);
  const alice = rig.userClient(s.url, 'alice');
  const r = await alice.c.transact([
    { ':db/id': 'secret', ':doc/title': 'SECRET-TITLE', ':doc/body': 'SECRET-BODY', ':doc/owner': 'alice', ':doc/key': 'K1', ':doc/slug': 'taken' },
    { ':db/id': 'bob', ':user/name': 'bob' },
  ]);
  await alice.c.confirmed(r.tx);
  const bob = rig.userClient(s.url, 'bob');
  await until(async () => (await bob.c.q('[:find ?e . :where [?e :user/name "bob"]]')) !== null, 'bob has his user entity');
  const secret = r.globalIds['secret']!;
  const leaked = () => bob.tap.frames.filter((f) => f.includes(secret) || f.includes('SECRET-'));
  return { s, alice, bob, secret, leaked };
}

describe('no leaks beyond refs', () => {
  it('a scope query does not see unreadable data: whether an entity enters does not depend on it', async () => {
    const { alice, bob, secret, leaked } = await setup();
    // "my user entity, if some doc has body SECRET-BODY": true only in data bob may not read
    const probe = bob.c.subscribe('[:find ?me :where [?me :user/name "bob"] [?d :doc/body "SECRET-BODY"]]');
    await probe.ready();
    await until(async () => (await bob.c.q('[:find ?e . :where [?e :user/name "bob"]]')) === null, 'the probe finds nothing: bob holds nothing');
    // nor through a named relation, a rule, or a function reading the database
    for (const q of [
      '[:find ?e :where [perm/read "alice" ?e]]',
      '[:find ?e :in $ % :where (r ?e)]',
      '[:find ?me :where [?me :user/name "bob"] [(get-else $ ?me :doc/body "x") ?b]]',
    ]) {
      const bad = bob.c.subscribe(q, ...(q.includes('%') ? ['[[(r ?e) [?e :doc/body]]]'] : []));
      expect(await bad.ready().then(() => 'accepted', (e: DataloomError) => e.code), q).toBe('sync/scope-invalid');
      await bad.close();
    }
    // a scope whose query found the unreadable doc: it leaving the scope sends no drop naming it
    const docs = bob.c.subscribe('[:find ?d :where [?d :doc/title]]');
    await docs.ready();
    const w = await alice.c.transact([[':db/retract', secret, ':doc/title', 'SECRET-TITLE']]);
    await alice.c.confirmed(w.tx);
    const mark = await alice.c.transact([{ ':user/name': 'bob', ':doc/title': 'visible' }]);
    await alice.c.confirmed(mark.tx);
    await until(async () => (await bob.c.q('[:find ?t . :where [_ :doc/title ?t]]')) === 'visible', 'bob is past the retraction');
    expect(leaked()).toEqual([]);
  });

  it('pull in a scope does not walk through an unreadable entity', async () => {
    const { alice, bob, secret, leaked } = await setup();
    // bob's doc → alice's secret doc → bob's user: reaching the user would say where the secret doc points
    const r = await alice.c.transact([
      { ':db/id': 'mine', ':doc/title': 'mine', ':doc/owner': 'bob', ':doc/parent': secret },
      { ':db/id': 'u2', ':user/name': 'bob', ':doc/title': 'BOB-2' },
      [':db/add', secret, ':doc/parent', 'u2'],
    ]);
    await alice.c.confirmed(r.tx);
    const scope = bob.c.subscribe({ query: '[:find ?d :where [?d :doc/owner "bob"]]', pull: '[* {:doc/parent [* {:doc/parent [*]}]}]' });
    await scope.ready();
    await until(async () => ((await bob.c.q('[:find [?t ...] :where [_ :doc/title ?t]]')) as string[]).join() === 'mine', 'bob holds his doc only');
    expect(leaked().filter((f) => !f.includes('"mine"'))).toEqual([]);
  });

  it('an identity upsert onto an unreadable entity does not hand over its datoms', async () => {
    const { bob, leaked } = await setup();
    const w = await bob.c.transact([{ ':doc/key': 'K1', ':doc/owner': 'bob', ':doc/title': 'bob claims K1' }]);
    const outcome = await bob.c.confirmed(w.tx).then(() => 'ok', (e: DataloomError) => e.code);
    expect(outcome).toBe('sync/unique');
    expect(await bob.c.q('[:find ?b . :where [_ :doc/body ?b]]')).toBe(null);
    expect(leaked()).toEqual([]);
  });

  it('an identity attribute added as schema data: upserts onto unreadable holders are refused from then on', async () => {
    // read rules and no identity attribute at start: the write gate keeps no database until the schema gains one
    const { alice, bob, leaked } = await setup({ schema: Object.fromEntries(Object.entries(schema).filter(([a]) => a !== ':doc/key')), allowClientSchemaChanges: true });
    const def = await alice.c.transact('[{:db/ident :doc/key :db/unique :db.unique/identity}]');
    await alice.c.confirmed(def.tx);
    const r = await alice.c.transact([{ ':db/id': 'h', ':doc/key': 'K3', ':doc/owner': 'alice', ':doc/body': 'SECRET-K3' }]);
    await alice.c.confirmed(r.tx);
    const w = await bob.c.transact([{ ':doc/key': 'K3', ':doc/owner': 'bob', ':doc/title': 'bob claims K3' }]);
    expect(await bob.c.confirmed(w.tx).then(() => 'ok', (e: DataloomError) => e.code)).toBe('sync/unique');
    // a key nobody holds is bob's to take
    const mine = await bob.c.transact([{ ':doc/key': 'K4', ':doc/owner': 'bob', ':doc/title': 'mine' }]);
    expect(await bob.c.confirmed(mine.tx).then(() => 'ok', (e: DataloomError) => e.code)).toBe('ok');
    expect(await bob.c.q('[:find ?b . :where [_ :doc/body ?b]]')).toBe(null);
    expect(bob.tap.frames.filter((f) => f.includes(r.globalIds['h']!))).toEqual([]);
    expect(leaked()).toEqual([]);
  });

  it('an identity upsert raced by the commit of an unreadable holder is refused under the writer lock', async () => {
    // bob's push is held after its arrival checks until alice's doc holding K2 (which bob may not read) committed
    let entered!: () => void;
    const inHook = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const holds = (env: { ops: ReadonlyArray<{ a?: string; v?: unknown }> }) => env.ops.some((o) => o.a === 'doc/key' && o.v === 'K2');
    const { alice, bob, leaked } = await setup({
      authorizeWrite: async (user, env) => {
        if (user === 'bob' && holds(env)) {
          entered();
          await gate;
        }
        return true;
      },
    });
    const w = await bob.c.transact([{ ':doc/key': 'K2', ':doc/owner': 'bob', ':doc/title': 'bob claims K2' }]);
    const outcome = bob.c.confirmed(w.tx).then(() => 'ok', (e: DataloomError) => e.code);
    await inHook;
    const r = await alice.c.transact([{ ':db/id': 'h', ':doc/key': 'K2', ':doc/owner': 'alice', ':doc/body': 'SECRET-K2' }]);
    await alice.c.confirmed(r.tx);
    const hidden = r.globalIds['h']!;
    release();
    expect(await outcome).toBe('sync/unique');
    // bob is past alice's commit and his refusal: nothing of the hidden holder reached him
    const mark = await alice.c.transact([{ ':user/name': 'bob', ':doc/title': 'after' }]);
    await alice.c.confirmed(mark.tx);
    await until(async () => (await bob.c.q('[:find ?e . :where [?e :doc/title "after"]]')) !== null, 'bob is past the race');
    expect(await bob.c.q('[:find ?b . :where [_ :doc/body ?b]]')).toBe(null);
    expect(await bob.c.q('[:find ?e . :where [?e :doc/key "K2"]]')).toBe(null);
    expect(bob.tap.frames.filter((f) => f.includes(hidden))).toEqual([]);
    expect(leaked()).toEqual([]);
  });

  it('an identity upsert into a holder the writer may read merges, in the same batch and as the user', async () => {
    const { s, alice } = await setup();
    // two transactions of alice pushed together: the second upserts into the first's (pending) doc
    const a = await alice.c.transact([{ ':doc/key': 'K3', ':doc/owner': 'alice', ':doc/title': 'one' }]);
    const b = await alice.c.transact([{ ':doc/key': 'K3', ':doc/body': 'two' }]);
    await alice.c.confirmed(a.tx);
    await alice.c.confirmed(b.tx);
    expect(await alice.c.q('[:find ?b . :where [?e :doc/key "K3"] [?e :doc/body ?b]]')).toBe('two');
    // and a back-end write as the user
    await s.transact([{ ':doc/key': 'K3', ':doc/title': 'three' }], { as: 'alice' });
    await until(async () => (await alice.c.q('[:find ?t . :where [?e :doc/key "K3"] [?e :doc/title ?t]]')) === 'three', 'alice sees the merge');
  });

  it('a back-end write as a user resolves upserts, lookup refs, unique values and cas as that user\'s push would', async () => {
    const { s, alice, bob, secret } = await setup();
    const refusal = (p: Promise<unknown>) => p.then(() => 'ok', (e: DataloomError) => `${e.code} ${e.message} ${JSON.stringify(e.data ?? {})}`);
    const pushed = async (tx: unknown) => {
      const w = await bob.c.transact(tx).catch((e: DataloomError) => e);
      return 'code' in w ? `${w.code}` : (await refusal(bob.c.confirmed(w.tx))).split(' ')[0];
    };
    const cases: unknown[] = [
      [{ ':doc/key': 'K1', ':doc/owner': 'bob', ':doc/title': 'bob claims K1' }], // identity upsert onto alice's doc
      '[[:db/add [:doc/key "K1"] :doc/title "through a lookup ref"]]',
      [{ ':doc/slug': 'taken', ':doc/owner': 'bob' }], // :db.unique/value held by alice's doc
      [[':db/cas', secret, ':doc/body', null, 'x']],
    ];
    for (const tx of cases) {
      const as = await refusal(s.transact(tx, { as: 'bob' }));
      expect(as, JSON.stringify(tx)).not.toBe('ok');
      // the id of alice's doc only where bob named it himself
      if (!JSON.stringify(tx).includes(secret)) expect(as, JSON.stringify(tx)).not.toContain(secret);
      expect(as).not.toContain('SECRET-');
      expect(as.split(' ')[0], JSON.stringify(tx)).toBe(await pushed(tx));
    }
    // a cas guessing the unreadable value answers the same whatever the guess
    const guesses = await Promise.all(
      ['SECRET-BODY', 'wrong'].map(async (g) => (await refusal(s.transact([[':db/cas', secret, ':doc/body', g, 'x']], { as: 'bob' }))).replaceAll(g, 'GUESS').replace(/"tx":"[^"]*"/, '')),
    );
    expect(guesses[0]).not.toBe('ok');
    expect(guesses[0]).not.toContain('SECRET-');
    expect(guesses[0]).toBe(guesses[1]);
    // alice's doc is as she wrote it
    expect(await alice.c.q('[:find ?t . :where [?e :doc/key "K1"] [?e :doc/title ?t]]')).toBe('SECRET-TITLE');
    expect(await alice.c.q('[:find [?o ...] :where [?e :doc/key "K1"] [?e :doc/owner ?o]]')).toEqual(['alice']);
    // onto what bob may read, the same write merges
    const own = await s.transact([{ ':db/id': 'm', ':doc/key': 'K9', ':doc/owner': 'bob', ':doc/title': 'mine' }], { as: 'bob' });
    const up = await s.transact('[{:doc/key "K9" :doc/body "merged"} [:db/add [:doc/key "K9"] :doc/title "again"]]', { as: 'bob' });
    expect(up.pos).toBeGreaterThan(own.pos);
    await until(async () => (await bob.c.q('[:find ?b . :where [?e :doc/key "K9"] [?e :doc/body ?b] [?e :doc/title "again"]]')) === 'merged', 'the upsert merged into bob\'s doc');
    expect(await bob.c.q('[:find (count ?e) . :where [?e :doc/key "K9"]]')).toBe(1);
  });

  it('a scope query calling a function that throws on a value the user may not read says nothing of it, and breaks nothing', async () => {
    const errors: unknown[] = [];
    const { s, alice, bob, leaked } = await setup({ onError: (e) => errors.push(e) });
    const scope = bob.c.subscribe('[:find ?d :where [?d :doc/body ?b] [(re-pattern ?b) ?r]]');
    await scope.ready();
    // alice's body is no valid regular expression: the engine may call re-pattern on it before the guard filters it
    const w = await alice.c.transact([{ ':doc/title': 'x', ':doc/body': 'SECRET-[', ':doc/owner': 'alice' }]);
    await alice.c.confirmed(w.tx);
    const mine = await bob.c.transact([{ ':db/id': 'd', ':doc/title': 'mine', ':doc/body': 'b.*', ':doc/owner': 'bob' }]);
    await bob.c.confirmed(mine.tx);
    await until(async () => (await bob.c.q('[:find ?b . :where [_ :doc/body ?b]]')) === 'b.*', 'bob\'s own doc in his scope');
    expect(leaked()).toEqual([]);
    expect(errors.map(String).filter((e) => e.includes('SECRET-'))).toEqual([]);
    expect(s.head()).toBeGreaterThan(0);
  });

  it('a scope query may use `_` in the branches of an or', async () => {
    const { alice, bob } = await setup();
    const w = await alice.c.transact([{ ':db/id': 'p', ':doc/title': 'parent', ':doc/owner': 'bob' }, { ':doc/title': 'child', ':doc/owner': 'bob', ':doc/parent': 'p' }]);
    await alice.c.confirmed(w.tx);
    const scope = bob.c.subscribe('[:find ?d :where [?d :doc/title ?t] (or [_ :doc/parent ?d] [?d :doc/title "none"])]');
    await scope.ready();
    await until(async () => ((await bob.c.q('[:find [?t ...] :where [_ :doc/title ?t]]')) as string[]).join() === 'parent', 'the doc some doc refers to as parent');
  });

  it('a cas on an unreadable attribute answers the same whatever its value', async () => {
    const { s, secret } = await setup();
    const sockets: Array<() => unknown> = [];
    rig.defer(() => sockets.forEach((f) => f()));
    const conn = await raw(s.url, sockets, clientProtocols('bob'));
    conn.send({ t: 'hello', v: 1, replica: 'bobraw', cursor: null });
    await conn.until(() => conn.msgs.some((m) => m.t === 'welcome'), 'welcome');
    const answers: string[] = [];
    for (const guess of ['SECRET-BODY', 'wrong', 'SECRET-BODY']) {
      const env = envOf('bobraw', [{ e: secret, op: 'add', a: 'doc/body', v: 'x' }], { checks: [{ kind: 'cas', e: secret, a: 'doc/body', expected: guess, v: 'x' }] });
      conn.send({ t: 'push', txs: [env] });
      await conn.until(() => conn.msgs.some((m) => m.tx === env.tx), 'an answer');
      const m = conn.msgs.find((x) => x.tx === env.tx);
      answers.push(`${m.t} ${m.code} ${m.message.replace(env.tx, 'TX')}`);
    }
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toMatch(/^reject sync\/forbidden/);
    expect(JSON.stringify(conn.msgs)).not.toContain('SECRET-');
  });
});
