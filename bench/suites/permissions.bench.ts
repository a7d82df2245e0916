/**
 * The permissions suite (issue 10): what read permissions cost the server per committed
 * transaction as the number of connected users grows, and what a first sync costs.
 *
 * Data: `n` docs in 1,000 teams forming a 10-ary tree (team i's parent is team ⌊(i−1)/10⌋);
 * user i is a member of team i mod 1,000; a recursive rule: members of a team read the docs of
 * its sub-teams. Rules:
 *
 * ```
 * [(member ?u ?t) [?t :team/members ?u]]   [(member ?u ?t) [?t :team/parent ?p] (member ?u ?p)]
 * [(can-read ?u ?e) (member ?u ?t) [?e :doc/team ?t]]
 * ```
 *
 * | row               | Dataloom                                                         | naive peer                                       |
 * |-------------------|------------------------------------------------------------------|--------------------------------------------------|
 * | move/uN           | a doc moves to another team (one datom) with N users connected:  | merge, the datom into a core `Db`, then one-shot |
 * |                   | merge + the `can-read` views updated (`ReadEngine`, shared mode: | `q` of `can-read` for each of the N users        |
 * |                   | one view for every user, since every rule binds `?user`)         |                                                  |
 * | move-peruser/uN   | the same plus a branch naming a user by a test of `?user` alone  | same                                             |
 * |                   | (`[(= ?u "auditor")]`): the users it leaves out share the views  |                                                  |
 * |                   | of the branches they keep (`variants.ts`; was a view per user)   |                                                  |
 * | move-own/uN       | the same with the auditor named through a function of `?user`   | same                                             |
 * |                   | (`[(str ?u) ?s] [(= ?s "auditor")]`): each connected user has    |                                                  |
 * |                   | views of their own, and a transaction visits all of them         |                                                  |
 * | body/u1000        | a doc's body changes (an attribute no rule reads), 1,000 users   | same naive re-run                                |
 * | bootstrap         | the first sync of a user reading ~1/1,000 of the docs plus the   | the whole log as the stream sends it (JSON of     |
 * |                   | sub-tree (`bootstrapFrames`: readable ids + their ops as frames) | every envelope)                                   |
 *
 * In per-user mode, write the call that binds only `?user` first (`(member ?u ?t) [?e :doc/team
 * ?t]`): the other order demands the recursive rule per (user, team) from the doc's team, so
 * moving a doc re-derives the recursion in every user's view (~380 ms at 20k docs, 100 users).
 *
 * The moved doc touches the users of its old and new team and of their ancestor teams (at most 8
 * of the 1,000); the others' sets do not change.
 *
 * Not a timing row: `heap` measures the permission engine's heap after GC (`--expose-gc`) at the
 * largest size, per rule form (shared, per variant, own views): the engine's own copy of the
 * database with rules nobody satisfies (the baseline: a server with no users), then with 10, 100
 * and 1,000 connected users, then with a scope per user (the docs of their own team, guarded by
 * their permission). Printed and written to `bench/results/permissions-memory.json`.
 */
import { formatHlc, type Op } from '@dataloom/core';
import { HlcClock, Interner, MergeState, TX0, applyDatoms } from '@dataloom/core/internals';
import { q } from '@dataloom/query';
import { ReadEngine } from '../../packages/server/src/permissions/readable.js';
import { parsePermissions } from '../../packages/server/src/permissions/rules.js';
import { EntryFilter } from '../../packages/server/src/permissions/partial.js';
import { bootstrapFrames } from '../../packages/server/src/permissions/bootstrap.js';
import type { ServerState } from '../../packages/server/src/state/server-state.js';
import type { RowSpec, SuiteOptions } from '../harness/types.js';
import { lazy } from '../harness/measure.js';
import { writeResultsAtExit } from '../harness/measured-rows.js';

export const suite = 'permissions';

const gc = (globalThis as { gc?: () => void }).gc;
export const peer = 'naive';

const TEAMS = 1000;
const MEMBER = `[(member ?u ?t) [?t :team/members ?u]]
 [(member ?u ?t) [?t :team/parent ?p] (member ?u ?p)]`;
const RULES = `[${MEMBER} [(can-read ?u ?e) (member ?u ?t) [?e :doc/team ?t]]]`;
/** The same plus a rule naming a user by a constant: `?user` cannot be free, so each user gets views of their own. */
const RULES_PER_USER = `[${MEMBER} [(can-read ?u ?e) (member ?u ?t) [?e :doc/team ?t]] [(can-read ?u ?e) [(= ?u "auditor")] [?e :doc/team]]]`;
/** The auditor named through a function of `?user` (not a test of `?user` alone): a view per connected user. */
const RULES_OWN = RULES_PER_USER.replace('[(= ?u "auditor")]', '[(str ?u) ?s] [(= ?s "auditor")]');
/** Rules nobody satisfies: the engine's database alone. */
const RULES_NONE = '[[(can-read ?u ?e) [?e :nobody/reads ?u]]]';
const SCHEMA = { ':team/members': { ':db/cardinality': ':db.cardinality/many' }, ':team/parent': { ':db/valueType': ':db.type/ref' }, ':doc/team': { ':db/valueType': ':db.type/ref' } };
const READ_Q = '[:find ?e :in $ % ?u :where (can-read ?u ?e)]';

const team = (i: number) => `bench.t${i}`;
const doc = (i: number) => `bench.d${i}`;

function data(nDocs: number) {
  const clock = new HlcClock('bench', { now: () => 1_900_000_000_000 });
  const ops: Op[] = [];
  const add = (e: string, a: string, v: unknown) => {
    const tx = formatHlc(clock.now());
    ops.push({ id: `${tx}/0`, tx, e, op: 'add', a, v } as Op);
  };
  for (let i = 0; i < TEAMS; i++) {
    add(team(i), 'team/members', `u${i}`);
    if (i > 0) add(team(i), 'team/parent', { ref: team(Math.floor((i - 1) / 10)) });
  }
  for (let i = 0; i < nDocs; i++) {
    add(doc(i), 'doc/team', { ref: team(i % TEAMS) });
    add(doc(i), 'doc/body', `body ${i}`);
  }
  const merged = new MergeState(SCHEMA);
  merged.apply(ops);
  return { merged, ops, clock };
}

function engineWith(d: ReturnType<typeof data>, users: number, rules = RULES) {
  const engine = new ReadEngine(parsePermissions(rules), () => d.merged);
  for (let i = 0; i < users; i++) engine.acquire(`u${(i * 7) % TEAMS}`);
  return engine;
}

/** One datom on `doc(k)`: a move to another team, or a new body. */
function change(d: ReturnType<typeof data>, k: number, kind: 'move' | 'body'): Op {
  const tx = formatHlc(d.clock.now());
  return kind === 'move'
    ? ({ id: `${tx}/0`, tx, e: doc(k), op: 'add', a: 'doc/team', v: { ref: team((k * 31 + 17) % TEAMS) } } as Op)
    : ({ id: `${tx}/0`, tx, e: doc(k), op: 'add', a: 'doc/body', v: `edit ${tx}` } as Op);
}

/** The naive server: after each transaction, one-shot `q` of `can-read` for every connected user. */
function naivePeer(nDocs: number, users: number, kind: 'move' | 'body') {
  const d = data(nDocs);
  const ids = new Interner();
  let db = ids.db(d.merged.datoms(), SCHEMA);
  let k = 0;
  let tx = TX0 + 10;
  return () => {
    const changes = d.merged.apply([change(d, k++ % nDocs, kind)]);
    const t = ++tx;
    db = applyDatoms(db, changes.map((c) => ids.datom(c, t)), t).db;
    let n = 0;
    for (let i = 0; i < users; i++) n += (q(READ_Q, db, RULES, `u${(i * 7) % TEAMS}`) as Set<unknown>).size;
    return n;
  };
}

export function rows(opts: SuiteOptions): RowSpec[] {
  const out: RowSpec[] = [];
  for (const size of opts.sizes) {
    const nDocs = size;
    const base = lazy(() => data(nDocs));
    const timedChange = (users: number, kind: 'move' | 'body', rules = RULES) => () => {
      const d = data(nDocs);
      gc?.();
      const before = process.memoryUsage().heapUsed;
      const engine = engineWith(d, users, rules);
      if (users === 1000 && kind === 'move') {
        gc?.();
        const mib = (process.memoryUsage().heapUsed - before) / 2 ** 20;
        const v = engine.viewCount;
        const mode = `${v.shared} shared views, ${v.own} of users' own`;
        process.stderr.write(`permissions: ${nDocs} docs, ${users} users, ${mode}: engine heap ${mib.toFixed(1)} MiB (${((mib * 1024) / users).toFixed(1)} KiB per user)\n`);
      }
      let k = 0;
      return () => {
        engine.apply(d.merged.apply([change(d, k++ % nDocs, kind)]));
        return engine.takeChanges().length;
      };
    };
    for (const users of [10, 100, 1000]) {
      out.push({ name: `move/u${users}`, n: nDocs, dataloom: timedChange(users, 'move'), peer: () => naivePeer(nDocs, users, 'move') });
    }
    for (const users of [10, 100, 1000]) {
      out.push({ name: `move-peruser/u${users}`, n: nDocs, dataloom: timedChange(users, 'move', RULES_PER_USER), peer: () => naivePeer(nDocs, users, 'move') });
    }
    for (const users of [10, 100, 1000]) {
      out.push({ name: `move-own/u${users}`, n: nDocs, dataloom: timedChange(users, 'move', RULES_OWN), peer: () => naivePeer(nDocs, users, 'move') });
    }
    out.push({ name: 'body/u1000', n: nDocs, dataloom: timedChange(1000, 'body'), peer: () => naivePeer(nDocs, 1000, 'body') });
    out.push({
      name: 'bootstrap',
      n: nDocs,
      dataloom: () => {
        const d = base();
        const engine = new ReadEngine(parsePermissions(RULES), () => d.merged);
        const user = engine.acquire('u5'); // a mid-level team: its sub-tree's docs
        const filter = new EntryFilter(user, () => d.merged, () => true);
        const state = { schema: d.merged.schema, attributeEntity: () => null } as unknown as ServerState;
        process.stderr.write(`permissions: bootstrap of u5 reads ${user.entities.size} of ${nDocs + TEAMS} entities\n`);
        return () => [...bootstrapFrames(user, filter, () => state, true, 'L:0', 'L:1')].length;
      },
      peer: () => {
        const d = base();
        return () => JSON.stringify(d.ops.map((op) => ({ tx: op.tx, replica: 'bench', ops: [op] }))).length;
      },
    });
  }
  out.push(heapRow(Math.max(...opts.sizes)));
  return out;
}

function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/** See the module doc: heap of the permission engine per connected user and per scope. */
function heapRow(nDocs: number): RowSpec {
  return {
    name: 'heap',
    n: nDocs,
    dataloom: () => {
      if (!gc) throw new Error('needs node --expose-gc');
      const d = data(nDocs);
      const mib = (b: number) => Number((b / 2 ** 20).toFixed(1));
      const h0 = heap();
      const none = new ReadEngine(parsePermissions(RULES_NONE), () => d.merged);
      const baseline = heap() - h0;
      void none;
      const results: Array<Record<string, unknown>> = [];
      process.stdout.write(`\npermission engine heap, ${nDocs} docs; baseline (its database, no user reads anything) ${mib(baseline)} MiB:\n`);
      for (const [form, rules] of [['shared', RULES], ['variant', RULES_PER_USER], ['own-views', RULES_OWN]] as const) {
        const start = heap();
        const engine = new ReadEngine(parsePermissions(rules), () => d.merged);
        const at0 = heap() - start;
        const users: ReturnType<ReadEngine['acquire']>[] = [];
        const line: string[] = [];
        for (const n of [10, 100, 1000]) {
          while (users.length < n) users.push(engine.acquire(`u${(users.length * 7) % TEAMS}`));
          const total = heap() - start;
          const pairs = users.reduce((k, u) => k + u.entities.size, 0);
          // per connected user: what connecting them added to the engine with nobody connected
          const perUserKiB = Number(((total - at0) / n / 1024).toFixed(1));
          results.push({ form, users: n, n: nDocs, baselineMiB: mib(baseline), idleMiB: mib(at0), engineMiB: mib(total), perUserKiB, pairs, views: engine.viewCount });
          line.push(`${n}: ${mib(total)} MiB (+${perUserKiB} KiB/user)`);
        }
        const before = heap();
        const scopes = users.map((u, i) => engine.watchEntities('[:find ?d :in $ ?t :where [?d :doc/team ?t]]', [{ ref: team((i * 7) % TEAMS) }], () => {}, undefined, u));
        const perScope = (heap() - before) / scopes.length;
        results.push({ form, users: 1000, n: nDocs, scopes: scopes.length, perScopeKiB: Number((perScope / 1024).toFixed(1)), scopeEntities: scopes.reduce((k, s) => k + s.entities.size, 0) });
        process.stdout.write(`  ${form.padEnd(9)} nobody connected ${mib(at0)} MiB; users ${line.join(', ')}; then a scope per user (its team's docs) +${(perScope / 1024).toFixed(1)} KiB each\n`);
        for (const s of scopes) s.close();
        for (const u of users) engine.release(u);
      }
      writeResultsAtExit('permissions-memory.json', results);
      return () => null;
    },
    peer: () => () => null,
  };
}
