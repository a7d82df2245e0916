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
 * | move-peruser/uN   | the same with a rule naming a user by a constant (per-user mode: | same                                             |
 * |                   | each connected user has views of their own)                      |                                                  |
 * | body/u1000        | a doc's body changes (an attribute no rule reads), 1,000 users   | same naive re-run                                |
 * | bootstrap         | the first sync of a user reading ~1/1,000 of the docs plus the   | the whole log as the stream sends it (JSON of     |
 * |                   | sub-tree (`bootstrapFrames`: readable ids + their ops as frames) | every envelope)                                   |
 *
 * In per-user mode, write the call that binds only `?user` first (`(member ?u ?t) [?e :doc/team
 * ?t]`): the other order demands the recursive rule per (user, team) from the doc's team, so
 * moving a doc re-derives the recursion in every user's view (~380 ms at 20k docs, 100 users).
 *
 * The permission engine's heap with 1,000 users is printed.
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

export const suite = 'permissions';

const gc = (globalThis as { gc?: () => void }).gc;
export const peer = 'naive';

const TEAMS = 1000;
const MEMBER = `[(member ?u ?t) [?t :team/members ?u]]
 [(member ?u ?t) [?t :team/parent ?p] (member ?u ?p)]`;
const RULES = `[${MEMBER} [(can-read ?u ?e) (member ?u ?t) [?e :doc/team ?t]]]`;
/** The same plus a rule naming a user by a constant: `?user` cannot be free, so each user gets views of their own. */
const RULES_PER_USER = `[${MEMBER} [(can-read ?u ?e) (member ?u ?t) [?e :doc/team ?t]] [(can-read ?u ?e) [(= ?u "auditor")] [?e :doc/team]]]`;
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
        const mode = engine.isShared ? 'shared views (every user of the data)' : 'a view per connected user';
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
  return out;
}
