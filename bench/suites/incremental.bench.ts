/**
 * The incremental suite (issue 3): the cost of keeping a registered query up to date after a
 * one-datom transaction, Dataloom's dataflow engine (`conn.transact`, which includes the
 * transaction itself) against DataScript doing what posh / re-frame apps do today: `db-with` the
 * same datom, then re-run the query.
 *
 * | row            | query                                                                      | change per call        |
 * |----------------|----------------------------------------------------------------------------|------------------------|
 * | q1 … q4        | DataScript's bench star joins on `[?e :name "Ivan"]`                        | a name / an age        |
 * | qpred1         | `[?e :salary ?s] [(> ?s 50000)]`                                            | a salary               |
 * | agg-group      | `[:find ?a (count ?e) (avg ?s) :where [?e :age ?a] [?e :salary ?s]]`        | a salary               |
 * | with-sum       | `[:find ?n (sum ?s) :with ?e :where [?e :name ?n] [?e :salary ?s]]`         | a salary               |
 * | follows-2hop   | `[?e :name "Ivan"] [?e :follows ?f] [?f :follows ?g]` (2 random follows each) | a follows edge         |
 * | tc-wide-DxW    | transitive `follows` over DataScript's `wide-db` (tree)                    | add/remove a leaf edge |
 * | tc-long-DxW    | transitive `follows` over DataScript's `long-db` (chains)                  | add/remove a tail edge |
 * | chic-territory | Chicago `chic/territory-earnings`, n thugs (4-ary boss trees, 10 territories) | an earning           |
 * | chic-sub       | Chicago `chic/sub-earnings` (recursive `subordinate?`)                     | an earning             |
 * | burst-500      | 500 one-datom transactions with q1–q4 registered; the peer only `db-with`s  | names and ages         |
 * |                | them (re-running 4 queries 500 times would take minutes: a lower bound)     |                        |
 *
 * Heap bytes per registered query (measured with `--expose-gc`) are printed after the table and
 * written to `bench/results/incremental-memory.json`.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Keyword, kw, parseEdn } from '@dataloom/core';
import { createConn, type Conn } from '@dataloom/dataflow';
import type { RowSpec, SuiteOptions } from '../harness/types.js';
import { K, longTx, people, personEntity, SCHEMA_EDN, wideTx } from '../data/people.js';
import { mulberry32 } from '../data/rng.js';
import * as DS from '../peers/datascript.js';
import * as chic from '../../examples/chicago/scenario.js';
import { lazy } from '../harness/measure.js';

export const suite = 'incremental';

const ADD = kw('db/add');
const RETRACT = kw('db/retract');


// ------------------------------------------------------------------------------------------------
// Data
// ------------------------------------------------------------------------------------------------

/** People (DataScript's bench men) plus two random `:follows` each, as entity maps. */
function peopleTx(n: number, follows: boolean): Map<Keyword, unknown>[] {
  const ps = people(n).map(personEntity);
  if (follows) {
    const rnd = mulberry32(n * 7 + 1);
    for (const p of ps) p.set(K.follows, [String(1 + Math.floor(rnd() * n)), String(1 + Math.floor(rnd() * n))]);
  }
  return ps;
}

const cache = new Map<string, unknown>();
function memo<T>(key: string, f: () => T): T {
  if (!cache.has(key)) cache.set(key, f());
  return cache.get(key) as T;
}

/** Chicago scaled: n thugs in 10 territories, boss of thug k (k ≥ 10) is thug ⌊(k−10)/4⌋. */
function chicagoTx(n: number): Map<Keyword, unknown>[] {
  const rnd = mulberry32(42 + n);
  const out: Map<Keyword, unknown>[] = [];
  for (let t = 0; t < 10; t++) out.push(new Map<Keyword, unknown>([[K.id, n + 1 + t], [kw('territory/name'), `territory-${t}`]]));
  for (let k = 0; k < n; k++) {
    const m = new Map<Keyword, unknown>([
      [K.id, k + 1],
      [kw('thug/name'), `thug-${k}`],
      [kw('thug/earnings'), 1 + Math.floor(rnd() * 1000)],
      [kw('thug/territory'), n + 1 + (k % 10)],
    ]);
    if (k >= 10) m.set(kw('thug/boss'), Math.floor((k - 10) / 4) + 1);
    out.push(m);
  }
  return out;
}

const CHIC_SCHEMA = '{:thug/boss {:db/valueType :db.type/ref} :thug/territory {:db/valueType :db.type/ref}}';

// ------------------------------------------------------------------------------------------------
// Rows
// ------------------------------------------------------------------------------------------------

/** A mutation: the k-th call's one-datom transaction for a side with salt `s`. */
type Mutation = (k: number, s: number) => unknown[][];

interface IncRow {
  name: string;
  n: number;
  /** Rows with the same key share one loaded database (per side). */
  dataKey: string;
  schema: string;
  data: () => Map<Keyword, unknown>[];
  query: string;
  inputs: string[];
  mutate: Mutation;
}

const Q: Record<string, string> = {
  q1: '[:find ?e :where [?e :name "Ivan"]]',
  q2: '[:find ?e ?a :where [?e :name "Ivan"] [?e :age ?a]]',
  q3: '[:find ?e ?a :where [?e :name "Ivan"] [?e :age ?a] [?e :sex :male]]',
  q4: '[:find ?e ?l ?a :where [?e :name "Ivan"] [?e :last-name ?l] [?e :age ?a] [?e :sex :male]]',
  qpred1: '[:find ?e ?s :where [?e :salary ?s] [(> ?s 50000)]]',
  'agg-group': '[:find ?a (count ?e) (avg ?s) :where [?e :age ?a] [?e :salary ?s]]',
  'with-sum': '[:find ?n (sum ?s) :with ?e :where [?e :name ?n] [?e :salary ?s]]',
  'follows-2hop': '[:find ?e ?g :where [?e :name "Ivan"] [?e :follows ?f] [?f :follows ?g]]',
};

const TC_QUERY = '[:find ?e ?e2 :in $ % :where (follows ?e ?e2)]';
const TC_RULES = '[[(follows ?x ?y) [?x :follows ?y]] [(follows ?x ?y) [?x :follows ?t] (follows ?t ?y)]]';

/**
 * Mutations must do real work on every call: a side's k-th call touches entity `pickE(n, k, s)` and
 * writes a value that depends on the call, the side's salt `s` and how many times the entity cycle
 * wrapped (`⌊k/n⌋`), so neither a long timing loop nor a later row sharing the loaded database
 * replays a write that is already in the database (which would be a no-op transaction).
 */
const pickE = (n: number, k: number, s = 0) => 1 + ((k * 7919 + s * 104729) % n);
const vary = (n: number, k: number, s: number) => k + s * 37 + Math.floor(k / n) * 13;

let sideSeq = 0;
/** A fresh salt per timed side. */
const salt = () => ++sideSeq;

const NAMES = ['Ivan', 'Petr', 'Oleg'];
const nameMut = (n: number): Mutation => (k, s) => [[ADD, pickE(n, k, s), K.name, NAMES[vary(n, k, s) % 3]!]];
const ageMut = (n: number): Mutation => (k, s) => [[ADD, pickE(n, k, s), K.age, vary(n, k, s) % 100]];
const salaryMut = (n: number): Mutation => (k, s) => [[ADD, pickE(n, k, s), K.salary, (vary(n, k, s) * 4111) % 100000]];

function incRows(n: number): IncRow[] {
  const base = (name: string, mutate: Mutation, follows = false): IncRow => ({
    name,
    n,
    dataKey: `people-${n}-${follows}`,
    schema: SCHEMA_EDN,
    data: () => memo(`people-${n}-${follows}`, () => peopleTx(n, follows)),
    query: Q[name]!,
    inputs: [],
    mutate,
  });
  const chicRows: IncRow[] = [
    {
      name: 'chic-territory',
      n,
      dataKey: `chic-${n}`,
      schema: CHIC_SCHEMA,
      data: () => memo(`chic-${n}`, () => chicagoTx(n)),
      query: chic.territoryEarnings,
      inputs: [],
      mutate: (k, s) => [[ADD, pickE(n, k, s), kw('thug/earnings'), 1 + (vary(n, k, s) % 1000)]],
    },
    {
      name: 'chic-sub',
      n,
      dataKey: `chic-${n}`,
      schema: CHIC_SCHEMA,
      data: () => memo(`chic-${n}`, () => chicagoTx(n)),
      query: chic.subEarnings,
      inputs: [chic.rules],
      mutate: (k, s) => [[ADD, pickE(n, k, s), kw('thug/earnings'), 1 + (vary(n, k, s) % 1000)]],
    },
  ];
  return [
    base('q1', nameMut(n)),
    base('q2', ageMut(n)),
    base('q3', ageMut(n)),
    base('q4', ageMut(n)),
    base('qpred1', salaryMut(n)),
    base('agg-group', salaryMut(n)),
    base('with-sum', salaryMut(n)),
    base('follows-2hop', (k, s) => [[ADD, pickE(n, k, s), K.follows, pickE(n, vary(n, k, s) * 31 + 1)]], true),
    ...chicRows,
  ];
}

/** Recursion on DataScript's own shapes: add a follows edge at a leaf (even calls), remove it (odd). */
function tcRows(): IncRow[] {
  const shapes: [string, () => Map<Keyword, unknown>[], number][] = [
    ['tc-wide-4x6', () => wideTx(4, 6), 1555],
    ['tc-wide-7x3', () => wideTx(7, 3), 3280],
    ['tc-long-30x3', () => longTx(30, 3), 93],
    ['tc-long-30x5', () => longTx(30, 5), 155],
  ];
  return shapes.map(([name, make, count]) => ({
    name,
    n: count,
    dataKey: name,
    schema: SCHEMA_EDN,
    data: lazy(make),
    query: TC_QUERY,
    inputs: [TC_RULES],
    // Entity `count` is a leaf (wide) / a chain end (long); count+1 a fresh entity.
    mutate: (k) => [[k % 2 === 0 ? ADD : RETRACT, count, K.follows, count + 1]],
  }));
}

function loadData(r: IncRow): Map<Keyword, unknown>[] {
  return [...r.data(), ...(r.name.startsWith('tc-') ? [new Map<Keyword, unknown>([[K.id, r.n + 1], [K.name, 'Fresh']])] : [])];
}

/** One loaded connection per data set; each row registers its query alone on it. */
const conns = new Map<string, { conn: Conn; close: (() => void) | null }>();

/**
 * Rows run in order; keep only the current data set's loaded databases so earlier rows' heaps
 * (several 100k-entity databases) do not tax later rows with garbage-collection time.
 */
function dropOtherData(key: string): void {
  for (const k of [...conns.keys()]) if (k !== key) conns.delete(k);
  for (const k of [...cache.keys()]) if (k.startsWith('ds-') && k !== `ds-${key}`) cache.delete(k);
}

function dataloomSide(r: IncRow): () => () => unknown {
  return () => {
    dropOtherData(r.dataKey);
    let c = conns.get(r.dataKey);
    if (c === undefined) {
      const conn = createConn(r.schema);
      conn.transact(loadData(r));
      c = { conn, close: null };
      conns.set(r.dataKey, c);
    }
    c.close?.();
    const conn = c.conn;
    const view = conn.register(r.name, r.query, ...r.inputs.map((x) => parseEdn(x)));
    c.close = () => view.close();
    const s = salt();
    let k = 0;
    return () => {
      conn.transact(r.mutate(k++, s));
      return view;
    };
  };
}

function peerSide(r: IncRow): () => () => unknown {
  return () => {
    dropOtherData(r.dataKey);
    let db = memo(`ds-${r.dataKey}`, () => DS.withRaw(DS.emptyDb(r.schema), DS.rawEntities(loadData(r))));
    const inputs = r.inputs.map((x) => DS.toCljs(parseEdn(x)));
    const s = salt();
    let k = 0;
    return () => {
      db = DS.ds.db_with(db, DS.toCljs(r.mutate(k++, s)));
      return DS.rawQ(r.query, db, ...inputs);
    };
  };
}

function burstRow(n: number): RowSpec {
  const names = ['q1', 'q2', 'q3', 'q4'];
  const mut = (k: number, s: number) => (k % 2 === 0 ? nameMut(n)(k, s) : ageMut(n)(k, s));
  return {
    name: 'burst-500',
    n,
    dataloom: () => {
      dropOtherData('burst');
      const conn = createConn(SCHEMA_EDN);
      conn.transact(memo(`people-${n}-false`, () => peopleTx(n, false)));
      for (const q of names) conn.register(q, Q[q]!);
      const s = salt();
      let i = 0;
      return () => {
        for (let k = 0; k < 500; k++) conn.transact(mut(i++, s));
        return null;
      };
    },
    peer: () => {
      dropOtherData('burst');
      let db = DS.withRaw(DS.emptyDb(SCHEMA_EDN), DS.rawEntities(memo(`people-${n}-false`, () => peopleTx(n, false))));
      const s = salt();
      let i = 0;
      return () => {
        for (let k = 0; k < 500; k++) db = DS.ds.db_with(db, DS.toCljs(mut(i++, s)));
        return null;
      };
    },
  };
}

export function rows(opts: SuiteOptions): RowSpec[] {
  const out: RowSpec[] = [];
  for (const n of opts.sizes) {
    for (const r of incRows(n)) out.push({ name: r.name, n: r.n, dataloom: dataloomSide(r), peer: peerSide(r) });
  }
  for (const r of tcRows()) out.push({ name: r.name, n: r.n, dataloom: dataloomSide(r), peer: peerSide(r) });
  out.push(burstRow(Math.min(...opts.sizes)));
  out.push(memoryRow(opts.sizes));
  return out;
}

// ------------------------------------------------------------------------------------------------
// Heap bytes per registered query
// ------------------------------------------------------------------------------------------------

const gc = (globalThis as { gc?: () => void }).gc;
function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/** Not a timing row: measures heap per registered query and writes incremental-memory.json. */
function memoryRow(sizes: number[]): RowSpec {
  return {
    name: 'heap-per-query',
    n: Math.max(...sizes),
    dataloom: () => {
      dropOtherData('memory');
      const n = Math.max(...sizes);
      const results: { query: string; n: number; bytes: number }[] = [];
      const conn: Conn = createConn(SCHEMA_EDN);
      conn.transact(memo(`people-${n}-false`, () => peopleTx(n, false)));
      for (const name of ['q1', 'q2', 'q3', 'q4', 'qpred1', 'agg-group', 'with-sum']) {
        const before = heap();
        const v = conn.register(name, Q[name]!);
        const after = heap();
        results.push({ query: name, n, bytes: after - before });
        void v;
      }
      const cconn = createConn(CHIC_SCHEMA);
      cconn.transact(memo(`chic-${n}`, () => chicagoTx(n)));
      for (const [name, q, ins] of [
        ['chic-territory', chic.territoryEarnings, []],
        ['chic-sub', chic.subEarnings, [chic.rules]],
      ] as const) {
        const before = heap();
        cconn.register(name, q, ...ins);
        results.push({ query: name, n, bytes: heap() - before });
      }
      process.stdout.write('\nheap bytes per registered query (base relations included for the first query reading an attribute):\n');
      for (const r of results) process.stdout.write(`  ${r.query.padEnd(16)} n=${r.n}  ${(r.bytes / 1024 / 1024).toFixed(2)} MB\n`);
      const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../results');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'incremental-memory.json'), JSON.stringify(results, null, 2) + '\n');
      return () => null;
    },
    peer: () => () => null,
  };
}
