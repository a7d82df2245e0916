import { useClient, useQuery } from '@dataloom/react';
import { useEffect, useState } from 'react';
import { THUG_EARNINGS } from '../ledger/queries.js';
import { useRaises } from '../ledger/raises.js';
import { cap, money } from '../names.js';

interface Client {
  transact(tx: unknown): Promise<{ tx: string }>;
  confirmed?(tx: string): Promise<unknown>;
  on?(fn: (e: { type: string; tx?: string; error?: { code: string; message: string } }) => void): () => void;
}

/** A refusal in words: a compare-and-set one names an entity by id, so it is said without it. */
function said(error: { code: string; message: string }): string {
  return /cas/.test(error.code) ? 'a raise started from a value someone had already changed' : error.message;
}

/**
 * Business rules the server enforces for every client: revenue is whole dollars and never
 * negative (the demo's `authorizeWrite`), and raises are compare-and-set. Each rule has a button
 * that breaks it, so the refusal — rolled back, said in words — can be seen.
 */
export default function Rules() {
  const client = useClient() as unknown as Client;
  const own = useQuery(THUG_EARNINGS);
  const people = own.map((r) => String(r[0])).sort();
  const [who, setWho] = useState('');
  const person = who || people[0] || '';
  const earnings = Number(own.find((r) => r[0] === person)?.[1] ?? 0);
  const { errors, bump } = useRaises();
  const [log, setLog] = useState<Array<{ at: Date; code: string; message: string }>>([]);
  const [outcome, setOutcome] = useState<string | null>(null);

  useEffect(
    () =>
      client.on?.((e) => {
        if (e.type === 'rejected' && e.error) setLog((l) => [{ at: new Date(), code: e.error!.code, message: said(e.error!) }, ...l].slice(0, 8));
      }),
    [client],
  );

  const negative = async () => {
    setOutcome(null);
    try {
      const r = await client.transact([{ ':db/id': [':thug/name', person], ':thug/earnings': -50 }]);
      if (!client.confirmed) return setOutcome('Written locally (this build does not sync, so no server judged it).');
      await client.confirmed(r.tx);
      setOutcome('Accepted?! The server should have refused it.');
    } catch (e) {
      const err = e as { code?: string };
      setOutcome(err.code === 'demo/earnings' ? `Refused by the server and rolled back: ${cap(person)}'s revenue cannot be −50 — it is whole dollars and never negative.` : `Refused: ${(e as Error).message}`);
    }
  };
  // Two raises from the same value: the first wins, the second's expectation is stale.
  const race = async () => {
    setOutcome(null);
    await Promise.all([bump(person, earnings, 100), bump(person, earnings, 100)]);
  };

  if (people.length === 0) return <p className="card muted">Load the sample team on the ledger first.</p>;
  return (
    <div className="screen" data-testid="rules">
      <label className="field" style={{ maxWidth: '18rem' }}>
        Person
        <select data-testid="rules-person" value={person} onChange={(e) => setWho(e.target.value)}>
          {people.map((p) => (
            <option key={p} value={p}>
              {cap(p)}
            </option>
          ))}
        </select>
      </label>
      <div className="grid-2">
        <section className="card">
          <h2>Revenue is never negative</h2>
          <p className="muted">
            The server runs <code>authorizeWrite</code> on every transaction, whoever sends it and whenever: an edit made offline is judged when it
            arrives.
          </p>
          <button className="danger" data-testid="rules-negative" onClick={() => void negative()}>
            Set {cap(person)}'s revenue to −50
          </button>
        </section>
        <section className="card">
          <h2>Raises never get lost</h2>
          <p className="muted">
            A raise is <code>:db/cas</code>: the server takes it only if the value is still the one the raise started from. Two raises from the same
            value: one wins, the other is refused and rolled back.
          </p>
          <button data-testid="rules-race" onClick={() => void race()}>
            Send two raises for {cap(person)} from {money(earnings)}
          </button>
        </section>
      </div>
      {outcome && (
        <p className="notice" data-testid="rules-outcome" role="status">
          {outcome}
        </p>
      )}
      {[...errors].map(([name, msg]) => (
        <p key={name} className="notice" data-testid="thug-error" data-thug={name} role="alert">
          {msg}
        </p>
      ))}
      <section className="card">
        <h2>Refusals from the server this session</h2>
        {log.length === 0 ? (
          <p className="empty">None yet.</p>
        ) : (
          <ul className="timeline" data-testid="rules-log">
            {log.map((l, i) => (
              <li key={i} data-testid="rules-refusal">
                <span className="muted">{l.at.toLocaleTimeString()}</span> <span className="pill lock">{l.code}</span> {l.message}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
