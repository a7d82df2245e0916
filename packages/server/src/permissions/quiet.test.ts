/**
 * Permission rules with their built-ins wrapped (`quiet.ts`) give `q`'s results wherever nothing
 * throws — one-shot and maintained incrementally — and where a built-in throws, that binding does
 * not match (`q` itself, outside permissions, still throws). Random databases from the seeded PRNG.
 */
import { describe, expect, it } from 'vitest';
import { createDb, dbWith, DataloomError, parseEdn, type Db, type EdnValue } from '@dataloom/core';
import { q } from '@dataloom/query';
import { createConn } from '@dataloom/dataflow';
import { mulberry32, pick, seeds } from '../../../../test/gen/prng.js';
import { QuietRules } from './quiet.js';

const RULES = parseEdn(`
  [[(up ?e ?a) [?e :doc/parent ?a]]
   [(up ?e ?a) [?e :doc/parent ?p] (up ?p ?a)]
   [(can-read ?u ?e) [?e :doc/owner ?u]]
   [(can-read ?u ?e) (up ?e ?a) [?a :doc/owner ?u] [?e :doc/title ?t] [(subs ?t 0 1) ?c] (not [(= ?c "x")])]
   [(can-read ?u ?e) [?e :doc/owner] (or (and [?e :doc/title ?x] [(subs ?x 0 3) ?p] [(= ?p "pub")]) (and [?e :doc/rank ?x] [(< ?x 3)] [(str ?x) ?p]))]
   [(can-read ?u ?e) [?e :doc/title ?t] [(re-pattern "^pub") ?re] [(re-find ?re ?t)]]
   [(can-read ?u ?e) [?e :doc/owner ?o] [(str ?o "-team") ?team] [?e :doc/team ?team] (not-join [?e] [?e :doc/rank ?r] [(> ?r 8)])]
   [(can-read ?u ?e) [?e :doc/rank ?r] (or-join [?e ?u ?r] (and [?e :doc/owner ?u] [(even? ?r)]) [(= ?u "auditor")])]]`);
const QUERY = '[:find ?u ?e :in $ % [?u ...] :where (can-read ?u ?e)]';
const USERS = ['ann', 'bob', 'auditor'];
const SCHEMA = { ':doc/parent': { ':db/valueType': ':db.type/ref' } };

function randomTx(rnd: () => number, n: number, hostile: boolean): unknown[] {
  const tx: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const d: Record<string, unknown> = { ':db/id': -(i + 1), ':doc/owner': pick(rnd, USERS) };
    d[':doc/title'] = hostile && rnd() < 0.3 ? 7 : pick(rnd, ['pub-a', 'xy', 'plan', 'pub', 'notes']);
    if (rnd() < 0.7) d[':doc/rank'] = Math.floor(rnd() * 10);
    if (rnd() < 0.4) d[':doc/team'] = `${d[':doc/owner'] as string}-team`;
    if (i > 0 && rnd() < 0.6) d[':doc/parent'] = -(1 + Math.floor(rnd() * i));
    tx.push(d);
  }
  return tx;
}

const sorted = (s: unknown) => [...(s as Set<unknown[]>)].map((r) => JSON.stringify(r)).sort();

/**
 * Three rounds of clean random transactions into a view registered on `rules` wrapped: one-shot q
 * of the wrapped rules and the view both equal q of the plain rules, and nothing threw. Returns
 * what the rest of a case goes on with.
 */
function agreesWithPlain(seed: number, rules: EdnValue) {
  const rnd = mulberry32(seed);
  const quiet = new QuietRules();
  const conn = createConn(SCHEMA as never);
  const view = conn.register('v', QUERY, quiet.rules(rules), USERS);
  for (let round = 0; round < 3; round++) {
    conn.transact(randomTx(rnd, 12, false) as never);
    const db = conn.db() as Db;
    const plain = sorted(q(QUERY, db, rules, USERS));
    expect(sorted(q(QUERY, db, quiet.rules(rules), USERS))).toEqual(plain);
    expect(sorted(view.result())).toEqual(plain);
  }
  expect(quiet.threw).toBeNull();
  return { rnd, quiet, conn, view };
}

describe('permission rules with wrapped built-ins', () => {
  for (const seed of seeds(20)) {
    it(`give q's results where nothing throws, one-shot and incrementally (seed ${seed})`, () => {
      agreesWithPlain(seed, RULES);
    });
  }

  it('a throw lets that binding not match, is reported once per rule and function; q outside permissions still throws', () => {
    const seed = 7;
    const reports: DataloomError[] = [];
    const quiet = new QuietRules((e) => reports.push(e));
    const rnd = mulberry32(seed);
    let db = createDb(SCHEMA as never);
    // titles as numbers: subs and re-find throw on them
    for (let i = 0; i < 3; i++) db = dbWith(db, randomTx(rnd, 12, true) as never).dbAfter;
    expect(() => q(QUERY, db, RULES, USERS)).toThrow(DataloomError);
    const got = sorted(q(QUERY, db, quiet.rules(RULES), USERS));
    // every entity the rules read through a string title, read instead without the hostile titles
    const clean = dbWith(
      db,
      [...(q('[:find ?e ?t :where [?e :doc/title ?t] [(= ?t 7)]]', db) as Set<[number, number]>)].map(([e, t]) => [':db/retract', e, ':doc/title', t]) as never,
    ).dbAfter;
    const expected = sorted(q(QUERY, clean, RULES, USERS));
    // the hostile entities' bindings through their title match nothing; by owner, rank and team they still match
    expect(got).toEqual(expected);
    expect(reports.map((e) => [e.code, e.data['rule'], e.data['fn']]).sort()).toEqual([
      ['server/permissions', 'can-read', 're-find'],
      ['server/permissions', 'can-read', 'subs'],
    ]);
  });

  // functions under not, not-join, an `or` under `not`, a `not` inside a `not`, a rule called under `not`
  const NOT_RULES = parseEdn(`
    [[(can-read ?u ?e) [?e :doc/title ?t] [(= ?u "bob")] (not [(subs ?t 0 2) ?p] [(= ?p "xy")])]
     [(can-read ?u ?e) [?e :doc/rank ?r] [(= ?u "ann")] (not-join [?e] [?e :doc/title ?t] (or-join [?t] (and [(subs ?t 0 3) ?p] [(= ?p "pla")]) [(= ?t "notes")]))]
     [(can-read ?u ?e) [?e :doc/owner ?o] [(= ?u "auditor")] (not [?e :doc/rank ?r] (not [?e :doc/title ?t] [(subs ?t 0 1) ?c] [(= ?c "p")]))]
     [(starts? ?x ?s) [?x :doc/title ?t] [(subs ?t 0 1) ?c] [(= ?c ?s)]]
     [(starts? ?x ?s) [?x :doc/team ?t] [(subs ?t 0 1) ?c] [(= ?c ?s)]]
     [(can-read ?u ?e) [?e :doc/owner ?o] [(= ?u "ann")] (not (starts? ?e "x"))]]`);

  for (const seed of seeds(10)) {
    it(`under not, a function that throws makes the not fail (deny); q's results where nothing throws (seed ${seed})`, () => {
      const { rnd, quiet, conn, view } = agreesWithPlain(seed, NOT_RULES);
      // titles as numbers: subs throws on them
      for (let round = 0; round < 3; round++) conn.transact(randomTx(rnd, 12, true) as never);
      const db = conn.db() as Db;
      const got = sorted(q(QUERY, db, quiet.rules(NOT_RULES), USERS));
      expect(sorted(view.result())).toEqual(got);
      const hostile = new Set([...(q('[:find [?e ...] :where [?e :doc/title ?t] [(= ?t 7)]]', db) as number[])]);
      const ranked = new Set([...(q('[:find [?e ...] :where [?e :doc/rank]]', db) as number[])]);
      expect(hostile.size).toBeGreaterThan(0);
      const clean = dbWith(db, [...hostile].map((e) => [':db/retract', e, ':doc/title', 7]) as never).dbAfter;
      const expected = [...(q(QUERY, clean, NOT_RULES, USERS) as Set<[string, number]>)].filter(([, e]) => !hostile.has(e));
      // bob and ann read no doc whose title threw; the auditor those without a rank only
      for (const e of hostile) if (!ranked.has(e)) expected.push(['auditor', e]);
      expect(got).toEqual(sorted(new Set(expected)));
      expect(quiet.threw?.fn).toBe('subs');
    });
  }
});
