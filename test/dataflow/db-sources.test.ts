/**
 * Other databases as sources of registered queries (see packages/dataflow/DESIGN.md "Other
 * databases as sources"): the README's example, a rule and a negation over `$2`, the diffs a view
 * gets from the other connection's transactions, a fixed database value, closing, and bad inputs.
 */
import { createConn } from '@dataloom/dataflow';
import { q } from '@dataloom/query';
import { describe, expect, it } from 'vitest';

const sorted = (r: unknown) => [...(r as Iterable<unknown[]>)].map((t) => JSON.stringify(t)).sort();

function two() {
  const conn = createConn();
  conn.transact('[{:db/id 1 :name "Ann"} {:db/id 2 :name "Bob"} {:db/id 3 :name "Cy"}]');
  const crm = createConn({ ':boss': { ':db/valueType': ':db.type/ref' } });
  crm.transact('[{:db/id 1 :vip true :boss 2} {:db/id 2 :vip false :boss 3}]');
  return { conn, crm };
}

describe('registered queries over another connection', () => {
  it('joins $ and $2 and follows the transactions of both (the README example)', () => {
    const { conn, crm } = two();
    const query = '[:find ?n :in $ $2 :where [?e :name ?n] [$2 ?e :vip true]]';
    const view = conn.register('vips', query, crm);
    const seen: unknown[] = [];
    view.subscribe((d) => seen.push(...d.map(([t, tx, w]) => [t, tx, w])));
    expect(sorted(view.result())).toEqual(['["Ann"]']);
    const r = crm.transact('[[:db/add 2 :vip true]]');
    expect(seen).toEqual([[['Bob'], r.dbAfter.maxTx, 1]]);
    conn.transact('[[:db/add 2 :name "Rob"]]');
    expect(sorted(view.result())).toEqual(['["Ann"]', '["Rob"]']);
    expect(sorted(view.result())).toEqual(sorted(q(query, conn.db(), crm.db())));
    // A listener of the registering connection hears only its own transactions.
    let heard = 0;
    conn.listen(() => heard++);
    crm.transact('[[:db/retract 1 :vip true]]');
    expect(heard).toBe(0);
    expect(sorted(view.result())).toEqual(['["Rob"]']);
  });

  it('rules, not and or over $2', () => {
    const { conn, crm } = two();
    const rules = '[[(above ?a ?b) [?a :boss ?b]] [(above ?a ?b) [?a :boss ?x] (above ?x ?b)]]';
    const query = '[:find ?n ?m :in $ $2 % :where [?e :name ?n] ($2 above ?e ?b) [?b :name ?m] ($2 not [?b :vip true])]';
    const view = conn.register('above', query, crm, rules);
    const check = () => expect(sorted(view.result())).toEqual(sorted(q(query, conn.db(), crm.db(), rules)));
    check();
    expect(sorted(view.result())).toEqual(['["Ann","Bob"]', '["Ann","Cy"]', '["Bob","Cy"]']);
    crm.transact('[[:db/add 3 :vip true]]');
    check();
    crm.transact('[[:db/retract 1 :boss 2] [:db/add 3 :boss 1]]');
    check();
    conn.transact('[[:db/retractEntity 2]]');
    check();
  });

  it('a database value as $2 is fixed; closing the view stops following', () => {
    const { conn, crm } = two();
    const fixed = conn.register('fixed', '[:find ?n :in $ $2 :where [?e :name ?n] [$2 ?e :vip true]]', crm.db());
    const live = conn.register('live', '[:find ?n :in $ $2 :where [?e :name ?n] [$2 ?e :vip true]]', crm);
    crm.transact('[[:db/add 3 :vip true]]');
    expect(sorted(fixed.result())).toEqual(['["Ann"]']);
    expect(sorted(live.result())).toEqual(['["Ann"]', '["Cy"]']);
    let calls = 0;
    live.subscribe(() => calls++);
    live.close();
    crm.transact('[[:db/add 2 :vip true]]');
    expect(calls).toBe(0);
    // Registering again reads crm as it is now.
    const again = conn.register('live', '[:find ?n :in $ $2 :where [?e :name ?n] [$2 ?e :vip true]]', crm);
    expect(sorted(again.result())).toEqual(['["Ann"]', '["Bob"]', '["Cy"]']);
  });

  it('a source that is neither a database, a connection nor a collection is a typed error', () => {
    const { conn } = two();
    expect(() => conn.register('bad', '[:find ?n :in $ $2 :where [?e :name ?n] [$2 ?e :vip true]]', 42)).toThrow(
      expect.objectContaining({ code: 'query/source', message: expect.stringContaining('$2') }),
    );
    expect(() => conn.register('bad', '[:find ?n :in $ :where [?e :name ?n] [$3 ?e :vip true]]')).toThrow(
      expect.objectContaining({ code: 'query/parse', message: expect.stringContaining('$3') }),
    );
    expect(() => conn.register('bad', '[:find (pull $2 ?e [*]) :in $ $2 :where [?e :name _]]', createConn())).toThrow(
      expect.objectContaining({ code: 'dataflow/unsupported' }),
    );
  });
});
