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
 *
 * Not a timing row: `heap-per-datom` measures heap bytes per datom (after GC) of what a replica
 * holds once loaded — the merge state, the database and the dataflow connection — and of the
 * database alone (its datoms and values), next to a DataScript database of the same people — with
 * its values (the input dropped) and without (the input kept, as earlier measurements did) — at
 * `BENCH_HEAP_SIZES` datoms (default `100000,1000000`; people = size / 10). Printed and written to
 * `bench/results/replica-memory.json`; the row's own times mean nothing.
 */
import { Datom, kw, type Op, type DatomChange } from '@dataloom/core';
import { HlcClock, MergeState, fromWireValue, initDb, translateTx } from '@dataloom/core/internals';
import { createConn } from '@dataloom/dataflow';
import type { RowSpec, SuiteOptions } from '../harness/types.js';
import { K, people, personEntity, SCHEMA_EDN } from '../data/people.js';
import * as DS from '../peers/datascript.js';
import { lazy } from '../harness/measure.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

const gc = (globalThis as { gc?: () => void }).gc;
function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/** What a loaded replica holds: the op set merged, the database built from it, the engine's connection. */
function loadReplica(nPeople: number): unknown[] {
  const s = new MergeState(SCHEMA);
  const conn = createConn(initDb(toDatoms(s.apply(opsFor(nPeople).ops), new Map()), SCHEMA as never));
  return [s, conn];
}

/** The database alone, built as a replica builds it. */
function loadDb(nPeople: number): unknown {
  return initDb(toDatoms(new MergeState(SCHEMA).apply(opsFor(nPeople).ops), new Map()), SCHEMA as never);
}

/** DataScript's input: the same people as prepared entity maps. */
function dsInput(nPeople: number): unknown[] {
  return DS.rawEntities(people(nPeople).map((p, i) => new Map([[K.id, -(i + 1)], ...personEntity(p)])));
}

/**
 * Heap growth per datom of `load` (after GC). Each structure is built in a function of its own:
 * temporaries of the building frame (the op set, the merge state) would otherwise stay reachable.
 */
function heapOf(load: () => unknown): { bytes: number; value: unknown } {
  const base = heap();
  const value = load();
  return { bytes: heap() - base, value };
}

/** Heap bytes per datom of a loaded replica, its database alone, and DataScript's database. */
function heapPerDatom(size: number): { datoms: number; replica: number; db: number; datascript: number; datascriptNoValues: number } {
  const nPeople = Math.max(100, Math.floor(size / 10));
  const r = heapOf(() => loadReplica(nPeople));
  const datoms = ((r.value as unknown[])[1] as ReturnType<typeof createConn>).db().size;
  r.value = null;
  const d = heapOf(() => loadDb(nPeople));
  d.value = null;
  // DataScript with its input dropped (its values count, as ours do) and kept (they do not).
  const p = heapOf(() => DS.withRaw(DS.emptyDb(SCHEMA_EDN), dsInput(nPeople)));
  p.value = null;
  const raw = dsInput(nPeople);
  const q = heapOf(() => DS.withRaw(DS.emptyDb(SCHEMA_EDN), raw));
  q.value = null;
  return { datoms, replica: r.bytes / datoms, db: d.bytes / datoms, datascript: p.bytes / datoms, datascriptNoValues: q.bytes / datoms };
}

function memoryRow(): RowSpec {
  const sizes = (process.env.BENCH_HEAP_SIZES ?? '100000,1000000').split(',').map(Number).filter((x) => x > 0);
  return {
    name: 'heap-per-datom',
    n: Math.max(...sizes),
    dataloom: () => {
      const results = sizes.map((size) => ({ size, ...heapPerDatom(size) }));
      process.stdout.write('\nheap bytes per datom (after GC): replica = merge state + database + engine connection\n');
      for (const r of results) {
        process.stdout.write(
          `  ${String(r.datoms).padStart(8)} datoms  replica ${r.replica.toFixed(0)}  database ${r.db.toFixed(0)}  datascript ${r.datascript.toFixed(0)} (${r.datascriptNoValues.toFixed(0)} without its values)  database / datascript ${(r.db / r.datascript).toFixed(2)}× (${(r.db / r.datascriptNoValues).toFixed(2)}×)\n`,
        );
      }
      const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../results');
      mkdirSync(dir, { recursive: true });
      const rounded = results.map((r) => ({
        datoms: r.datoms,
        replica: Math.round(r.replica),
        database: Math.round(r.db),
        datascript: Math.round(r.datascript),
        datascriptWithoutValues: Math.round(r.datascriptNoValues),
      }));
      writeFileSync(join(dir, 'replica-memory.json'), JSON.stringify(rounded, null, 2) + '\n');
      return () => null;
    },
    peer: () => () => null,
  };
}

export function rows(opts: SuiteOptions): RowSpec[] {
  const out: RowSpec[] = [memoryRow()];
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
