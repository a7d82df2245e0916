/** The dashboard's live queries (maintained incrementally by the dataflow engine). */

/** Earnings per territory; `:with ?t` keeps two thugs with equal earnings from collapsing. */
export const TERRITORY_EARNINGS = `
[:find ?territory (sum ?earnings)
 :with ?t
 :where [?t :thug/territory ?ter]
        [?ter :territory/name ?territory]
        [?t :thug/earnings ?earnings]]`;

/** `subordinate?` is recursive; `self-or-sub` adds the thug himself. */
export const RULES = `
[[(subordinate? ?boss ?sub) [?sub :thug/boss ?boss]]
 [(subordinate? ?boss ?sub) [?mid :thug/boss ?boss] (subordinate? ?mid ?sub)]
 [(self-or-sub ?b ?s) [?b :thug/name] [(identity ?b) ?s]]
 [(self-or-sub ?b ?s) (subordinate? ?b ?s)]]`;

/** Each thug's own earnings plus all his (transitive) subordinates'. */
export const TOTAL_EARNINGS = `
[:find ?name (sum ?earnings)
 :with ?s
 :in $ %
 :where [?b :thug/name ?name]
        (self-or-sub ?b ?s)
        [?s :thug/earnings ?earnings]]`;

/** Thugs with their own earnings, for the controls. */
export const THUG_EARNINGS = '[:find ?name ?earnings :where [?t :thug/name ?name] [?t :thug/earnings ?earnings]]';

export const RATS = '[:find ?name :where [?t :thug/rat? true] [?t :thug/name ?name]]';
