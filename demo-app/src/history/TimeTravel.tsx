import { useClient } from '@dataloom/react';
import { useEffect, useRef, useState } from 'react';
import type { DemoClient } from '../engine.js';
import { collapseRuns, describeHistory, type HistoryDatom, type TxStep } from './describe.js';

const TITLES = '[:find ?t :where [?e :todo/title ?t]]';

/**
 * Time travel over the datom history (Datomic-style, which DataScript cannot do): pick a past
 * transaction — each said in words, with names — and see the todo titles as of then
 * (`client.asOf(tx).q(…)`).
 */
export function TimeTravel() {
  const client = useClient<DemoClient>();
  const [steps, setSteps] = useState<Array<TxStep & { count: number }> | null>(null);
  const [at, setAt] = useState(0);
  const [shown, setShown] = useState<{ at: number; titles: string[] } | null>(null);

  const load = async () => {
    const list = collapseRuns(describeHistory((await client.history()) as unknown as HistoryDatom[]));
    setSteps(list);
    setAt(list.length - 1);
  };

  useEffect(() => {
    if (!steps || steps.length === 0) return;
    let live = true;
    void client
      .asOf(steps[at]!.tx)
      .q(TITLES)
      .then((r) => live && setShown({ at, titles: [...(r as Set<[string]>)].map((x) => x[0]).sort() }));
    return () => {
      live = false;
    };
  }, [client, steps, at]);

  // keep the step shown in view in the timeline (it scrolls on its own, not the page)
  const timeline = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const list = timeline.current;
    const li = list?.querySelector<HTMLElement>('li.current');
    if (!list || !li) return;
    if (li.offsetTop < list.scrollTop || li.offsetTop + li.offsetHeight > list.scrollTop + list.clientHeight) list.scrollTop = li.offsetTop - list.clientHeight / 2;
  }, [steps, at]);

  const step = steps?.[at];
  return (
    <section className="card" data-testid="history">
      <div className="card-head">
        <h2>Time travel</h2>
        <span className="pill">asOf</span>
        <span className="spacer" />
        <button className="small" data-testid="history-load" onClick={() => void load()}>
          {steps ? 'Reload history' : 'Load history'}
        </button>
      </div>
      {steps && steps.length > 0 && step && (
        <>
          <label className="slider">
            <input
              type="range"
              data-testid="history-slider"
              min={0}
              max={steps.length - 1}
              value={at}
              onChange={(e) => setAt(Number(e.target.value))}
              aria-label="as of transaction"
            />
            <span>
              change {at + 1} of {steps.length}
            </span>
          </label>
          <p data-testid="history-change" className="history-change">
            {step.changes.join('; ')}
          </p>
          {step.count > 1 && <p className="muted">{step.count} transactions in a row; showing the data after the last.</p>}
          {shown && (
            <p data-testid="history-titles" data-at={shown.at}>
              Tasks then: {shown.titles.join(', ') || '—'}
            </p>
          )}
          <ol className="timeline" data-testid="history-timeline" ref={timeline}>
            {steps.map((s, i) => (
              <li key={s.tx} className={i === at ? 'current' : i > at ? 'future' : ''} onClick={() => setAt(i)}>
                {i + 1}. {s.changes.join('; ')}
                {s.count > 1 && <span className="muted"> ×{s.count}</span>}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
