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
const server = () => rig.server({ permissions: RULES, authenticate: (t) => t });


/** Alice's private doc (the secret) and bob's own user entity; bob connected, frames tapped. */
async function setup() {
  const s = await server();
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
