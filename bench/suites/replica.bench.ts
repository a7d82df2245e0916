/**
 * The replica suite (issue 4): the client replica's own costs, next to what a DataScript app pays
 * for the same job.
 *
 * | row        | Dataloom                                                                 | DataScript (peer)                         |
 * |------------|--------------------------------------------------------------------------|-------------------------------------------|
 * | load       | cold start minus I/O: merge the stored op set (`MergeState.apply`) and   | one `db-with` of all people               |
 * |            | build the database (`initDb`), as `Replica` does after reading the store |                                           |
 * | tx-20q     | one local transaction (`translateTx` → `MergeState.apply` →              | `db-with` the same datom, then re-run the |
 * |            | `conn.applyDatoms`) with 20 registered queries updated incrementally     | 20 queries (what posh/re-frame apps do)   |
 * | snapshot   | canonical encoded snapshot of the merge state                            | (none: n/a)                               |
 *
 * `n` is the number of datoms. People count = size / 10 (so the default sizes give ~22k and
 * ~110k datoms). Storage I/O is not included (IndexedDB is measured in the browser e2e).
 */
import { Datom, kw, type Op, type DatomChange } from '@dataloom/core';
import { HlcClock, MergeState, fromWireValue, initDb, translateTx } from '@dataloom/core/internals';
import { createConn } from '@dataloom/dataflow';
import type { RowSpec, SuiteOptions } from '../harness/types.js';
import { K, people, personEntity, SCHEMA_EDN } from '../data/people.js';
import * as DS from '../peers/datascript.js';
import { lazy } from '../harness/measure.js';

export const suite = 'replica';

export const SCHEMA = {
  ':alias': { ':db/cardinality': ':db.cardinality/many' },
  ':follows': { ':db/valueType': ':db.type/ref', ':db/cardinality': ':db.cardinality/many' },
};


/** The people as the op set a replica would hold (one transaction per person). */
export function opsFor(nPeople: number): { ops: Op[]; entities: Map<unknown, unknown>[] } {
  const ps = people(nPeople);
  const state = new MergeState(SCHEMA);
  const clock = new HlcClock('bench', { now: () => 1_700_000_000_000 });
  const ops: Op[] = [];
  const entities = ps.map((p) => {
    const m = personEntity(p);
    m.delete(K.id);
    return m;
  });
  for (const m of entities) {
    const { envelope } = translateTx(state, [m], { stamp: clock.now() });
    state.apply(envelope.ops);
    ops.push(...envelope.ops);
  }
  return { ops, entities };
}

function toDatoms(changes: DatomChange[], eids: Map<string, number>): Datom[] {
  const eid = (g: string) => {
    let n = eids.get(g);
    if (n === undefined) eids.set(g, (n = eids.size + 1));
    return n;
  };
  return changes.map((c) => new Datom(eid(c.e), kw(c.a), fromWireValue(c.v, eid) as never, 536870913, c.added));
}

const QUERIES = Array.from({ length: 20 }, (_, i) => `[:find ?e ?n :where [?e :age ${i * 5}] [?e :name ?n]]`);

export function rows(opts: SuiteOptions): RowSpec[] {
  const out: RowSpec[] = [];
  for (const size of opts.sizes) {
    const nPeople = Math.max(100, Math.floor(size / 10));
    const data = lazy(() => opsFor(nPeople));
    const datomCount = lazy(() => {
      const s = new MergeState(SCHEMA);
      s.apply(data().ops);
      return [...s.datoms()].length;
    });
    const n = datomCount();
    out.push({
      name: 'load',
      n,
      dataloom: () => {
        const { ops } = data();
        return () => {
          const s = new MergeState(SCHEMA);
          const ch = s.apply(ops);
          return initDb(toDatoms(ch, new Map()), SCHEMA as never).size;
        };
      },
      peer: () => {
        const raw = DS.rawEntities(data().entities.map((m, i) => new Map([[K.id, -(i + 1)], ...m])));
        const empty = DS.emptyDb(SCHEMA_EDN);
        return () => DS.withRaw(empty, raw);
      },
    });
    out.push({
      name: 'tx-20q',
      n,
      dataloom: () => {
        const { ops } = data();
        const state = new MergeState(SCHEMA);
        const eids = new Map<string, number>();
        const gids: string[] = [''];
        const conn = createConn(initDb(toDatoms(state.apply(ops), eids), SCHEMA as never));
        for (const [g, i] of eids) gids[i] = g;
        const views = QUERIES.map((q, i) => conn.register(`q${i}`, q));
        let sink = 0;
        for (const v of views) v.subscribe((d) => (sink += d.length));
        const clock = new HlcClock('bench2', { now: () => 1_800_000_000_000 });
        const people = [...eids.keys()].filter((g) => state.values(g, 'age').length > 0);
        let i = 0;
        return () => {
          const g = people[i++ % people.length]!;
          const { envelope } = translateTx(state, [[':db/add', g, ':age', (i * 5) % 100]], { stamp: clock.now() });
          const ch = state.apply(envelope.ops);
          conn.applyDatoms(toDatoms(ch, eids));
          return sink;
        };
      },
      peer: () => {
        const raw = DS.rawEntities(data().entities.map((m, i) => new Map([[K.id, -(i + 1)], ...m])));
        let db = DS.withRaw(DS.emptyDb(SCHEMA_EDN), raw);
        const eids = DS.aevtEids(db, 'age');
        let i = 0;
        return () => {
          const e = eids[i++ % eids.length]!;
          db = DS.ds.db_with(db, [[':db/add', e, DS.dsKeyword('age'), (i * 5) % 100]]);
          let rows = 0;
          for (const q of QUERIES) rows += DS.rawCount(DS.rawQ(q, db));
          return rows;
        };
      },
    });
    out.push({
      name: 'snapshot',
      n,
      dataloom: () => {
        const s = new MergeState(SCHEMA);
        s.apply(data().ops);
        return () => s.encodeSnapshot().length;
      },
      peer: () => {
        throw new Error('no DataScript equivalent');
      },
    });
  }
  return out;
}
