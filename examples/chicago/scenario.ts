/**
 * The "Chicago outfit" scenario, after the clj-3df Chicago example ("Dataflows you can't refuse"):
 * schema, the ten-thug data set, the registered queries and the business-rule triggers.
 * Shared by the runnable example (`index.ts`), the test and the benchmark.
 */

/** Dataloom/DataScript schema. */
export const schema = {
  'thug/boss': { ':db/valueType': ':db.type/ref' },
  'thug/territory': { ':db/valueType': ':db.type/ref' },
};

/** The ten entities of the original example (ids as in 3DF). */
export const initialData = [
  { ':db/id': 1, 'territory/name': 'west' },
  { ':db/id': 3, 'thug/name': 'alfredo', 'thug/earnings': 1000, 'thug/territory': 1 },
  { ':db/id': 4, 'thug/name': 'bernado', 'thug/boss': 3, 'thug/earnings': 500, 'thug/territory': 1 },
  { ':db/id': 5, 'thug/name': 'carlo', 'thug/boss': 4, 'thug/earnings': 120, 'thug/territory': 1 },
  { ':db/id': 6, 'thug/name': 'cristiano', 'thug/boss': 4, 'thug/earnings': 100, 'thug/territory': 1 },
  { ':db/id': 2, 'territory/name': 'east' },
  { ':db/id': 7, 'thug/name': 'aurora', 'thug/earnings': 900, 'thug/territory': 2 },
  { ':db/id': 8, 'thug/name': 'berta', 'thug/boss': 7, 'thug/earnings': 450, 'thug/territory': 2 },
  { ':db/id': 9, 'thug/name': 'carla', 'thug/boss': 8, 'thug/earnings': 125, 'thug/territory': 2 },
  { ':db/id': 10, 'thug/name': 'corinna', 'thug/boss': 8, 'thug/earnings': 125, 'thug/territory': 2 },
];

export const territoryEarnings = `
[:find ?territory (sum ?earnings)
 :with ?t
 :where
 [?terr :territory/name ?territory]
 [?t :thug/territory ?terr]
 [?t :thug/earnings ?earnings]]`;

/** read `->` as "boss of": A -> B -> C gives (subordinate? C A). */
export const rules = `
[[(subordinate? ?sub ?boss)
  [?sub :thug/boss ?boss]]
 [(subordinate? ?sub ?boss)
  [?sub :thug/boss ?middleman]
  (subordinate? ?middleman ?boss)]]`;

export const subEarnings = `
[:find ?b ?boss (sum ?earnings)
 :with ?t
 :in $ %
 :where
 [?b :thug/name ?boss]
 [?t :thug/earnings ?earnings]
 (subordinate? ?t ?b)]`;

/**
 * Uses the registered query chic/sub-earnings as a relation; the `not` keeps the branches exclusive.
 * (3DF wrote `or`; DataScript requires `or-join` when the branches use different variables, and
 * its `+` stands for 3DF's `add`.)
 */
export const thugTotalEarnings = `
[:find ?t ?thug ?earnings
 :where
 (or-join [?t ?thug ?earnings]
     (and [?t :thug/name ?thug]
          [?t :thug/earnings ?earnings]
          (not [?s :thug/boss ?t]))
     (and [?t :thug/name ?thug]
          [?t :thug/earnings ?thug-earnings]
          [chic/sub-earnings ?t ?thug ?sub-earnings]
          [(+ ?thug-earnings ?sub-earnings) ?earnings]))]`;

export const rats = `
[:find ?t ?thug
 :where
 [?t :thug/rat? true]
 [?t :thug/name ?thug]]`;

export const ratTrigger = `
[:find ?t ?thug ?earnings
 :where
 [chic/thug-total-earnings ?t ?thug ?total-earnings]
 [?t :thug/earnings ?earnings]
 (not [chic/rats ?t ?thug])
 [(< ?total-earnings 1000)]
 [(> ?total-earnings 500)]]`;

export const squeakTrigger = `
[:find ?b ?boss ?earnings
 :in $ %
 :where
 [?b :thug/name ?boss]
 [?b :thug/earnings ?earnings]
 (not [chic/rats ?b ?boss])
 [?s :thug/name ?sub]
 (subordinate? ?s ?b)
 [chic/rats ?s ?sub]]`;

/** mulberry32: a small seeded PRNG (the example's "randomness" is replayable). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
