import { useQuery, useQueryState, useTransact, type Row } from '@dataloom/react';
import { useMemo, useState } from 'react';
import { seedTx } from './data.js';
import { RATS, RULES, TERRITORY_EARNINGS, THUG_EARNINGS, TOTAL_EARNINGS } from './queries.js';

function byFirst(rows: readonly Row[]): Array<[string, number]> {
  return rows.map((r) => [String(r[0]), Number(r[1])] as [string, number]).sort((a, b) => a[0].localeCompare(b[0]));
}

/**
 * The "Chicago outfit" live dashboard: an aggregate and a recursive aggregate that update in place
 * when any client changes an earning, without re-running the queries.
 */
export function Dashboard() {
  const territories = useQuery(TERRITORY_EARNINGS);
  const totals = useQuery(TOTAL_EARNINGS, RULES);
  const { rows: own, loading } = useQueryState(THUG_EARNINGS);
  const rats = useQuery(RATS);
  const transact = useTransact();
  const ownByName = useMemo(() => new Map(byFirst(own)), [own]);
  const ratNames = useMemo(() => new Set(rats.map((r) => String(r[0]))), [rats]);
  const [error, setError] = useState<string | null>(null);
  // Compare-and-set: the server refuses a raise computed from a stale value (sync/cas-failed), so two
  // people raising at once never silently lose one raise; the refused one rolls back and says so.
  const bump = (name: string, by: number) => {
    const old = ownByName.get(name) ?? 0;
    transact([[':db/cas', [':thug/name', name], ':thug/earnings', old, old + by]]).then(
      () => setError(null),
      (e: unknown) => setError(String((e as Error).message ?? e)),
    );
  };
  const toggleRat = (name: string) =>
    void transact([{ ':db/id': [':thug/name', name], ':thug/rat?': !ratNames.has(name) }]);

  return (
    <section className="card" data-testid="chicago">
      <h2>Chicago outfit — live dashboard</h2>
      {!loading && own.length === 0 && (
        <button data-testid="chicago-seed" onClick={() => void transact(seedTx())}>
          Load the Chicago outfit
        </button>
      )}
      <div className="columns">
        <table data-testid="territory-earnings">
          <caption>Earnings per territory</caption>
          <tbody>
            {byFirst(territories).map(([t, sum]) => (
              <tr key={t} data-territory={t}>
                <th>{t}</th>
                <td>{sum}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table data-testid="total-earnings">
          <caption>Own + all subordinates' earnings</caption>
          <tbody>
            {byFirst(totals).map(([name, sum]) => (
              <tr key={name} data-thug={name} className={ratNames.has(name) ? 'rat' : ''}>
                <th>{name}</th>
                <td>{sum}</td>
                <td>
                  <button aria-label={`raise ${name}`} onClick={() => bump(name, 100)}>+100</button>
                  <button aria-label={`cut ${name}`} onClick={() => bump(name, -100)}>−100</button>
                  <button aria-label={`rat ${name}`} onClick={() => toggleRat(name)}>{ratNames.has(name) ? 'un-rat' : 'rat'}</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {error && <p className="error" data-testid="chicago-error">{error}</p>}
      <p data-testid="rats">Rats: {[...ratNames].sort().join(', ') || 'none'}</p>
    </section>
  );
}
