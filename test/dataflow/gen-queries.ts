/**
 * Seeded random queries for the incremental property test, over the small schema of
 * {@link FUZZ_SCHEMA}: joins (star and chain), constants, predicates, function bindings, `not`,
 * `not-join`, `or`, `or-join`, `get-else`, `missing?`, recursive and mutually recursive rules (with
 * free and bound arguments, stratified negation over them), aggregates with and without `:with`.
 * (To be merged with `test/gen/queries.ts` when the query package's generator lands.)
 */

/** Refs: `:g/next` (one), `:g/link` (many). Scalars: `:s/n` (0..5), `:s/m` (many, 0..5), `:s/tag` (string). */
export const FUZZ_SCHEMA = {
  'g/next': { ':db/valueType': ':db.type/ref' },
  'g/link': { ':db/valueType': ':db.type/ref', ':db/cardinality': ':db.cardinality/many' },
  's/m': { ':db/cardinality': ':db.cardinality/many' },
};

/** A random variant of {@link FUZZ_SCHEMA}: cardinalities of `:g/next`, `:s/tag` and `:s/n` vary. */
export function genSchema(rnd: () => number): Record<string, Record<string, string>> {
  const many = { ':db/cardinality': ':db.cardinality/many' };
  return {
    'g/next': { ':db/valueType': ':db.type/ref', ...(rnd() < 0.3 ? many : {}) },
    'g/link': { ':db/valueType': ':db.type/ref', ...many },
    's/m': many,
    ...(rnd() < 0.3 ? { 's/tag': many } : {}),
    ...(rnd() < 0.2 ? { 's/n': many } : {}),
  };
}

export const REFS = [':g/next', ':g/link'];
export const NUMS = [':s/n', ':s/m'];
export const TAGS = ['a', 'b', 'c'];

export interface GenQuery {
  readonly text: string;
  readonly inputs: unknown[];
  /** Whether results may hold floats (compared with a tolerance). */
  readonly floats: boolean;
  /**
   * Compare vectors inside rows as multisets: `(max n ?x)` is ascending in DataScript 1.8.1 (this
   * engine) but descending in `@dataloom/query`'s one-shot `q` at the time of writing.
   */
  readonly sortVectors?: boolean;
}

const REACH = (r: string) => `[[(reach ?a ?b) [?a ${r} ?b]]
  [(reach ?a ?b) [?a ${r} ?x] (reach ?x ?b)]]`;

const REACH2 = `[[(reach ?a ?b) [?a :g/next ?b]]
  [(reach ?a ?b) [?a :g/link ?b]]
  [(reach ?a ?b) (reach ?a ?x) (reach ?x ?b)]]`;

/** Negation and get-else inside recursion (non-monotone inputs: recomputation path). */
const REACH_NOT = (r: string, tag: string) => `[[(reach ?a ?b) [?a ${r} ?b] (not [?b :s/tag "${tag}"])]
  [(reach ?a ?b) [?a ${r} ?x] (not [?x :s/tag "${tag}"]) (reach ?x ?b)]]`;

/** `or` inside a recursive rule, and bounded path lengths through function calls. */
const REACH_OR = `[[(reach ?a ?b) (or [?a :g/next ?b] [?a :g/link ?b])]
  [(reach ?a ?b) (or-join [?a ?x] [?a :g/next ?x] [?a :g/link ?x]) (reach ?x ?b)]]`;
const HOPS = (r: string) => `[[(hops ?a ?b ?n) [?a ${r} ?b] [(ground 1) ?n]]
  [(hops ?a ?b ?n) [?a ${r} ?x] (hops ?x ?b ?m) [(inc ?m) ?n] [(< ?n 4)]]]`;

const EVEN_ODD = (r: string) => `[[(odd ?a ?b) [?a ${r} ?b]]
  [(odd ?a ?b) [?a ${r} ?x] (even ?x ?b)]
  [(even ?a ?b) [?a ${r} ?x] (odd ?x ?b)]]`;

export function genQuery(rnd: () => number, maxEid: number): GenQuery {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const R = pick(REFS);
  const N = pick(NUMS);
  const N2 = pick(NUMS);
  const c = int(0, 5);
  const e = int(1, maxEid);
  const aggs = ['count', 'sum', 'min', 'max', 'count-distinct', 'median', 'avg', 'variance', 'stddev', 'distinct', '(max 2)', '(min 2)'];
  const templates: Array<() => GenQuery> = [
    () => ({ text: `[:find ?e ?v :where [?e ${N} ?v]]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e ?x ?y :where [?e ${N} ?x] [?e :s/tag ?y]]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e ?y :where [?e ${R} ?x] [?x ${N} ?y]]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?a ?c :where [?a ${R} ?b] [?b ${pick(REFS)} ?c]]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e :where [?e ${N} ${c}]]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e ?v :where [?e ${N} ?v] [(> ?v ${c})]]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e ?w :where [?e ${N} ?v] [(* ?v 2) ?w] [(< ?w 7)]]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e :where [?e ${N} ?v] (not [?e ${R} ?x])]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e ?v :where [?e ${N} ?v] (not [?e ${R} ?x] [?x ${N2} ${c}])]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e :where [?e :s/tag _] (not-join [?e] [?e ${R} ?x] [?x :s/tag "${pick(TAGS)}"])]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e :where (or [?e ${N} ${c}] [?e :s/tag "${pick(TAGS)}"])]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e ?v :where [?e ${N} ?v] (or-join [?e ?v] [?e ${R} ?v] (and [?e :s/tag ?t] [(> ?v ${c})]))]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e ?v :where [?e ${N} ?v] (or [(< ?v 2)] [(> ?v 3)])]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e ?v :where [?e :s/tag _] [(get-else $ ?e :s/n -1) ?v]]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e :where [?e :s/tag _] [(missing? $ ?e ${R})]]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?a ?b :in $ % :where (reach ?a ?b)]`, inputs: [REACH(R)], floats: false }),
    () => ({ text: `[:find ?b :in $ % ?a :where (reach ?a ?b)]`, inputs: [REACH(R), e], floats: false }),
    () => ({ text: `[:find ?a ?b :in $ % :where (reach ?a ?b)]`, inputs: [REACH2], floats: false }),
    () => ({ text: `[:find ?a ?b :in $ % :where [?a :s/tag "${pick(TAGS)}"] (odd ?a ?b)]`, inputs: [EVEN_ODD(R)], floats: false }),
    () => ({ text: `[:find ?a :in $ % :where [?a :s/tag _] (not (reach ?a ?a))]`, inputs: [REACH(R)], floats: false }),
    () => ({ text: `[:find ?a (count ?b) :in $ % :where (reach ?a ?b)]`, inputs: [REACH(R)], floats: false }),
    () => ({ text: `[:find ?a ?b :in $ % :where (reach ?a ?b)]`, inputs: [REACH_NOT(R, pick(TAGS))], floats: false }),
    () => ({ text: `[:find ?a ?b :in $ % :where (reach ?a ?b)]`, inputs: [REACH_OR], floats: false }),
    () => ({ text: `[:find ?a ?b ?n :in $ % :where (hops ?a ?b ?n)]`, inputs: [HOPS(R)], floats: false }),
    () => ({ text: `[:find ?b ?n :in $ % ?a :where (hops ?a ?b ?n)]`, inputs: [HOPS(R), e], floats: false }),
    () => ({ text: `[:find ?a (sum ?v) :with ?b :in $ % :where (reach ?a ?b) [?b ${N} ?v]]`, inputs: [REACH(R)], floats: false }),
    () => {
      const agg = pick(aggs);
      const fn = agg.startsWith('(') ? agg.slice(1, -1) : agg;
      const withE = rnd() < 0.5;
      return {
        text: `[:find ?g (${fn} ?v) ${withE ? ':with ?e' : ''} :where [?e :s/tag ?g] [?e ${N} ?v]]`,
        inputs: [],
        floats: true,
        sortVectors: agg.startsWith('('),
      };
    },
    () => ({ text: `[:find (count ?e) . :where [?e ${N} ?v]]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?a ?v :where [?e :s/tag "${pick(TAGS)}"] [?e ?a ?v]]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e ?a :where [?e ?a ${c}]]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e :where [?e] (not [?e :s/tag _])]`, inputs: [], floats: false }),
    () => ({ text: `[:find [?v ...] :where [?e ${N} ?v]]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?v :with ?e :where [?e ${N} ?v]]`, inputs: [], floats: false }),
    () => ({ text: `[:find ?e ?v :in $ [?v ...] :where [?e ${N} ?v]]`, inputs: [[c, (c + 1) % 6]], floats: false }),
    () => ({ text: `[:find ?x :in $ ?e :where [?e ${R} ?x]]`, inputs: [e], floats: false }),
  ];
  return pick(templates)();
}

/** A random transaction over entities 1..maxEid: asserts, retracts, retractEntity; refs make chains and cycles. */
export function genFuzzTx(rnd: () => number, maxEid: number, current: (e: number, a: string) => unknown[]): unknown[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const tx: unknown[] = [];
  const n = int(1, 4);
  for (let i = 0; i < n; i++) {
    const e = int(1, maxEid);
    const r = rnd();
    if (r < 0.55) {
      const kind = int(0, 3);
      if (kind === 0) tx.push([':db/add', e, pick(REFS).slice(1), int(1, maxEid)]);
      else if (kind === 1) tx.push([':db/add', e, pick(NUMS).slice(1), int(0, 5)]);
      else if (kind === 2) tx.push([':db/add', e, 's/tag', pick(TAGS)]);
      else tx.push({ ':db/id': e, 's/n': int(0, 5), 's/tag': pick(TAGS), 'g/next': int(1, maxEid) });
    } else if (r < 0.9) {
      const a = pick(['g/next', 'g/link', 's/n', 's/m', 's/tag']);
      const vs = current(e, a);
      if (vs.length > 0) tx.push([':db/retract', e, a, pick(vs)]);
      else if (rnd() < 0.5) tx.push([':db/retract', e, a]);
    } else tx.push([':db/retractEntity', e]);
  }
  if (rnd() < 0.1 && tx.length > 0 && Array.isArray(tx[0]) && (tx[0] as unknown[])[0] === ':db/add') {
    // assert and retract the same datom in one transaction
    const [, e, a, v] = tx[0] as unknown[];
    tx.push([':db/retract', e, a, v]);
  }
  return tx;
}
