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
