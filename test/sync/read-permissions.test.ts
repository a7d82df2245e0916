/**
 * Read permissions as Datalog rules, against the real server (SQLite, loopback WebSockets) and real
 * clients, checked at the socket: a user receives only the datoms the rules let them read (whole
 * entities through `can-read`, single attributes through `can-read-attr`, a recursive team rule),
 * gains an entity's current state live when a membership is added, and purges it when it is
 * removed; refs to unreadable entities arrive, their datoms do not.
 */
import { describe, expect, it } from 'vitest';
import { DataloomError } from '@dataloom/core';
import { type Client } from '@dataloom/client';
import { until } from './support/wait.js';
import { testRig } from './support/rig.js';

const schema = {
  ':team/name': {},
  ':team/members': { ':db/cardinality': ':db.cardinality/many' },
  ':team/parent': { ':db/valueType': ':db.type/ref' },
  ':doc/title': {},
  ':doc/body': {},
  ':doc/owner': {},
  ':doc/team': { ':db/valueType': ':db.type/ref' },
};

export const RULES = `
[[(member ?u ?t) [?t :team/members ?u]]
 [(member ?u ?t) [?t :team/parent ?p] (member ?u ?p)]
 [(can-read ?u ?e) [?e :doc/owner ?u]]
 [(can-read ?u ?e) [?e :doc/team ?t] (member ?u ?t)]
 [(can-read ?u ?t) (member ?u ?t)]
 [(can-read-attr ?u ?e ?a) [?e :doc/title] [(ground :doc/title) ?a]]]`;

const rig = testRig('read-perms', { schema });
const server = (permissions: unknown = RULES) => rig.server({ permissions, authenticate: (token) => token });
const client = (url: string, user: string) => rig.userClient(url, user);

const BODIES = '[:find [?b ...] :where [_ :doc/body ?b]]';
const TITLES = '[:find [?t ...] :where [_ :doc/title ?t]]';
const sorted = async (c: Client, q: string) => ((await c.q(q)) as string[]).slice().sort();

describe('read permissions at the socket', () => {
  it('whole entities, single attributes and a recursive rule; membership added and removed live', async () => {
    const s = await server();
    const alice = client(s.url, 'alice');
    const bob = client(s.url, 'bob');
    const carol = client(s.url, 'carol');
    const r = await alice.c.transact([
      { ':db/id': 'team', ':team/name': 'core', ':team/members': ['alice'] },
      { ':db/id': 'sub', ':team/name': 'core-sub', ':team/parent': 'team' },
      { ':db/id': 'd1', ':doc/title': 'plan', ':doc/body': 'secret plan body', ':doc/team': 'team' },
      { ':db/id': 'd2', ':doc/title': 'sub plan', ':doc/body': 'secret sub body', ':doc/team': 'sub' },
    ]);
    await alice.c.confirmed(r.tx);
    const rb = await bob.c.transact([{ ':db/id': 'mine', ':doc/title': 'diary', ':doc/body': 'bob only', ':doc/owner': 'bob' }]);
    await bob.c.confirmed(rb.tx);
    const team = r.globalIds['team']!;
    // carol: titles only (can-read-attr); nothing else of any doc or team reached her socket
    await until(async () => (await sorted(carol.c, TITLES)).join() === 'diary,plan,sub plan', 'carol sees every title');
    expect(await carol.c.q(BODIES)).toEqual([]);
    for (const secret of ['secret plan body', 'secret sub body', 'bob only', 'core', 'alice']) expect(carol.tap.frames.some((f) => f.includes(secret))).toBe(false);
    // alice reads her team's docs, through the parent team for the sub-team (recursion), not bob's diary
    await until(async () => (await sorted(alice.c, BODIES)).join() === 'secret plan body,secret sub body', 'alice');
    await until(async () => (await sorted(bob.c, BODIES)).join() === 'bob only', 'bob');
    expect(alice.tap.frames.some((f) => f.includes('bob only'))).toBe(false);
    // carol joins the team: the current state of both docs and the teams arrives without a new transaction on them
    const join1 = await alice.c.transact([[':db/add', team, ':team/members', 'carol']]);
    await alice.c.confirmed(join1.tx);
    await until(async () => (await sorted(carol.c, BODIES)).join() === 'secret plan body,secret sub body', 'carol gains both docs');
    expect(await carol.c.q('[:find ?n . :where [?t :team/parent] [?t :team/name ?n]]')).toBe('core-sub');
    // she is removed: she is told to drop them; her replica purges them (titles stay readable)
    const leave = await alice.c.transact([[':db/retract', team, ':team/members', 'carol']]);
    await alice.c.confirmed(leave.tx);
    await until(async () => (await carol.c.q(BODIES) as string[]).length === 0, 'carol purges the docs');
    expect(carol.tap.frames.some((f) => f.startsWith('{"t":"drop"'))).toBe(true);
    expect(await sorted(carol.c, TITLES)).toEqual(['diary', 'plan', 'sub plan']);
    expect(await carol.c.q('[:find ?n . :where [_ :team/name ?n]]')).toBe(null);
    // what happens to the docs afterwards does not reach her socket
    const seen = carol.tap.frames.length;
    const edit = await alice.c.transact([[':db/add', r.globalIds['d1']!, ':doc/body', 'later secret']]);
    await alice.c.confirmed(edit.tx);
    const t2 = await bob.c.transact([{ ':doc/title': 'marker', ':doc/owner': 'bob' }]);
    await bob.c.confirmed(t2.tx);
    await until(async () => (await sorted(carol.c, TITLES)).includes('marker'), 'carol gets the next title');
    expect(carol.tap.frames.slice(seen).some((f) => f.includes('later secret'))).toBe(false);
  });

  it('refs to unreadable entities arrive, their datoms do not', async () => {
    const s = await server();
    const alice = client(s.url, 'alice');
    const carol = client(s.url, 'carol');
    const r = await alice.c.transact([
      { ':db/id': 'team', ':team/name': 'hidden team', ':team/members': ['alice'] },
      { ':db/id': 'd', ':doc/title': 'shared', ':doc/owner': 'carol', ':doc/team': 'team' },
    ]);
    await alice.c.confirmed(r.tx);
    await until(async () => (await carol.c.q('[:find ?t . :where [?d :doc/owner "carol"] [?d :doc/team ?t]]')) !== null, 'carol has the ref');
    expect(await carol.c.q('[:find ?n . :where [_ :team/name ?n]]')).toBe(null);
    expect(carol.tap.frames.some((f) => f.includes('hidden team'))).toBe(false);
    // a cas on what she may not read is refused unseen: the answer does not tell her the value
    const team = (await carol.c.q('[:find ?t . :where [?d :doc/owner "carol"] [?d :doc/team ?t]]')) as number;
    const probe = await carol.c.transact([[':db/cas', team, ':team/name', null, 'guess']]);
    const err = (await carol.c.confirmed(probe.tx).then(() => null, (e: unknown) => e)) as DataloomError;
    expect(err.code).toBe('sync/forbidden');
    expect(JSON.stringify([err.message, err.data])).not.toContain('hidden team');
  });

  it('bad rules fail at start with server/permissions, saying what is wrong', async () => {
    const err = (p: unknown) => server(p).then(() => null, (e: unknown) => e as DataloomError);
    for (const [rules, what] of [
      ['[[(can-read ?u ?e) [?e :doc/owner ?u]', 'EDN'],
      ['[[(can-read ?u) [?e :doc/owner ?u]]]', '2 arguments'],
      ['[[(something ?u ?e) [?e :doc/owner ?u]]]', 'none of'],
    ] as const) {
      const e = await err(rules);
      expect(e).toBeInstanceOf(DataloomError);
      expect(e!.code).toBe('server/permissions');
      expect(e!.message).toContain(what);
    }
  });
});
