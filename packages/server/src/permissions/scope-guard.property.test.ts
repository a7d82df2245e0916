/**
 * Guarded scope queries (`scope-guard.ts`), seeded, in process: random docs and teams under
 * recursive rules (every engine mode, single readable attributes too), and scope queries with
 * `not`, `or`, `_` entities, refs in value position, inputs, predicates and variable attributes,
 * some with pull patterns. After every transaction, each user's scope (as `ReadEngine` follows
 * it) equals the query evaluated by one-shot `q` over the datoms that user may read — so what a
 * scope finds never depends on a datom the user may not read. Pull reaches are checked the same
 * way: the entities reached through readable datoms. `FUZZ_RUNS=n`, `FUZZ_SEED=s`.
 */
import { describe, expect, it } from 'vitest';
import { type GlobalId, type Op } from '@dataloom/core';
import { Interner, MergeState } from '@dataloom/core/internals';
import { q } from '@dataloom/query';
import { mulberry32, pick, replayable, seeds } from '@dataloom/test/gen/prng.js';
import { TEAM_MODES, TEAM_SCHEMA } from '@dataloom/test/sync/support/perm-oracle.js';
import { ReadEngine, schemaInput, type UserReadable } from './readable.js';
import { parsePermissions } from './rules.js';

const SCHEMA = { ...TEAM_SCHEMA, ':doc/link': { ':db/valueType': ':db.type/ref' } };
const MODES = TEAM_MODES;
const USERS = ['u0', 'u1', 'boss'];

/** Scope queries (and inputs) the test subscribes; `pull` on some. */
const SCOPES: Array<{ query: string; inputs?: unknown[]; pull?: string }> = [
  { query: '[:find ?d :where [?d :doc/title]]' },
  { query: '[:find ?d :where [?d :doc/title ?t] [(< ?t "m")]]' },
  { query: '[:find ?d :where [?d :doc/public true] (not [?d :doc/owner "u1"])]' },
  { query: '[:find ?d :where (or [?d :doc/owner "u0"] [?d :doc/public true])]' },
  { query: '[:find ?d :where [?d :doc/title] (or-join [?d] (and [?d :doc/team ?t] [?t :team/name "t0"]) [?d :doc/owner "boss"])]' },
  { query: '[:find ?t :where [_ :doc/team ?t]]' },
  { query: '[:find ?t :where [?t :team/name] (or [_ :doc/team ?t] [?t :team/members "u0"])]' },
  { query: '[:find ?d :where [?d :doc/title ?t] (or [_ :doc/link ?d] [(< ?t "m")])]' },
  { query: '[:find ?d :where [?d :doc/title ?t] (or (and [?d :doc/owner "u1"] [(some? ?t)]) (and [?d :doc/public true] [(< ?t "m")]))]' },
  { query: '[:find ?d ?t :where [?d :doc/team ?t] [?t :team/name _]]' },
  { query: '[:find ?d :in $ ?u :where [?d :doc/owner ?u]]', inputs: ['u1'] },
  { query: '[:find ?e :where [?e :doc/body ?v] (not-join [?e] [?e :doc/link ?x] [?x :doc/public false])]' },
  { query: '[:find ?d :where [?d :doc/title]]', pull: '[:doc/title {:doc/link [*]} {:doc/team [:team/name {:team/parent ...}]}]' },
  { query: '[:find ?t :where [?t :team/name]]', pull: '[{:doc/_team [:doc/title]}]' },
];

/** The datoms `u` may read, as a db, and the interner naming its entities. */
function readableDb(m: MergeState, u: UserReadable): { db: ReturnType<Interner['db']>; ids: Interner } {
  const ids = new Interner();
  const datoms = [...m.datoms()].filter((d) => u.reads(m.rep(d.e), d.a));
  return { db: ids.db(datoms, schemaInput(m.schema)), ids };
}

/** The entities a pull pattern's nested maps reach from `roots` over `db` (the oracle of pull-reach.ts). */
function reach(db: unknown, ids: Interner, roots: Iterable<number>, pull: string): Set<number> {
  const out = new Set<number>();
  const step = (from: Iterable<number>, attr: string, reverse: boolean) => {
    const rel = (reverse ? q(`[:find ?x :in $ [?e ...] :where [?x :${attr} ?e]]`, db as never, [...from]) : q(`[:find ?x :in $ [?e ...] :where [?e :${attr} ?x]]`, db as never, [...from])) as Set<[number]>;
    return [...rel].map(([x]) => x);
  };
  void ids;
  if (pull.includes('{:doc/link')) {
    for (const x of step(roots, 'doc/link', false)) out.add(x);
    // the team, and the chain of parents from it
    let level = step(roots, 'doc/team', false);
    const seen = new Set<number>();
    while (level.length) {
      const fresh = level.filter((x) => !seen.has(x));
      for (const x of fresh) seen.add(x), out.add(x);
      level = step(fresh, 'team/parent', false);
    }
  } else for (const x of step(roots, 'doc/team', true)) out.add(x);
  return out;
}

function run(seed: number, mode: keyof typeof MODES): void {
  const rnd = mulberry32(seed);
  const m = new MergeState(SCHEMA);
  let n = 0;
  const tx = (ops: Array<Omit<Op, 'id' | 'tx'>>) => {
    const t = `${(1_900_000_000_000 + n++).toString(36).padStart(12, '0')}-0000-rq`;
    return ops.map((o, i) => ({ ...o, id: `${t}/${i}`, tx: t }) as Op);
  };
  m.apply(tx(USERS.map((u) => ({ e: `rq.user_${u}`, op: 'add' as const, a: 'user/name', v: u }))));
  const engine = new ReadEngine(parsePermissions(MODES[mode]), () => m);
  const users = USERS.map((u) => engine.acquire(u));
  const watches = users.flatMap((u) => SCOPES.map((s) => ({ u, s, h: engine.watchEntities(s.query, s.inputs ?? [], () => {}, s.pull, u) })));
  const teams: GlobalId[] = [];
  const docs: GlobalId[] = [];
  for (let step = 0; step < 30; step++) {
    const id = `rq.x${step}`;
    const k = rnd();
    let ops: Array<Omit<Op, 'id' | 'tx'>>;
    if (teams.length < 2 || k < 0.15) {
      ops = [{ e: id, op: 'add', a: 'team/name', v: `t${step}` }];
      for (const u of USERS) if (rnd() < 0.3) ops.push({ e: id, op: 'add', a: 'team/members', v: u });
      if (teams.length && rnd() < 0.6) ops.push({ e: id, op: 'add', a: 'team/parent', v: { ref: pick(rnd, teams) } });
      teams.push(id);
    } else if (k < 0.3) {
      ops = [{ e: pick(rnd, teams), op: rnd() < 0.6 ? 'add' : 'retract', a: 'team/members', v: pick(rnd, USERS) }];
    } else if (docs.length < 2 || k < 0.55) {
      ops = [
        { e: id, op: 'add', a: 'doc/title', v: pick(rnd, ['alpha', 'kilo', 'mike', 'zulu']) },
        { e: id, op: 'add', a: 'doc/body', v: `b${step}` },
        { e: id, op: 'add', a: 'doc/public', v: rnd() < 0.4 },
      ];
      if (rnd() < 0.7) ops.push({ e: id, op: 'add', a: 'doc/team', v: { ref: pick(rnd, teams) } });
      if (rnd() < 0.4) ops.push({ e: id, op: 'add', a: 'doc/owner', v: pick(rnd, USERS) });
      if (docs.length && rnd() < 0.5) ops.push({ e: id, op: 'add', a: 'doc/link', v: { ref: pick(rnd, docs) } });
      docs.push(id);
    } else {
      const d = pick(rnd, docs);
      const c = rnd();
      ops = [
        c < 0.3
          ? { e: d, op: 'add', a: 'doc/team', v: { ref: pick(rnd, teams) } }
          : c < 0.5
            ? { e: d, op: 'add', a: 'doc/owner', v: pick(rnd, USERS) }
            : c < 0.7
              ? { e: d, op: 'add', a: 'doc/public', v: rnd() < 0.5 }
              : c < 0.85
                ? { e: d, op: 'add', a: 'doc/link', v: { ref: pick(rnd, docs) } }
                : { e: pick(rnd, teams), op: 'add', a: 'team/parent', v: { ref: pick(rnd, teams) } },
      ];
    }
    engine.apply(m.apply(tx(ops)));
    engine.takeChanges();
    for (const { u, s, h } of watches) {
      const { db, ids } = readableDb(m, u);
      const rows = q(s.query, db, ...(s.inputs ?? [])) as Iterable<unknown[]>;
      const roots = new Set([...rows].map((r) => r[0] as number));
      const want = new Set(roots);
      if (s.pull) for (const x of reach(db, ids, roots, s.pull)) want.add(x);
      // entities reached only as ref values are named by the interner too
      const expected = [...want].map((e) => ids.gid(e)!).sort();
      expect([...h.entities].sort(), `seed ${seed} ${mode} step ${step} ${String(u.user)} ${s.query} ${s.pull ?? ''}`).toEqual(expected);
    }
  }
  for (const w of watches) w.h.close();
}

describe('guarded scope queries: seeded property against q over what the user may read', () => {
  for (const mode of ['shared', 'perUser', 'ownViews'] as const) {
    it(`${mode}`, () => {
      for (const seed of seeds(2, { shared: 9700, perUser: 9800, ownViews: 9900 }[mode])) replayable(seed, () => run(seed, mode));
    });
  }
});
