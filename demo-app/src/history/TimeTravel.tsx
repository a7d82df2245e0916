import { useClient } from '@dataloom/react';
import { useEffect, useState } from 'react';
import type { DemoClient } from '../engine.js';

const TITLES = '[:find ?t :where [?e :todo/title ?t]]';

/**
 * Time travel over the datom history (Datomic-style, which DataScript cannot do): pick a past
 * transaction and see the todo titles as of then (`client.asOf(tx).q(…)`).
 */
export function TimeTravel() {
  const client = useClient<DemoClient>();
  const [txs, setTxs] = useState<string[] | null>(null);
  const [at, setAt] = useState(0);
  const [shown, setShown] = useState<{ at: number; titles: string[] } | null>(null);

  const load = async () => {
    const h = await client.history();
    const list = [...new Set(h.map((d) => d[3]))].sort();
    setTxs(list);
    setAt(list.length - 1);
  };

  useEffect(() => {
    if (!txs || txs.length === 0) return;
    let live = true;
    void client
      .asOf(txs[at]!)
      .q(TITLES)
      .then((r) => live && setShown({ at, titles: [...(r as Set<[string]>)].map((x) => x[0]).sort() }));
    return () => {
      live = false;
    };
  }, [client, txs, at]);

  return (
    <section className="card" data-testid="history">
      <h2>Time travel</h2>
      <button data-testid="history-load" onClick={() => void load()}>
        {txs ? 'Reload history' : 'Load history'}
      </button>
      {txs && txs.length > 0 && (
        <>
          <p>
            <input
              type="range"
              data-testid="history-slider"
              min={0}
              max={txs.length - 1}
              value={at}
              onChange={(e) => setAt(Number(e.target.value))}
            />{' '}
            transaction {at + 1} of {txs.length} <code className="muted">{txs[at]}</code>
          </p>
          {shown && (
            <p data-testid="history-titles" data-at={shown.at}>
              Todos then: {shown.titles.join(', ') || '—'}
            </p>
          )}
        </>
      )}
    </section>
  );
}
