/**
 * The drafts suite (issue 11): what a shared form costs on a replica holding a database of
 * people, next to what a DataScript app pays for the same job (DataScript's immutable database
 * makes a draft a forked value: `db-with` the draft's datoms, and re-run the form's query).
 *
 * | row       | Dataloom                                                                | DataScript (peer)                              |
 * |-----------|-------------------------------------------------------------------------|------------------------------------------------|
 * | open      | open a draft of 10 values on 5 people (`DraftOverlay`: a dataflow       | `db-with` the draft's 10 datoms on the         |
 * |           | connection over the committed database value, the overridden entities) | committed database                             |
 * | keystroke | one draft transaction (translated against the draft view) with the      | `db-with` the datom on the forked database and |
 * |           | form's query on the draft view updated incrementally                   | re-run the form's query                        |
 * | commit    | the draft's net effect and closing forms (`netEffect`), 10 values       | (none: n/a)                                    |
 *
 * `n` is the number of committed datoms (people = size / 10).
 */
import { type Op } from '@dataloom/core';
import { HlcClock, Interner, MergeState, translateTx } from '@dataloom/core/internals';
import { DraftOverlay } from '../../packages/client/src/drafts/overlay.js';
import type { RowSpec, SuiteOptions } from '../harness/types.js';
import { K, SCHEMA_EDN } from '../data/people.js';
import * as DS from '../peers/datascript.js';
import { lazy } from '../harness/measure.js';
import { SCHEMA, opsFor } from './replica.bench.js';

export const suite = 'drafts';

const FORM = '[:find ?n ?a :in $ ?e :where [?e :name ?n] [?e :age ?a]]';

interface Committed {
  merge: MergeState;
  ids: Interner;
  people: string[];
  draftOps: Op[];
  host: ConstructorParameters<typeof DraftOverlay>[0];
}

function committed(nPeople: number): Committed {
  const { ops } = opsFor(nPeople);
  const merge = new MergeState(SCHEMA);
  merge.apply(ops);
  const ids = new Interner();
  const db = ids.db(merge.datoms(), SCHEMA);
  const people = [...new Set([...merge.datoms()].filter((d) => d.a === 'age').map((d) => d.e))].sort();
  // a draft: two values on each of five people, made by another replica
  const clock = new HlcClock('drafter', { now: () => 1_900_000_000_000 });
  const draftOps: Op[] = [];
  for (let i = 0; i < 5; i++) {
    const g = people[(i * 7919) % people.length]!;
    const { envelope } = translateTx(merge, [[':db/add', g, ':name', `draft ${i}`], [':db/add', g, ':age', 100 + i]], { stamp: clock.now() });
    draftOps.push(...envelope.ops);
  }
  return { merge, ids, people, draftOps, host: { merge: () => merge, ids, committedDb: () => db } };
}

export function rows(opts: SuiteOptions): RowSpec[] {
  const out: RowSpec[] = [];
  for (const size of opts.sizes) {
    const nPeople = Math.max(100, Math.floor(size / 10));
    const data = lazy(() => committed(nPeople));
    const peerDb = lazy(() => {
      const { entities } = opsFor(nPeople);
      return { db: DS.withRaw(DS.emptyDb(SCHEMA_EDN), DS.rawEntities(entities.map((m, i) => new Map([[K.id, -(i + 1)], ...m])))) };
    });
    const n = lazy(() => [...data().merge.datoms()].length)();
    out.push({
      name: 'open',
      n,
      dataloom: () => {
        const { host, draftOps } = data();
        let i = 0;
        return () => new DraftOverlay(host, `draft.b${i++}`, draftOps).db().size;
      },
      peer: () => {
        const { db } = peerDb();
        const eids = DS.aevtEids(db, 'age');
        const tx = Array.from({ length: 5 }, (_, i) => eids[(i * 7919) % eids.length]!).flatMap((e, i) => [
          [':db/add', e, DS.dsKeyword('name'), `draft ${i}`],
          [':db/add', e, DS.dsKeyword('age'), 100 + i],
        ]);
        return () => DS.ds.db_with(db, tx);
      },
    });
    out.push({
      name: 'keystroke',
      n,
      dataloom: () => {
        const { host, draftOps, people, ids } = data();
        const ov = new DraftOverlay(host, 'draft.keys', draftOps);
        const g = people[0]!;
        const view = ov.conn.register('form', FORM, ids.eid(g));
        let sink = 0;
        view.subscribe((d) => (sink += d.length));
        const clock = new HlcClock('typist', { now: () => 1_950_000_000_000 });
        let i = 0;
        return () => {
          const { envelope } = translateTx(ov.txState(), [[':db/add', g, ':name', `typing ${i++}`]], { stamp: clock.now() });
          ov.addOps(envelope.ops);
          return sink;
        };
      },
      peer: () => {
        let { db } = peerDb();
        const e = DS.aevtEids(db, 'age')[0]!;
        let i = 0;
        return () => {
          db = DS.ds.db_with(db, [[':db/add', e, DS.dsKeyword('name'), `typing ${i++}`]]);
          return DS.rawCount(DS.rawQ(FORM, db, e));
        };
      },
    });
    out.push({
      name: 'commit',
      n,
      dataloom: () => {
        const { host, draftOps } = data();
        const ov = new DraftOverlay(host, 'draft.commit', draftOps);
        return () => ov.netEffect().length;
      },
      peer: () => {
        throw new Error('no DataScript equivalent');
      },
    });
  }
  return out;
}
