/**
 * The seed scenario of issue 3: the Chicago outfit through the public API (`createConn`).
 */
import { describe, expect, it } from 'vitest';
import { q } from '@dataloom/query';
import type { Diff } from '@dataloom/core';
import { createConn } from '@dataloom/dataflow';
import * as chic from '../../examples/chicago/scenario.js';
import { runChicago } from '../../examples/chicago/index.js';

const rowsOf = (x: unknown) => [...(x as Iterable<unknown[]>)].map((r) => [...r]).sort((a, b) => String(a).localeCompare(String(b)));

function setup() {
  const conn = createConn(chic.schema);
  conn.transact(chic.initialData);
  const territory = conn.register('chic/territory-earnings', chic.territoryEarnings);
  const sub = conn.register('chic/sub-earnings', chic.subEarnings, chic.rules);
  const total = conn.register('chic/thug-total-earnings', chic.thugTotalEarnings);
  const rats = conn.register('chic/rats', chic.rats);
  return { conn, territory, sub, total, rats };
}

describe('Chicago outfit (issue 3 seed scenario)', () => {
  it('initial results: east 1600 / west 1720, thug totals', () => {
    const { conn, territory, sub, total } = setup();
    expect(rowsOf(territory.result())).toEqual([
      ['east', 1600],
      ['west', 1720],
    ]);
    expect(rowsOf(total.result()).map((r) => r[2])).toEqual(
      rowsOf(total.result()).map((r) => ({ alfredo: 1720, bernado: 720, carlo: 120, cristiano: 100, aurora: 1600, berta: 700, carla: 125, corinna: 125 })[r[1] as string]),
    );
    expect(new Map(rowsOf(total.result()).map((r) => [r[1], r[2]]))).toEqual(
      new Map<unknown, unknown>([
        ['alfredo', 1720],
        ['aurora', 1600],
        ['bernado', 720],
        ['berta', 700],
        ['carla', 125],
        ['carlo', 120],
        ['corinna', 125],
        ['cristiano', 100],
      ]),
    );
    // Same as the one-shot engine on the same database.
    expect(rowsOf(territory.result())).toEqual(rowsOf(q(chic.territoryEarnings, conn.db())));
    expect(rowsOf(sub.result())).toEqual(rowsOf(q(chic.subEarnings, conn.db(), chic.rules)));
  });

  it('changing an earning emits matching -old/+new pairs, consistent per transaction', () => {
    const { conn, territory, total } = setup();
    const got: Diff[][] = [];
    territory.subscribe((d) => got.push(d));
    const totals: Diff[][] = [];
    total.subscribe((d) => totals.push(d));
    const report = conn.transact([
      [':db/retract', 10, 'thug/earnings', 125],
      [':db/add', 10, 'thug/earnings', 550],
    ]);
    const tx = report.dbAfter.maxTx;
    expect(got).toHaveLength(1);
    expect(got[0]!.map(([r, t, m]) => [...(r as unknown[]), t, m]).sort()).toEqual([
      ['east', 1600, tx, -1],
      ['east', 2025, tx, 1],
    ]);
    expect(totals).toHaveLength(1);
    expect(totals[0]!.map(([r, , m]) => [...(r as unknown[]), m]).sort()).toEqual(
      [
        [10, 'corinna', 125, -1],
        [10, 'corinna', 550, 1],
        [7, 'aurora', 1600, -1],
        [7, 'aurora', 2025, 1],
        [8, 'berta', 700, -1],
        [8, 'berta', 1125, 1],
      ].sort(),
    );
  });

  it('a transaction that asserts and retracts the same datom emits nothing', () => {
    const { conn, territory } = setup();
    const got: Diff[][] = [];
    territory.subscribe((d) => got.push(d));
    conn.transact([[':db/add', 10, 'thug/earnings', 125]]); // already there: no datom
    conn.transact([
      [':db/retract', 10, 'thug/earnings', 125],
      [':db/add', 10, 'thug/earnings', 125],
    ]);
    expect(got).toEqual([]);
  });

  it('business rules might-rat / might-squeak cascade deterministically with a seed', () => {
    const lines: string[] = [];
    const { conn, views } = runChicago(42, (l) => lines.push(l));
    const ratNames = rowsOf(views.rats.result()).map((r) => r[1]);
    // Every rat earns 1 and the results agree with one-shot queries after the cascade.
    for (const [t] of rowsOf(views.rats.result())) expect(conn.db().value(t as number, 'thug/earnings')).toBe(1);
    expect(rowsOf(views.sub.result())).toEqual(rowsOf(q(chic.subEarnings, conn.db(), chic.rules)));
    expect(rowsOf(views.territory.result())).toEqual(rowsOf(q(chic.territoryEarnings, conn.db())));
    expect(ratNames.length).toBeGreaterThan(0);
    // Same seed, same story.
    const again: string[] = [];
    runChicago(42, (l) => again.push(l));
    expect(again).toEqual(lines);
  });

  it('a runaway business rule fails with dataflow/runaway-rules', () => {
    const conn = createConn(chic.schema, { maxCascade: 10 });
    conn.transact(chic.initialData);
    const bump = (diffs: Diff[], ctx: { transact: (tx: unknown[]) => unknown }) => {
      for (const [row, , m] of diffs) if (m > 0) ctx.transact([[':db/add', (row as number[])[0], 'thug/earnings', (row as number[])[1]! + 1]]);
    };
    // Its initial rows already start the loop.
    expect(() => conn.businessRule('bump', '[:find ?t ?e :where [?t :thug/name "carlo"] [?t :thug/earnings ?e]]', [], bump)).toThrowError(
      expect.objectContaining({ code: 'dataflow/runaway-rules' }),
    );
    // A bounded rule settles: cap earnings at 130.
    const conn2 = createConn(chic.schema, { maxCascade: 50 });
    conn2.transact(chic.initialData);
    conn2.businessRule('cap', '[:find ?t ?e :where [?t :thug/name "carlo"] [?t :thug/earnings ?e] [(< ?e 130)]]', [], bump);
    expect(conn2.db().value(5, 'thug/earnings')).toBe(130);
  });
});
