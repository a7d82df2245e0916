/**
 * Seeded property of the permission engine, in process (no sockets, so many cases): random teams,
 * memberships, parent teams (cycles too), docs moving between teams and owners, public docs and
 * deletions, under recursive rules in every engine mode (shared views; shared per variant of the rules
 * with own views for the user a test names; a view per user). After
 * every transaction each user's readable entities and attributes equal one-shot `q` of the rules,
 * the gains and losses the engine reports are exactly the difference, and every op of every
 * envelope cut for a user (`EntryFilter`) is readable by them.
 *
 * Rule order does not matter: each case also runs engines on the same rules with the rules and
 * the clauses of every body shuffled (seeded), which must give the same sets, step by step.
 * `FUZZ_RUNS=n` runs n seeds per mode, `FUZZ_SEED=s` replays one.
 */
import { describe, expect, it } from 'vitest';
import { Keyword, parseEdn, printEdn, type EdnValue, type GlobalId, type Op, type TxEnvelope } from '@dataloom/core';
import { Interner, MergeState } from '@dataloom/core/internals';
import { q } from '@dataloom/query';
import { mulberry32, pick, replayable, seeds, shuffle } from '@dataloom/test/gen/prng.js';
import { TEAM_MODES, TEAM_SCHEMA } from '@dataloom/test/sync/support/perm-oracle.js';
import { ReadEngine, attrKey, schemaInput } from './readable.js';
import { parsePermissions } from './rules.js';
import { EntryFilter } from './partial.js';

const SCHEMA = TEAM_SCHEMA;
const MODES = TEAM_MODES;
const USERS = ['u0', 'u1', 'u2', 'boss'];

function oracle(m: MergeState, rules: string, user: string): Set<string> {
  const ids = new Interner();
  const db = ids.db(m.datoms(), schemaInput(m.schema));
  const out = new Set<string>();
  for (const e of q('[:find [?e ...] :in $ % ?u :where (can-read ?u ?e)]', db, rules, user) as number[]) out.add(ids.gid(e)!);
  for (const [e, a] of q('[:find ?e ?a :in $ % ?u :where (can-read-attr ?u ?e ?a)]', db, rules, user) as Set<[number, Keyword]>) out.add(attrKey(ids.gid(e)!, a.fqn));
  return out;
}

/** `rules` with the order of the rules and of each body's clauses shuffled by `rnd`. */
function shuffledRules(rules: string, rnd: () => number): string {
  const all = parseEdn(rules) as EdnValue[][];
  return printEdn(shuffle(rnd, all.map(([head, ...body]) => [head!, ...shuffle(rnd, body)])) as never);
}

function run(seed: number, mode: keyof typeof MODES): void {
  const rnd = mulberry32(seed);
  const rules = MODES[mode];
  const order = mulberry32(seed ^ 0x5eed);
  const variants = [shuffledRules(rules, order), shuffledRules(rules, order)];
  const m = new MergeState(SCHEMA);
  let n = 0;
  const env = (ops: Array<Omit<Op, 'id' | 'tx'>>): TxEnvelope => {
    const tx = `${(1_900_000_000_000 + n++).toString(36).padStart(12, '0')}-0000-rp`;
    return { tx, replica: 'rp', ops: ops.map((o, i) => ({ ...o, id: `${tx}/${i}`, tx }) as Op) };
  };
  m.apply(env(USERS.map((u) => ({ e: `rp.user_${u}`, op: 'add' as const, a: 'user/name', v: u }))).ops);
  const engine = new ReadEngine(parsePermissions(rules), () => m);
  expect(engine.isShared).toBe(mode === 'shared');
  const users = USERS.map((u) => engine.acquire(u));
  // shared: 1 view for every user; perUser: u0–u2 share can-read without the boss branch, each has can-read-attr (it binds no user); boss: 2 of their own
  const expected = { shared: { shared: 2, own: 0 }, perUser: { shared: 1, own: USERS.length + 1 }, ownViews: { shared: 0, own: 2 * USERS.length } }[mode];
  expect(engine.viewCount, `seed ${seed} ${mode}: views`).toEqual(expected);
  // the same rules in other orders: the same mode, the same sets
  const others = variants.map((v) => new ReadEngine(parsePermissions(v), () => m));
  for (const o of others) expect(o.isShared, `seed ${seed}: shuffled rules keep the mode`).toBe(engine.isShared);
  const otherUsers = others.map((o) => USERS.map((u) => o.acquire(u)));
  const keys = (u: (typeof users)[number]) => new Set([...u.entities, ...[...u.attrs].flatMap(([e, as]) => [...as].map((a) => attrKey(e, a)))]);
  const teams: GlobalId[] = [];
  const docs: GlobalId[] = [];
  for (let step = 0; step < 25; step++) {
    const k = rnd();
    const id = `rp.x${step}`;
    let e: TxEnvelope;
    if (teams.length < 2 || k < 0.15) {
      const ops: Array<Omit<Op, 'id' | 'tx'>> = [{ e: id, op: 'add', a: 'team/name', v: id }];
      for (const u of USERS) if (rnd() < 0.3) ops.push({ e: id, op: 'add', a: 'team/members', v: u });
      if (teams.length && rnd() < 0.6) ops.push({ e: id, op: 'add', a: 'team/parent', v: { ref: pick(rnd, teams) } });
      teams.push(id);
      e = env(ops);
    } else if (k < 0.35) {
      e = env([{ e: pick(rnd, teams), op: rnd() < 0.6 ? 'add' : 'retract', a: 'team/members', v: pick(rnd, USERS) }]);
    } else if (k < 0.45) {
      e = env([{ e: pick(rnd, teams), op: 'add', a: 'team/parent', v: { ref: pick(rnd, teams) } }]);
    } else if (docs.length < 2 || k < 0.65) {
      const ops: Array<Omit<Op, 'id' | 'tx'>> = [
        { e: id, op: 'add', a: 'doc/title', v: id },
        { e: id, op: 'add', a: 'doc/public', v: rnd() < 0.3 },
      ];
      if (rnd() < 0.7) ops.push({ e: id, op: 'add', a: 'doc/team', v: { ref: pick(rnd, teams) } });
      if (rnd() < 0.4) ops.push({ e: id, op: 'add', a: 'doc/owner', v: pick(rnd, USERS) });
      docs.push(id);
      e = env(ops);
    } else if (k < 0.92) {
      const d = pick(rnd, docs);
      const c = rnd();
      e = env([c < 0.4 ? { e: d, op: 'add', a: 'doc/team', v: { ref: pick(rnd, teams) } } : c < 0.7 ? { e: d, op: 'add', a: 'doc/owner', v: pick(rnd, USERS) } : { e: d, op: 'add', a: 'doc/public', v: rnd() < 0.5 }]);
    } else {
      const d = docs.splice(Math.floor(rnd() * docs.length), 1)[0]!;
      e = env([{ e: d, op: 'retractEntity' }]);
    }
    const before = users.map(keys);
    const visible = m.apply(e.ops);
    engine.apply(visible);
    for (const o of others) o.apply(visible), o.takeChanges();
    const changes = engine.takeChanges();
    for (const [i, u] of users.entries()) {
      const now = keys(u);
      expect(now, `seed ${seed} ${mode} step ${step} ${String(u.user)}`).toEqual(oracle(m, rules, String(u.user)));
      for (const [j, ou] of otherUsers.entries()) expect(keys(ou[i]!), `seed ${seed} ${mode} step ${step} ${String(u.user)}, rules ${variants[j]}`).toEqual(now);
      const c = changes.find((x) => x.user === u);
      const gained = [...now].filter((x) => !before[i]!.has(x)).sort();
      const lost = [...before[i]!].filter((x) => !now.has(x)).sort();
      expect([[...(c?.gained ?? [])].sort(), [...(c?.lost ?? [])].sort()], `seed ${seed} step ${step} changes of ${String(u.user)}`).toEqual([gained, lost]);
      // what the stream would send this user of the transaction
      const cut = new EntryFilter(u, () => m, () => true).cut(e);
      for (const op of cut?.ops ?? []) expect(u.reads(m.rep(op.e), op.a), `seed ${seed} step ${step}: ${JSON.stringify(op)}`).toBe(true);
    }
  }
}

describe('permission engine: seeded property against q', () => {
  for (const mode of ['shared', 'perUser', 'ownViews'] as const) {
    it(`${mode}: readable sets, reported changes and cut envelopes`, () => {
      for (const seed of seeds(6, { shared: 9100, perUser: 9500, ownViews: 9300 }[mode])) replayable(seed, () => run(seed, mode));
    });
  }
});
