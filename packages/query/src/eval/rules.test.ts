import { describe, expect, it } from 'vitest';
import { createDb } from '@dataloom/core';
import { qWithStats } from '../q.js';

const RULES = `[[(follows ?x ?y) [?x :follows ?y]]
                [(follows ?x ?y) [?x :follows ?t] (follows ?t ?y)]]`;
const SCHEMA = '{:follows {:db/valueType :db.type/ref}}';

function chain(n: number, cycle = false) {
  const tx: unknown[] = [];
  for (let i = 1; i < n; i++) tx.push(`{:db/id ${i} :follows ${i + 1}}`);
  tx.push(cycle ? `{:db/id ${n} :follows 1}` : `{:db/id ${n} :name "end"}`);
  return createDb(SCHEMA).with('[' + tx.join(' ') + ']').dbAfter;
}

const totalAnswers = (s: { answers: number }[]) => s.reduce((a, t) => a + t.answers, 0);

describe('rules are evaluated on demand', () => {
  it('a call with a bound argument derives only what is reachable from it', () => {
    const db = chain(1000);
    const { result, rules } = qWithStats('[:find ?y :in $ % :where (follows 990 ?y)]', db, RULES);
    expect((result as Set<unknown>).size).toBe(10);
    // The full closure has ~500k pairs; the demand-driven tables hold the 10 suffixes' answers.
    expect(totalAnswers(rules)).toBeLessThan(100);
  });

  it('bound through a join, the demand follows the bindings', () => {
    const db = chain(1000);
    const { result, rules } = qWithStats('[:find ?y :in $ % :where [?x :follows 996] (follows ?x ?y)]', db, RULES);
    expect([...(result as Set<unknown[]>)].map((r) => r[0] as number).sort((a, b) => a - b)).toEqual([996, 997, 998, 999, 1000]);
    expect(totalAnswers(rules)).toBeLessThan(30);
  });

  it('terminates on cyclic data with set semantics', () => {
    const db = chain(300, true);
    const { result } = qWithStats('[:find ?y :in $ % :where (follows 1 ?y)]', db, RULES);
    expect((result as Set<unknown>).size).toBe(300);
    const all = qWithStats('[:find ?x ?y :in $ % :where (follows ?x ?y)]', chain(40, true), RULES).result as Set<unknown>;
    expect(all.size).toBe(40 * 40);
  });

  it('mutual recursion over a cycle terminates (DataScript loops forever here)', () => {
    const rules = `[[(even ?a ?b) [?a :follows ?x] (odd ?x ?b)]
                    [(odd ?a ?b) [?a :follows ?b]]
                    [(odd ?a ?b) [?a :follows ?x] (even ?x ?b)]]`;
    const { result } = qWithStats('[:find ?b :in $ % :where (even 1 ?b)]', chain(5, true), rules);
    // 5-cycle: an even number of hops reaches every node.
    expect((result as Set<unknown>).size).toBe(5);
  });
});
