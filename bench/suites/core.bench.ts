/**
 * The core suite: DataScript's own benchmarks (`bench/datascript/bench/datascript.cljc` in the
 * DataScript repository), Dataloom (`@dataloom/core` + `@dataloom/query`) against the `datascript`
 * npm package on the same seeded data in the same process.
 *
 * | row              | what (DataScript's definition)                                              | n        |
 * |------------------|------------------------------------------------------------------------------|----------|
 * | q1 … q4          | `[?e :name "Ivan"]` plus `:age`, `:sex :male`, `:last-name` joins             | people   |
 * | q5-shortcircuit  | 5-clause star with `:in $ ?n ?a` = "Anastasia", 35 (no match: must stop early) | people   |
 * | qpred1 / qpred2  | `[?e :salary ?s] [(> ?s 50000)]`, constant / bound `?min_s`                   | people   |
 * | add-1            | 5 single-datom `db-with`s per person (string tempids, as DataScript does)     | people   |
 * | add-5            | one `db-with` per person entity map                                          | people   |
 * | add-all          | one `db-with` of all people                                                  | people   |
 * | retract-5        | `[:db.fn/retractEntity e]` per person, in shuffled order                      | people   |
 * | init             | `init-db` from the people's datoms (no schema, like DataScript's bench)       | people   |
 * | pull-one/-many/-wildcard | recursive `{:follows ...}` pulls from entity 1 of `wide-db 4 5`       | entities |
 * | rules-wide-DxW / rules-long-DxW | transitive `follows` rule over `wide-db` / `long-db`           | entities |
 *
 * Queries are passed as EDN strings to both sides (both cache parsed queries).
 */
import { createDb, Datom, type Db, type Keyword, kw, parseEdn } from '@dataloom/core';
import { TX0 } from '@dataloom/core/internals';
import type { RowSpec, SuiteOptions } from '../harness/types.js';
import { K, longTx, people, type Person, personEntity, SCHEMA_EDN, wideTx } from '../data/people.js';
import { mulberry32, shuffle } from '../data/rng.js';
import * as DS from '../peers/datascript.js';
import { lazy } from '../harness/measure.js';

export const suite = 'core';

// ------------------------------------------------------------------------------------------------
// Dataloom entry points, looked up at call time so rows report n/a until they exist.
// ------------------------------------------------------------------------------------------------

type QFn = (query: unknown, ...inputs: unknown[]) => unknown;
type PullFn = (db: Db, pattern: unknown, eid: unknown) => unknown;
type InitFn = (datoms: Iterable<Datom>, schema?: unknown) => Db;

async function dataloomQ(): Promise<QFn> {
  const mod = (await import('@dataloom/query')) as Record<string, unknown>;
  if (typeof mod.q !== 'function') throw new Error('not implemented: @dataloom/query q');
  return mod.q as QFn;
}

async function dataloomCore(): Promise<{ pull: PullFn; initDb: InitFn }> {
  const mod = (await import('@dataloom/core')) as Record<string, unknown>;
  const internals = (await import('@dataloom/core/internals')) as Record<string, unknown>;
  if (typeof mod.pull !== 'function') throw new Error('not implemented: @dataloom/core pull');
  if (typeof internals.initDb !== 'function') throw new Error('not implemented: @dataloom/core/internals initDb');
  return { pull: mod.pull as PullFn, initDb: internals.initDb as InitFn };
}

// ------------------------------------------------------------------------------------------------
// Shared data, built lazily once per size
// ------------------------------------------------------------------------------------------------


interface PeopleData {
  people: Person[];
  entities: Map<Keyword, unknown>[];
  /** Raw CLJS entity maps, same order. */
  raw: () => unknown[];
  /** DataScript db of all people (`*db100k` in DataScript's bench). */
  dsDb: () => unknown;
  /** Dataloom db of all people. */
  dlDb: () => Db;
}

const peopleData = new Map<number, PeopleData>();
function dataFor(n: number): PeopleData {
  let d = peopleData.get(n);
  if (!d) {
    const ps = people(n);
    const entities = ps.map(personEntity);
    const raw = lazy(() => DS.rawEntities(entities));
    d = {
      people: ps,
      entities,
      raw,
      dsDb: lazy(() => DS.withRaw(DS.emptyDb(SCHEMA_EDN), raw())),
      dlDb: lazy(() => createDb(SCHEMA_EDN).with(entities).dbAfter),
    };
    peopleData.set(n, d);
  }
  return d;
}

/** Result size of a Dataloom `q` result (Set/Array) or scalar. */
function size(x: unknown): number {
  if (x === null || x === undefined) return 0;
  if (x instanceof Set || x instanceof Map) return x.size;
  if (Array.isArray(x)) return x.length;
  return 1;
}

const sameSize = (a: unknown, b: unknown): string | undefined => {
  const sa = size(a);
  const sb = DS.rawCount(b);
  return sa === sb ? undefined : `dataloom ${sa} rows, datascript ${sb}`;
};

// ------------------------------------------------------------------------------------------------
// Rows
// ------------------------------------------------------------------------------------------------

const QUERIES: [name: string, query: string, inputs: unknown[]][] = [
  ['q1', '[:find ?e :where [?e :name "Ivan"]]', []],
  ['q2', '[:find ?e ?a :where [?e :name "Ivan"] [?e :age ?a]]', []],
  ['q3', '[:find ?e ?a :where [?e :name "Ivan"] [?e :age ?a] [?e :sex :male]]', []],
  ['q4', '[:find ?e ?l ?a :where [?e :name "Ivan"] [?e :last-name ?l] [?e :age ?a] [?e :sex :male]]', []],
  [
    'q5-shortcircuit',
    '[:find ?e ?n ?l ?a ?s ?al :in $ ?n ?a :where [?e :name ?n] [?e :age ?a] [?e :last-name ?l] [?e :sex ?s] [?e :alias ?al]]',
    ['Anastasia', 35],
  ],
  ['qpred1', '[:find ?e ?s :where [?e :salary ?s] [(> ?s 50000)]]', []],
  ['qpred2', '[:find ?e ?s :in $ ?min_s :where [?e :salary ?s] [(> ?s ?min_s)]]', [50000]],
];

function queryRows(n: number): RowSpec[] {
  return QUERIES.map(([name, query, inputs]) => ({
    name,
    n,
    dataloom: async () => {
      const q = await dataloomQ();
      const db = dataFor(n).dlDb();
      return () => q(query, db, ...inputs);
    },
    peer: () => {
      const db = dataFor(n).dsDb();
      return () => DS.rawQ(query, db, ...inputs);
    },
    check: sameSize,
  }));
}

const ADD = kw('db/add');
const RETRACT_ENTITY = kw('db.fn/retractEntity');

function txRows(n: number): RowSpec[] {
  const rawAdd = () => DS.dsKeyword('db/add');
  const attrs: [Keyword, keyof Person][] = [
    [K.name, 'name'],
    [K.lastName, 'lastName'],
    [K.sex, 'sex'],
    [K.age, 'age'],
    [K.salary, 'salary'],
  ];
  return [
    {
      name: 'add-1',
      n,
      dataloom: () => {
        const { people: ps } = dataFor(n);
        const empty = createDb(SCHEMA_EDN);
        return () => {
          let db = empty;
          for (const p of ps) for (const [a, f] of attrs) db = db.with([[ADD, p.id, a, p[f]]]).dbAfter;
          return db;
        };
      },
      peer: () => {
        const { people: ps } = dataFor(n);
        const empty = DS.emptyDb(SCHEMA_EDN);
        const add = rawAdd();
        const rawAttrs = attrs.map(([a, f]) => [DS.dsKeyword(a.fqn), f] as const);
        const sex = (p: Person) => DS.dsKeyword(p.sex.fqn);
        return () => {
          let db = empty;
          for (const p of ps) {
            for (const [a, f] of rawAttrs) db = DS.ds.db_with(db, [[add, p.id, a, f === 'sex' ? sex(p) : p[f]]]);
          }
          return db;
        };
      },
    },
    {
      name: 'add-5',
      n,
      dataloom: () => {
        const { entities } = dataFor(n);
        const empty = createDb(SCHEMA_EDN);
        return () => {
          let db = empty;
          for (const e of entities) db = db.with([e]).dbAfter;
          return db;
        };
      },
      peer: () => {
        const raw = dataFor(n).raw();
        const empty = DS.emptyDb(SCHEMA_EDN);
        return () => {
          let db = empty;
          for (const e of raw) db = DS.withRaw(db, [e]);
          return db;
        };
      },
    },
    {
      name: 'add-all',
      n,
      dataloom: () => {
        const { entities } = dataFor(n);
        const empty = createDb(SCHEMA_EDN);
        return () => empty.with(entities).dbAfter;
      },
      peer: () => {
        const raw = dataFor(n).raw();
        const empty = DS.emptyDb(SCHEMA_EDN);
        return () => DS.withRaw(empty, raw);
      },
    },
    {
      name: 'retract-5',
      n,
      dataloom: () => {
        const db0 = dataFor(n).dlDb();
        const eids = retractOrder(n);
        return () => {
          let db = db0;
          for (const e of eids) db = db.with([[RETRACT_ENTITY, e]]).dbAfter;
          return db;
        };
      },
      peer: () => {
        const db0 = dataFor(n).dsDb();
        const eids = retractOrder(n);
        const op = DS.dsKeyword('db.fn/retractEntity');
        return () => {
          let db = db0;
          for (const e of eids) db = DS.ds.db_with(db, [[op, e]]);
          return db;
        };
      },
    },
    {
      name: 'init',
      n,
      dataloom: async () => {
        const { initDb } = await dataloomCore();
        const datoms = initDatoms(n).map(([e, a, v]) => new Datom(e, a, v as never, TX0, true));
        return () => initDb(datoms);
      },
      peer: () => {
        const datoms = initDatoms(n).map(([e, a, v]) => [e, DS.dsKeyword(a.fqn), toRawValue(v)]);
        return () => DS.ds.init_db(datoms);
      },
    },
  ];
}

/** DataScript: `(->> (d/datoms db :aevt :name) (map :e) (shuffle))`, seeded. */
const retractOrders = new Map<number, number[]>();
function retractOrder(n: number): number[] {
  let o = retractOrders.get(n);
  if (!o) {
    o = shuffle(mulberry32(n), DS.aevtEids(dataFor(n).dsDb(), 'name'));
    retractOrders.set(n, o);
  }
  return o;
}

/** DataScript's init bench: one datom per `[k v]` of each person (`:alias` as one vector value). */
function initDatoms(n: number): [number, Keyword, unknown][] {
  const out: [number, Keyword, unknown][] = [];
  for (const e of dataFor(n).entities) {
    const id = Number.parseInt(e.get(K.id) as string, 10);
    for (const [k, v] of e) if (k !== K.id) out.push([id, k, v]);
  }
  return out;
}

function toRawValue(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? DS.toCljs(v) : v;
}

// Pull and rules -----------------------------------------------------------------------------------

const PULLS: [name: string, pattern: string][] = [
  ['pull-one', '[:name {:follows ...}]'],
  ['pull-many', '[:db/id :last-name :alias :sex :age :salary {:follows ...}]'],
  ['pull-wildcard', '[* {:follows ...}]'],
];

const pullTx = lazy(() => wideTx(4, 5));
const pullDb = {
  dl: lazy(() => createDb(SCHEMA_EDN).with(pullTx()).dbAfter),
  ds: lazy(() => DS.withRaw(DS.emptyDb(SCHEMA_EDN), DS.rawEntities(pullTx()))),
};

function pullRows(): RowSpec[] {
  return PULLS.map(([name, pattern]) => ({
    name,
    n: pullTx().length,
    dataloom: async () => {
      const { pull } = await dataloomCore();
      const db = pullDb.dl();
      return () => pull(db, pattern, 1);
    },
    peer: () => {
      const db = pullDb.ds();
      const query = `[:find (pull ?e ${pattern}) . :in $ ?e]`;
      return () => DS.rawQ(query, db, 1);
    },
  }));
}

const RULES_QUERY = '[:find ?e ?e2 :in $ % :where (follows ?e ?e2)]';
const RULES = '[[(follows ?x ?y) [?x :follows ?y]] [(follows ?x ?y) [?x :follows ?t] (follows ?t ?y)]]';

function rulesRows(): RowSpec[] {
  const shapes: [string, () => Map<Keyword, unknown>[]][] = [
    ['rules-wide-3x3', () => wideTx(3, 3)],
    ['rules-wide-5x3', () => wideTx(5, 3)],
    ['rules-wide-7x3', () => wideTx(7, 3)],
    ['rules-wide-4x6', () => wideTx(4, 6)],
    ['rules-long-10x3', () => longTx(10, 3)],
    ['rules-long-30x3', () => longTx(30, 3)],
    ['rules-long-30x5', () => longTx(30, 5)],
  ];
  return shapes.map(([name, make]) => {
    const tx = lazy(make);
    return {
      name,
      n: entityCount(name),
      dataloom: async () => {
        const q = await dataloomQ();
        const db = createDb(SCHEMA_EDN).with(tx()).dbAfter;
        const rules = parseEdn(RULES);
        return () => q(RULES_QUERY, db, rules);
      },
      peer: () => {
        const db = DS.withRaw(DS.emptyDb(SCHEMA_EDN), DS.rawEntities(tx()));
        const rules = DS.toCljs(parseEdn(RULES));
        return () => DS.rawQ(RULES_QUERY, db, rules);
      },
      check: sameSize,
    };
  });
}

/** Entities in a wide (sum of width^i) or long (width × (depth+1)) db, from the row name. */
function entityCount(name: string): number {
  const [depth, width] = name.split('-').at(-1)!.split('x').map(Number) as [number, number];
  if (name.startsWith('rules-wide')) {
    let total = 0;
    for (let i = 0; i <= depth; i++) total += width ** i;
    return total;
  }
  return width * (depth + 1);
}

export function rows(opts: SuiteOptions): RowSpec[] {
  const out: RowSpec[] = [];
  for (const n of opts.sizes) out.push(...queryRows(n));
  out.push(...pullRows(), ...rulesRows());
  for (const n of opts.sizes) out.push(...txRows(n));
  return out;
}
