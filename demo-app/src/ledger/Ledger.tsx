import { useQuery, useQueryState, useTransact, type Row } from '@dataloom/react';
import { useMemo } from 'react';
import { seedTx } from './data.js';
import { RATS, RULES, TERRITORY_EARNINGS, THUG_EARNINGS, TOTAL_EARNINGS } from './queries.js';
import { useRaises } from './raises.js';

const OPEN_TASKS = '[:find (count ?e) :where [?e :todo/done false]]';

function byFirst(rows: readonly Row[]): Array<[string, number]> {
  return rows.map((r) => [String(r[0]), Number(r[1])] as [string, number]).sort((a, b) => a[0].localeCompare(b[0]));
}

const RULE_SHOWN = `[(reports-to? ?boss ?p)
 [?p :thug/boss ?boss]]
[(reports-to? ?boss ?p)
 [?m :thug/boss ?boss]
 (reports-to? ?m ?p)]`;

import { cap, money } from '../names.js';

/**
 * The team ledger: an aggregate (revenue per region) and a recursive aggregate (each person's own
 * plus all their reports' revenue) that update in place when any client changes a number, without
 * re-running the queries. Raises are compare-and-set, judged by the server: a refused one rolls
 * back and is shown next to the person, by name.
 */
export default function Ledger() {
  const territories = useQuery(TERRITORY_EARNINGS);
  const totals = useQuery(TOTAL_EARNINGS, RULES);
  const { rows: own, loading } = useQueryState(THUG_EARNINGS);
  const rats = useQuery(RATS);
  const openTasks = Number(useQuery(OPEN_TASKS)[0]?.[0] ?? 0);
  const transact = useTransact();
  const ownByName = useMemo(() => new Map(byFirst(own)), [own]);
  const ratNames = useMemo(() => new Set(rats.map((r) => String(r[0]))), [rats]);
  const { errors, setError, bump } = useRaises();
  const regions = byFirst(territories);
  const total = regions.reduce((s, [, v]) => s + v, 0);
  const max = Math.max(1, ...regions.map(([, v]) => v));
  const toggleRat = (name: string) => void transact([{ ':db/id': [':thug/name', name], ':thug/rat?': !ratNames.has(name) }]);

  return (
    <div className="screen" data-testid="chicago">
      <div className="tiles">
        <Tile label="Total revenue" value={money(total)} testid="tile-total" />
        <Tile label="People" value={String(own.length)} testid="tile-people" />
        <Tile label="Open tasks" value={String(openTasks)} testid="tile-open" />
        <Tile label="Flagged" value={String(ratNames.size)} testid="tile-flagged" />
      </div>
      {!loading && own.length === 0 && (
        <div className="card">
          <p>The ledger is empty.</p>
          <button className="primary" data-testid="chicago-seed" onClick={() => void transact(seedTx())}>
            Load sample team
          </button>
        </div>
      )}
      <div className="grid-2">
        <section className="card">
          <div className="card-head">
            <h2>Revenue per region</h2>
            <span className="pill" title="[:find ?region (sum ?earnings) :with ?t …]">sum aggregate</span>
          </div>
          <table data-testid="territory-earnings">
            <tbody>
              {regions.map(([t, sum]) => (
                <tr key={t} data-territory={t}>
                  <th>{cap(t)}</th>
                  <td className="bar-cell" aria-hidden>
                    <div className="bar" style={{ width: `${(100 * sum) / max}%` }} />
                  </td>
                  <td className="num">{money(sum)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {regions.length === 0 && <p className="empty">No revenue yet: load the sample team above.</p>}
        </section>
        <section className="card">
          <div className="card-head">
            <h2>The recursive rule</h2>
            <span className="pill">Datalog</span>
          </div>
          <pre className="code">{RULE_SHOWN}</pre>
          <p className="muted">
            A team total is the person’s own revenue plus everyone who reports to them, at any depth. The dataflow engine keeps it up to date in place:
            a raise touches a handful of rows, not the whole ledger.
          </p>
          <p className="muted">
            Flagged for review: <span data-testid="rats">{[...ratNames].sort().join(', ') || 'none'}</span>
          </p>
        </section>
      </div>
      <section className="card">
        <div className="card-head">
          <h2>People and team totals</h2>
          <span className="pill" title="own + all reports, via a recursive rule">recursive rule</span>
        </div>
        <div className="table-scroll">
          <table data-testid="total-earnings">
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col" className="num">Team total</th>
                <th scope="col" className="num hide-phone">Own</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {byFirst(totals).map(([name, sum]) => (
                <tr key={name} data-thug={name} className={ratNames.has(name) ? 'rat' : ''}>
                  <th className="person">
                    {cap(name)} {ratNames.has(name) && <span className="pill flag">flagged</span>}
                  </th>
                  <td className="num">{money(sum)}</td>
                  <td className="num hide-phone">{money(ownByName.get(name) ?? 0)}</td>
                  <td>
                    <div className="actions">
                      <button className="small" aria-label={`raise ${name}`} onClick={() => void bump(name, ownByName.get(name) ?? 0, 100)}>
                        +100
                      </button>
                      <button
                        className="small"
                        aria-label={`cut ${name}`}
                        disabled={(ownByName.get(name) ?? 0) < 100}
                        title="revenue is never negative"
                        onClick={() => void bump(name, ownByName.get(name) ?? 0, -100)}
                      >
                        −100
                      </button>
                      <button className="small" aria-label={`flag ${name}`} aria-pressed={ratNames.has(name)} onClick={() => toggleRat(name)}>
                        {ratNames.has(name) ? 'Unflag' : 'Flag'}
                      </button>
                    </div>
                    {errors.has(name) && (
                      <p className="thug-error" role="alert" data-testid="thug-error" data-thug={name}>
                        {errors.get(name)}{' '}
                        <button className="link" aria-label={`dismiss ${name}`} onClick={() => setError(name, null)}>
                          ✕
                        </button>
                      </p>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {totals.length === 0 && <p className="empty">Nobody on the team yet: load the sample team above.</p>}
      </section>
    </div>
  );
}

function Tile({ label, value, testid }: { label: string; value: string; testid: string }) {
  return (
    <div className="tile" data-testid={testid}>
      <div className="label">{label}</div>
      <div className="value">{value}</div>
    </div>
  );
}
