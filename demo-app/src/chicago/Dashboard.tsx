import { useClient, useQuery, useQueryState, useTransact, type Row } from '@dataloom/react';
import { useEffect, useMemo, useState } from 'react';
import { seedTx } from './data.js';
import { RATS, RULES, TERRITORY_EARNINGS, THUG_EARNINGS, TOTAL_EARNINGS } from './queries.js';

function byFirst(rows: readonly Row[]): Array<[string, number]> {
  return rows.map((r) => [String(r[0]), Number(r[1])] as [string, number]).sort((a, b) => a[0].localeCompare(b[0]));
}

/** The client's rejection events (absent on sources that do not sync). */
interface Rejections {
  on?(fn: (e: { type: string; tx?: string; error?: unknown }) => void): () => void;
}

/**
 * Raises sent but not yet judged, by transaction: kept per tab across reloads and the offline
 * switch, so a raise queued offline and refused on reconnect is still shown next to its thug.
 */
const RAISES = 'dataloom-demo:raises';
type Raises = Record<string, { name: string; by: number }>;
const raises = (): Raises => JSON.parse(sessionStorage.getItem(RAISES) ?? '{}') as Raises;
function rememberRaise(tx: string, name: string, by: number): void {
  const all = raises();
  const keys = Object.keys(all);
  if (keys.length > 50) delete all[keys[0]!];
  sessionStorage.setItem(RAISES, JSON.stringify({ ...all, [tx]: { name, by } }));
}
function takeRaise(tx: string): { name: string; by: number } | undefined {
  const all = raises();
  const r = all[tx];
  if (r) {
    delete all[tx];
    sessionStorage.setItem(RAISES, JSON.stringify(all));
  }
  return r;
}

/** A refused change, said with the thug's name rather than the entity id the server reports. */
export function refusal(name: string, by: number, e: unknown): string {
  const err = e as { code?: string; message?: string; data?: { expected?: unknown; found?: unknown } };
  const what = by > 0 ? `Raise of ${by}` : `Cut of ${-by}`;
  if (err.code === 'sync/cas-failed' || err.code === 'transact/cas-failed' || /cas/.test(err.code ?? '')) {
    const m = /expected ([^,]+), found (.+)$/.exec(err.message ?? '');
    const detail = m ? ` (you saw ${m[1]}, it was ${String(m[2]).replace(/^\[|\]$/g, '')})` : '';
    return `${what} for ${name} refused: someone changed ${name}'s earnings first${detail}. Try again.`;
  }
  if (err.code === 'demo/earnings') return `${what} for ${name} refused: earnings are never negative.`;
  return `${what} for ${name} refused: ${err.message ?? String(e)}`;
}

/**
 * The "Chicago outfit" live dashboard: an aggregate and a recursive aggregate that update in place
 * when any client changes an earning, without re-running the queries. Raises are compare-and-set,
 * judged by the server: a refused one rolls back and is shown next to the thug, by name.
 */
export function Dashboard() {
  const client = useClient() as Rejections;
  const territories = useQuery(TERRITORY_EARNINGS);
  const totals = useQuery(TOTAL_EARNINGS, RULES);
  const { rows: own, loading } = useQueryState(THUG_EARNINGS);
  const rats = useQuery(RATS);
  const transact = useTransact();
  const ownByName = useMemo(() => new Map(byFirst(own)), [own]);
  const ratNames = useMemo(() => new Set(rats.map((r) => String(r[0]))), [rats]);
  const [errors, setErrors] = useState<ReadonlyMap<string, string>>(new Map());
  const setError = (name: string, msg: string | null) =>
    setErrors((m) => {
      const next = new Map(m);
      if (msg === null) next.delete(name);
      else next.set(name, msg);
      return next;
    });
  // The server's verdict arrives later (possibly after a reload or a spell offline): a refusal
  // rolls the raise back, and is said here, by name.
  useEffect(
    () =>
      client.on?.((e) => {
        if (e.type !== 'rejected' || !e.tx) return;
        const r = takeRaise(e.tx);
        if (r) setError(r.name, refusal(r.name, r.by, e.error));
      }),
    [client],
  );
  // Compare-and-set: the server refuses a raise computed from a stale value (sync/cas-failed), so two
  // people raising at once never silently lose one raise; the refused one rolls back and says so.
  const bump = async (name: string, by: number) => {
    const old = ownByName.get(name) ?? 0;
    if (old + by < 0) return setError(name, refusal(name, by, { code: 'demo/earnings' }));
    try {
      setError(name, null);
      const r = (await transact([[':db/cas', [':thug/name', name], ':thug/earnings', old, old + by]])) as { tx?: string } | undefined;
      if (r?.tx) rememberRaise(r.tx, name, by);
    } catch (e) {
      setError(name, refusal(name, by, e));
    }
  };
  const toggleRat = (name: string) => void transact([{ ':db/id': [':thug/name', name], ':thug/rat?': !ratNames.has(name) }]);

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
                  <button aria-label={`raise ${name}`} onClick={() => void bump(name, 100)}>+100</button>
                  <button aria-label={`cut ${name}`} disabled={(ownByName.get(name) ?? 0) < 100} title="earnings are never negative" onClick={() => void bump(name, -100)}>−100</button>
                  <button aria-label={`rat ${name}`} onClick={() => toggleRat(name)}>{ratNames.has(name) ? 'un-rat' : 'rat'}</button>
                  {errors.has(name) && (
                    <p className="error thug-error" role="alert" data-testid="thug-error" data-thug={name}>
                      {errors.get(name)}{' '}
                      <button className="link" aria-label={`dismiss ${name}`} onClick={() => setError(name, null)}>✕</button>
                    </p>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p data-testid="rats">Rats: {[...ratNames].sort().join(', ') || 'none'}</p>
    </section>
  );
}
