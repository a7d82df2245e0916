/**
 * The demo's Chicago outfit data set and queries, checked against the `datascript` npm package
 * (the oracle): the initial results of issue 3's seed scenario and an earnings change.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { THUGS } from '../../demo-app/src/ledger/data.js';
import { RULES, TERRITORY_EARNINGS, TOTAL_EARNINGS } from '../../demo-app/src/ledger/queries.js';

const require = createRequire(import.meta.url);
const d = require('datascript');

/** datascript's JS API keeps attributes as strings: `:thug/name` is `"thug/name"` there. */
const js = (q: string) => q.replace(/:([\w.*+!?-]+\/[\w.*+!?-]+)/g, (_, a: string) => JSON.stringify(a));

function seeded() {
  const conn = d.create_conn({
    'thug/name': { ':db/unique': ':db.unique/identity' },
    'territory/name': { ':db/unique': ':db.unique/identity' },
    'thug/boss': { ':db/valueType': ':db.type/ref' },
    'thug/territory': { ':db/valueType': ':db.type/ref' },
  });
  const tx: object[] = [
    { ':db/id': 'east', 'territory/name': 'east' },
    { ':db/id': 'west', 'territory/name': 'west' },
  ];
  for (const t of THUGS) {
    const m: Record<string, unknown> = { ':db/id': `thug:${t.name}`, 'thug/name': t.name };
    if (t.territory) m['thug/territory'] = t.territory;
    if (t.boss) m['thug/boss'] = `thug:${t.boss}`;
    if (t.earnings !== undefined) m['thug/earnings'] = t.earnings;
    tx.push(m);
  }
  d.transact(conn, tx);
  return conn;
}

const sorted = (rows: unknown[][]) => rows.map((r) => r.join(' ')).sort();

describe('demo Chicago outfit scenario (datascript oracle)', () => {
  it('has the initial results of issue 3', () => {
    const conn = seeded();
    expect(THUGS.length).toBe(8);
    expect(sorted(d.q(js(TERRITORY_EARNINGS), d.db(conn)))).toEqual(['east 1600', 'west 1720']);
    const totals = d.q(js(TOTAL_EARNINGS), d.db(conn), js(RULES)) as Array<[string, number]>;
    const byName = new Map(totals);
    expect(THUGS.map((t) => byName.get(t.name))).toEqual([1720, 720, 120, 100, 1600, 700, 125, 125]);
    expect(totals.map((r) => r[1]).sort((a, b) => a - b)).toEqual([100, 120, 125, 125, 700, 720, 1600, 1720]);
  });

  it('moves territory and every boss total when one earning changes', () => {
    const conn = seeded();
    d.transact(conn, [{ ':db/id': ['thug/name', 'corinna'], 'thug/earnings': 225 }]);
    expect(sorted(d.q(js(TERRITORY_EARNINGS), d.db(conn)))).toEqual(['east 1700', 'west 1720']);
    const byName = new Map(d.q(js(TOTAL_EARNINGS), d.db(conn), js(RULES)) as Array<[string, number]>);
    expect(['aurora', 'berta', 'corinna', 'alfredo'].map((n) => byName.get(n))).toEqual([1700, 800, 225, 1720]);
  });
});
