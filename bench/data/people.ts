/**
 * DataScript's benchmark data, rebuilt faithfully from `bench/datascript/bench/bench.cljc` and
 * `bench/datascript/bench/datascript.cljc` in the DataScript repository, with a seeded PRNG
 * instead of `rand`:
 *
 * - `randomMan()`: `:db/id` a string tempid (`"1"`, `"2"`, …), `:name` from 8 first names,
 *   `:last-name` from 6, `:full-name` "name last-name", `:alias` 0–9 picks from 11 pen names
 *   (cardinality many), `:sex` `:male`/`:female`, `:age` 0–99, `:salary` 0–99 999.
 * - `people(n)`: the first n men, shuffled (DataScript's `*people20k` is `(shuffle (take 20000 people))`).
 * - `wideDb(depth, width)`: a `:follows` tree — node `id` follows `id*width + i` for i < width;
 *   inner nodes carry `:id id` (unique identity); string tempids, as in DataScript's bench.
 * - `longDb(depth, width)`: `width` chains of `depth` `:follows` links, numeric ids from 1.
 *
 * Entities are produced in our EDN-in-JS representation (`Map` with `Keyword` keys, the tempid
 * under `:db/id`), so both Dataloom and (through the oracle's converter) DataScript read the very
 * same data.
 */
import { type Keyword, kw } from '@dataloom/core';
import { mulberry32, randInt, randNth, type Rng, shuffle } from './rng.js';

/** DataScript bench schema: `:id` unique identity, `:follows` ref many, `:alias` many. */
export const SCHEMA_EDN =
  '{:id {:db/unique :db.unique/identity} :follows {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many} :alias {:db/cardinality :db.cardinality/many}}';

const FIRST = ['Ivan', 'Petr', 'Sergei', 'Oleg', 'Yuri', 'Dmitry', 'Fedor', 'Denis'];
const LAST = ['Ivanov', 'Petrov', 'Sidorov', 'Kovalev', 'Kuznetsov', 'Voronoi'];
const ALIASES = [
  'A. C. Q. W.', 'A. J. Finn', 'A.A. Fair', 'Aapeli', 'Aaron Wolfe', 'Abigail Van Buren',
  'Jeanne Phillips', 'Abram Tertz', 'Abu Nuwas', 'Acton Bell', 'Adunis',
];

export const K = {
  id: kw('db/id'),
  uid: kw('id'),
  name: kw('name'),
  lastName: kw('last-name'),
  fullName: kw('full-name'),
  alias: kw('alias'),
  sex: kw('sex'),
  age: kw('age'),
  salary: kw('salary'),
  follows: kw('follows'),
  male: kw('male'),
  female: kw('female'),
} as const;

/** One person as DataScript's bench makes it. `:db/id` is a string tempid. */
export interface Person {
  id: string;
  name: string;
  lastName: string;
  fullName: string;
  alias: string[];
  sex: Keyword;
  age: number;
  salary: number;
}

/** A generator of DataScript's `random-man`s with its own counter and PRNG. */
export class PeopleGen {
  private next = 0;
  constructor(readonly rng: Rng) {}
  randomMan(): Person {
    const name = randNth(this.rng, FIRST);
    const lastName = randNth(this.rng, LAST);
    const alias: string[] = [];
    const nAlias = randInt(this.rng, 10);
    for (let i = 0; i < nAlias; i++) alias.push(randNth(this.rng, ALIASES));
    return {
      id: String(++this.next),
      name,
      lastName,
      fullName: `${name} ${lastName}`,
      alias,
      sex: randNth(this.rng, [K.male, K.female]),
      age: randInt(this.rng, 100),
      salary: randInt(this.rng, 100000),
    };
  }
}

/** Default seed (`BENCH_SEED` env overrides). */
export function benchSeed(): number {
  return Number(process.env.BENCH_SEED ?? 42);
}

/** `(shuffle (take n people))`. */
export function people(n: number, seed = benchSeed()): Person[] {
  const gen = new PeopleGen(mulberry32(seed));
  const out: Person[] = [];
  for (let i = 0; i < n; i++) out.push(gen.randomMan());
  return shuffle(mulberry32(seed ^ 0x5bd1e995), out);
}

/** A person as a transaction entity map (our representation). */
export function personEntity(p: Person): Map<Keyword, unknown> {
  return new Map<Keyword, unknown>([
    [K.id, p.id],
    [K.name, p.name],
    [K.lastName, p.lastName],
    [K.fullName, p.fullName],
    [K.alias, p.alias],
    [K.sex, p.sex],
    [K.age, p.age],
    [K.salary, p.salary],
  ]);
}

/** DataScript's `wide-db` transaction data: a `:follows` tree of `depth` levels, `width` children each. */
export function wideTx(depth: number, width: number, seed = benchSeed()): Map<Keyword, unknown>[] {
  const gen = new PeopleGen(mulberry32(seed + depth * 31 + width));
  const out: Map<Keyword, unknown>[] = [];
  const walk = (id: number, d: number): void => {
    const m = personEntity(gen.randomMan());
    m.set(K.id, String(id));
    if (d > 0) {
      const children = Array.from({ length: width }, (_, i) => id * width + i);
      m.set(K.uid, id);
      m.set(K.follows, children.map(String));
      out.push(m);
      for (const c of children) walk(c, d - 1);
    } else {
      out.push(m);
    }
  };
  walk(1, depth);
  return out;
}

/** DataScript's `long-db` transaction data: `width` chains of length `depth`, ids from 1. */
export function longTx(depth: number, width: number): Map<Keyword, unknown>[] {
  const out: Map<Keyword, unknown>[] = [];
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < depth; y++) {
      const from = x * (depth + 1) + y;
      const to = from + 1;
      out.push(new Map<Keyword, unknown>([[K.id, from + 1], [K.name, 'Ivan'], [K.follows, to + 1]]));
      out.push(new Map<Keyword, unknown>([[K.id, to + 1], [K.name, 'Ivan']]));
    }
  }
  return out;
}
