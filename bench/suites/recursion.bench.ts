/**
 * The recursion suite (issue 12): a recursive ancestor view over a random tree, maintained by the
 * dataflow engine, one edge change at a time.
 *
 * Data: n nodes; node k's `:node/parent` is a uniformly random earlier node (a random recursive
 * tree: depth ~ ln n, so the closure has ~ n·ln n pairs and one edge carries ~ a hundred of them).
 *
 * | view      | query                                                             |
 * |-----------|-------------------------------------------------------------------|
 * | anc       | `[:find ?x ?y :in $ % :where (anc ?x ?y)]`                         |
 * | anc-count | `[:find ?y (count ?x) :in $ % :where (anc ?x ?y)]` (count per ancestor) |
 *
 * with `(anc ?x ?y)` ← `[?x :node/parent ?y]`, and ← `[?x :node/parent ?z] (anc ?z ?y)`.
 *
 * Rows per view and n (the view registered alone on a loaded connection, subscribed):
 * - `<view>-register`: registration time (once; heap and closure size go to
 *   `bench/results/recursion-memory.json`);
 * - `<view>-delete` / `<view>-insert`: median `conn.transact` of retracting a random node's parent
 *   edge / asserting it back (each delete is followed by its insert, so the tree is the same
 *   before every pair; only the named half is in the row);
 * - `<view>-move`: median of moving a random node under another random node that is not its
 *   descendant (one `:db/add` on the card-one attribute), and back.
 *
 * Edits are timed one by one (the harness cannot time half of a call), `BENCH_TIME_MS` per kind,
 * at least 20 and at most 400 pairs. There is no peer: DataScript has no maintained views (re-running
 * the query after each edit costs a full evaluation, the `-register` peer column at n ≤ 20000).
 * Sizes: `BENCH_REC_SIZES` (default `10000,100000`).
 */
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { type Keyword, kw, parseEdn } from '@dataloom/core';
import { createConn } from '@dataloom/dataflow';
import type { Premeasured, RowSpec } from '../harness/types.js';
import { envNumber, median } from '../harness/measure.js';
import { mulberry32 } from '../data/rng.js';
import * as DS from '../peers/datascript.js';

export const suite = 'recursion';

const ADD = kw('db/add');
const RETRACT = kw('db/retract');
const PARENT = kw('node/parent');
const ID = kw('db/id');
const SCHEMA = '{:node/parent {:db/valueType :db.type/ref}}';
const RULES = '[[(anc ?x ?y) [?x :node/parent ?y]] [(anc ?x ?y) [?x :node/parent ?z] (anc ?z ?y)]]';
const VIEWS: Record<string, string> = {
  anc: '[:find ?x ?y :in $ % :where (anc ?x ?y)]',
  'anc-count': '[:find ?y (count ?x) :in $ % :where (anc ?x ?y)]',
};

/** Parent of node k (2..n) is a random earlier node; node 1 is the root. `parents[k]`, 0 for none. */
function randomTree(n: number): Int32Array {
  const rnd = mulberry32(1000 + n);
  const parents = new Int32Array(n + 1);
  for (let k = 2; k <= n; k++) parents[k] = 1 + Math.floor(rnd() * (k - 1));
  return parents;
}

function treeTx(parents: Int32Array): Map<Keyword, unknown>[] {
  const out: Map<Keyword, unknown>[] = [];
  for (let k = 1; k < parents.length; k++) {
    const m = new Map<Keyword, unknown>([[ID, k]]);
    if (parents[k]! > 0) m.set(PARENT, parents[k]);
    out.push(m);
  }
  return out;
}

const gc = (globalThis as { gc?: () => void }).gc;
function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

interface Figures {
  registerMs: number;
  heapBytes: number;
  rows: number;
  insert: number;
  delete: number;
  move: number;
}

/** Times `fn` once (ms). */
function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function run(view: string, n: number): Figures {
  const parents = randomTree(n);
  const conn = createConn(SCHEMA);
  conn.transact(treeTx(parents));
  const before = heap();
  let v!: ReturnType<typeof conn.register>;
  const registerMs = timed(() => {
    v = conn.register(view, VIEWS[view]!, parseEdn(RULES));
  });
  const heapBytes = heap() - before;
  let seen = 0;
  v.subscribe((d) => {
    seen += d.length;
  });
  const res = v.result() as { size?: number; length?: number };
  const rows = res.size ?? res.length ?? 0;
  const rnd = mulberry32(7 + n);
  const budget = envNumber('BENCH_TIME_MS', 1500);
  const node = () => 2 + Math.floor(rnd() * (n - 1));
  const ins: number[] = [];
  const del: number[] = [];
  const mov: number[] = [];
  // Warm-up (JIT), not recorded.
  for (let i = 0; i < 20; i++) {
    const x = node();
    conn.transact([[RETRACT, x, PARENT, parents[x]]]);
    conn.transact([[ADD, x, PARENT, parents[x]]]);
  }
  let t0 = performance.now();
  while (del.length < 400 && (del.length < 20 || performance.now() - t0 < budget)) {
    const x = node();
    del.push(timed(() => conn.transact([[RETRACT, x, PARENT, parents[x]]])));
    ins.push(timed(() => conn.transact([[ADD, x, PARENT, parents[x]]])));
  }
  t0 = performance.now();
  while (mov.length < 400 && (mov.length < 20 || performance.now() - t0 < budget)) {
    const x = node();
    // Any node with a smaller id is not a descendant (parents precede children).
    const to = 1 + Math.floor(rnd() * (x - 1));
    if (to === parents[x]) continue;
    mov.push(timed(() => conn.transact([[ADD, x, PARENT, to]])));
    mov.push(timed(() => conn.transact([[ADD, x, PARENT, parents[x]]])));
  }
  if (seen === 0) throw new Error('the view reported no change');
  v.close();
  return { registerMs, heapBytes, rows, insert: median(ins), delete: median(del), move: median(mov) };
}

const figures = new Map<string, Figures>();
function figuresFor(view: string, n: number): Figures {
  const key = `${view}@${n}`;
  let f = figures.get(key);
  if (f === undefined) {
    figures.clear(); // one view's state at a time
    f = run(view, n);
    figures.set(key, f);
    writeMemory(view, n, f);
  }
  return f;
}

function writeMemory(view: string, n: number, f: Figures): void {
  const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'recursion-memory.json');
  let prev: { view: string; n: number }[] = [];
  if (existsSync(path)) {
    try {
      prev = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      prev = [];
    }
  }
  const row = { view, n, registerMs: Number(f.registerMs.toFixed(1)), heapMB: Number((f.heapBytes / 1048576).toFixed(1)), resultRows: f.rows };
  const out = [...prev.filter((p) => !(p.view === view && p.n === n)), row];
  writeFileSync(path, JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(`  ${view} n=${n}: register ${row.registerMs} ms, heap ${row.heapMB} MB, ${row.resultRows} rows\n`);
}

const noPeer = (): never => {
  throw new Error('no peer');
};

export function rows(): RowSpec[] {
  const sizes = (process.env.BENCH_REC_SIZES ?? '10000,100000').split(',').map(Number).filter((x) => x > 0);
  const out: RowSpec[] = [];
  for (const n of sizes) {
    for (const view of Object.keys(VIEWS)) {
      const pre = (pick: (f: Figures) => number) => (): Premeasured => ({ premeasuredMs: pick(figuresFor(view, n)) });
      out.push({
        name: `${view}-register`,
        n,
        dataloom: pre((f) => f.registerMs),
        peer:
          n <= 20000
            ? () => {
                const db = DS.withRaw(DS.emptyDb(SCHEMA), DS.rawEntities(treeTx(randomTree(n))));
                const rules = DS.toCljs(parseEdn(RULES));
                return () => DS.rawQ(VIEWS[view]!, db, rules);
              }
            : noPeer,
      });
      out.push({ name: `${view}-insert`, n, dataloom: pre((f) => f.insert), peer: noPeer });
      out.push({ name: `${view}-delete`, n, dataloom: pre((f) => f.delete), peer: noPeer });
      out.push({ name: `${view}-move`, n, dataloom: pre((f) => f.move), peer: noPeer });
    }
  }
  return out;
}
