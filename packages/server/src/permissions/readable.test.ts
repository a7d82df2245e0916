/**
 * `ReadEngine`: the readable sets it keeps per user equal one-shot `q` of the rules after every
 * change, in both of its modes — views shared by every user (every rule binds `?user` from the
 * data) and a view per connected user (a rule names a user by a constant) — and it reports what
 * each connected user gained and lost.
 */
import { describe, expect, it } from 'vitest';
import { type Op } from '@dataloom/core';
import { Interner, MergeState } from '@dataloom/core/internals';
import { q } from '@dataloom/query';
import { ReadEngine, schemaInput } from './readable.js';
import { parsePermissions } from './rules.js';

const SCHEMA = { ':team/members': { ':db/cardinality': ':db.cardinality/many' }, ':team/parent': { ':db/valueType': ':db.type/ref' }, ':doc/team': { ':db/valueType': ':db.type/ref' } };
const BASE = `[(member ?u ?t) [?t :team/members ?u]]
 [(member ?u ?t) [?t :team/parent ?p] (member ?u ?p)]
 [(can-read ?u ?e) (member ?u ?t) [?e :doc/team ?t]]`;
const SHARED = `[${BASE}]`;
const PER_USER = `[${BASE} [(can-read ?u ?e) [(= ?u "boss")] [?e :doc/team]]]`;

let n = 0;
const op = (e: string, a: string, v: unknown, kind: 'add' | 'retract' = 'add'): Op => {
  const tx = `${(1_900_000_000_000 + n++).toString(36).padStart(12, '0')}-0000-rt`;
  return { id: `${tx}/0`, tx, e, op: kind, a, v } as Op;
};

function oracle(m: MergeState, rules: string, user: string): string[] {
  const ids = new Interner();
  const db = ids.db(m.datoms(), schemaInput(m.schema));
  return (q('[:find [?e ...] :in $ % ?u :where (can-read ?u ?e)]', db, rules, user) as number[]).map((e) => ids.gid(e)!).sort();
}

describe('ReadEngine', () => {
  for (const [mode, rules, shared] of [
    ['shared views', SHARED, true],
    ['a view per user', PER_USER, false],
  ] as const) {
    it(`${mode}: sets equal q after every change; gains and losses reported`, () => {
      const m = new MergeState(SCHEMA);
      m.apply([op('rt.t0', 'team/members', 'ann'), op('rt.t1', 'team/parent', { ref: 'rt.t0' }), op('rt.t1', 'team/members', 'bob'), op('rt.d0', 'doc/team', { ref: 'rt.t1' }), op('rt.d1', 'doc/team', { ref: 'rt.t0' })]);
      const engine = new ReadEngine(parsePermissions(rules), () => m);
      expect(engine.isShared).toBe(shared);
      const users = ['ann', 'bob', 'boss'].map((u) => engine.acquire(u));
      const check = () => {
        for (const u of users) expect([...u.entities].sort(), `${mode} ${String(u.user)}`).toEqual(oracle(m, rules, String(u.user)));
      };
      check();
      expect(engine.takeChanges()).toEqual([]);
      const steps: Op[][] = [
        [op('rt.d0', 'doc/team', { ref: 'rt.t0' })], // bob loses d0
        [op('rt.t1', 'team/members', 'carol')],
        [op('rt.t0', 'team/members', 'bob')], // bob gains both docs through t0
        [op('rt.t1', 'team/parent', { ref: 'rt.t0' }, 'retract')],
        [op('rt.t0', 'team/parent', { ref: 'rt.t1' }), op('rt.t1', 'team/parent', { ref: 'rt.t0' })], // a cycle
      ];
      const bob = users[1]!;
      for (const [i, ops] of steps.entries()) {
        const before = new Set(bob.entities);
        engine.apply(m.apply(ops));
        check();
        const change = engine.takeChanges().find((c) => c.user === bob);
        const gained = [...bob.entities].filter((e) => !before.has(e)).sort();
        const lost = [...before].filter((e) => !bob.entities.has(e)).sort();
        expect([[...(change?.gained ?? [])].sort(), [...(change?.lost ?? [])].sort()], `step ${i}`).toEqual([gained, lost]);
      }
      engine.reset();
      check();
    });
  }
});

describe('ReadEngine: rule variants (a branch naming its users by a test of ?user alone)', () => {
  const TESTED = `[${BASE} [(can-read ?u ?e) [(= ?u "boss")] [?e :doc/team]]
    [(can-read-attr ?u ?e ?a) [(contains? #{"boss" "carol"} ?u)] [?e :doc/title] [(ground :doc/title) ?a]]]`;
  const attrOracle = (m: MergeState, user: string) => {
    const ids = new Interner();
    const db = ids.db(m.datoms(), schemaInput(m.schema));
    return (q('[:find [?e ...] :in $ % ?u :where (can-read-attr ?u ?e _)]', db, TESTED, user) as number[]).map((e) => ids.gid(e)!).sort();
  };

  it('users the tests leave out share one view per kind; only the users they single out have views of their own', () => {
    const m = new MergeState(SCHEMA);
    m.apply([op('rv.t0', 'team/members', 'ann'), op('rv.t1', 'team/parent', { ref: 'rv.t0' }), op('rv.t1', 'team/members', 'bob'), op('rv.d0', 'doc/team', { ref: 'rv.t1' }), op('rv.d0', 'doc/title', 'zero'), op('rv.d1', 'doc/team', { ref: 'rv.t0' })]);
    const engine = new ReadEngine(parsePermissions(TESTED), () => m);
    expect(engine.isShared).toBe(false);
    const names = ['ann', 'bob', 'carol', 'dan', 'boss'];
    const users = names.map((u) => engine.acquire(u));
    // ann, bob, dan: the shared views of can-read without the boss branch (can-read-attr: none for them);
    // carol: the same can-read view, and can-read-attr of her own (its rules bind ?user by the test only); boss: own views of both
    expect(engine.viewCount).toEqual({ shared: 1, own: 3 });
    const check = (at: string) => {
      for (const u of users) {
        expect([...u.entities].sort(), `${at}: ${String(u.user)}`).toEqual(oracle(m, TESTED, String(u.user)));
        expect([...u.attrs.keys()].sort(), `${at}: attrs of ${String(u.user)}`).toEqual(attrOracle(m, String(u.user)));
      }
    };
    check('start');
    for (const [i, ops] of [
      [op('rv.d0', 'doc/team', { ref: 'rv.t0' })],
      [op('rv.t1', 'team/members', 'dan')],
      [op('rv.d2', 'doc/team', { ref: 'rv.t1' }), op('rv.d2', 'doc/title', 'two')],
      [op('rv.t1', 'team/parent', { ref: 'rv.t0' }, 'retract')],
    ].entries()) {
      engine.apply(m.apply(ops));
      check(`step ${i}`);
    }
    // a user leaving and coming back keeps the shared sets; own views are made again
    engine.release(users[4]!);
    engine.release(users[0]!);
    expect(engine.viewCount.own).toBe(1);
    users[4] = engine.acquire('boss');
    users[0] = engine.acquire('ann');
    check('back');
    engine.reset();
    check('after a rebuild');
    expect(engine.viewCount).toEqual({ shared: 1, own: 3 });
  });

  it('a guarded scope of a user the tests leave without any can-read-attr branch reads only what can-read gives', () => {
    const m = new MergeState(SCHEMA);
    m.apply([op('rg.t0', 'team/members', 'ann'), op('rg.d0', 'doc/team', { ref: 'rg.t0' }), op('rg.d0', 'doc/title', 'mine'), op('rg.d1', 'doc/title', 'other')]);
    const engine = new ReadEngine(parsePermissions(TESTED), () => m);
    const ann = engine.acquire('ann');
    const carol = engine.acquire('carol');
    const scope = (u: typeof ann) => engine.watchEntities('[:find ?d :where [?d :doc/title]]', [], () => {}, undefined, u).entities;
    expect([...scope(ann)].sort()).toEqual(['rg.d0']);
    expect([...scope(carol)].sort()).toEqual(['rg.d0', 'rg.d1']); // carol reads every title by can-read-attr
  });

  it('a head another rule calls is not split by user (the call may pass another user)', () => {
    const rules = `[${BASE} [(can-read ?u ?e) [(= ?u "boss")] [?e :doc/team]] [(can-read-attr ?u ?e ?a) (can-read "boss" ?e) [(ground :doc/title) ?a]]]`;
    const m = new MergeState(SCHEMA);
    m.apply([op('rc.t0', 'team/members', 'ann'), op('rc.d0', 'doc/team', { ref: 'rc.t0' })]);
    const engine = new ReadEngine(parsePermissions(rules), () => m);
    const ann = engine.acquire('ann');
    expect(engine.viewCount).toEqual({ shared: 0, own: 2 });
    expect([...ann.entities]).toEqual(['rc.d0']);
  });
});
