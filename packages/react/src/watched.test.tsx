// @vitest-environment happy-dom
/** `watchedQueries` / `useWatchedQueries`: the live queries the hooks hold open, for devtools. */
import { act } from 'react';
import { describe, expect, it } from 'vitest';
import { createConn } from '@dataloom/dataflow';
import { createClient } from '@dataloom/client';
import { DataloomDevtools, DataloomProvider, connSource, trackErrors, useQuery, useWatchedQueries, watchedQueries, type WatchedQueryInfo } from './index.js';
import { mountRoot } from '../test/dom.js';

const dom = mountRoot();

const TITLES = '[:find ?t :where [_ :todo/title ?t]]';

describe('watched queries', () => {
  it('lists each shared view once with its rows, subscribers and updates', () => {
    const source = connSource(createConn());
    source.transact([{ ':todo/title': 'milk' }]);
    let seen: WatchedQueryInfo[] = [];
    function A() {
      useQuery(TITLES);
      return null;
    }
    function Panel() {
      seen = useWatchedQueries(60_000);
      return null;
    }
    act(() => dom.root.render(<DataloomProvider client={source}><A /><A /><Panel /></DataloomProvider>));
    act(() => void source.transact([{ ':todo/title': 'eggs' }]));
    const list = watchedQueries(source);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ query: TITLES, rows: 2, subscribers: 2, loaded: true, updates: 1, error: null });
    expect(list[0]!.lastUpdateMs).toBeGreaterThanOrEqual(0);
    expect(seen.map((q) => q.query)).toEqual([TITLES]);
  });
});

describe('DataloomDevtools', () => {
  const waitFor = async (cond: () => boolean) => {
    for (let i = 0; i < 400 && !cond(); i++) await act(() => new Promise((r) => setTimeout(r, 10)));
    expect(cond()).toBe(true);
  };

  it("shows the watched queries and the client's time per operator while open, and stops timing when closed", async () => {
    const client = dom.closing(createClient({ name: 'devtools-ops', schema: { 'todo/title': {}, 'todo/done': {} }, storage: 'memory', tabs: false }));
    await client.ready;
    function Open() {
      useQuery('[:find (count ?e) . :where [?e :todo/done false]]');
      return null;
    }
    act(() => dom.root.render(<DataloomProvider client={client}><Open /><DataloomDevtools /></DataloomProvider>));
    await waitFor(() => dom.container.querySelector('[data-testid="dt-no-operators"]') !== null);
    await client.transact([{ 'todo/title': 'milk', 'todo/done': false }]);
    await waitFor(() => dom.container.querySelectorAll('[data-testid="dt-operator"]').length > 0);
    const kinds = [...dom.container.querySelectorAll('[data-testid="dt-operator"] small')].map((s) => s.textContent);
    expect(kinds).toContain('output');
    // said by the query it serves, not the engine's view name
    expect(dom.container.querySelector('[data-testid="dt-operator"] code')?.textContent).toMatch(/^\[:find \(count \?e\)/);
    expect(dom.container.querySelector('[data-testid="dt-rows"]')?.textContent).toBe('1');
    act(() => dom.root.render(<DataloomProvider client={client}><Open /></DataloomProvider>));
    await act(() => new Promise((r) => setTimeout(r, 20)));
    expect(await client.operatorTimes()).toEqual([]); // the panel closed: timing is off
  });

  it('keeps the errors from before it opened, and Clear empties them; a source without operator times says so', () => {
    let emit: (e: { type: string; error?: { code: string; message: string } }) => void = () => {};
    const errors = trackErrors({ on: (fn) => ((emit = fn), () => {}) });
    emit({ type: 'rejected', error: { code: 'demo/earnings', message: 'earnings cannot be -50' } });
    act(() => dom.root.render(<DataloomProvider client={connSource(createConn())}><DataloomDevtools errors={errors} /></DataloomProvider>));
    expect(dom.container.querySelector('[data-testid="dt-errors"]')?.textContent).toContain('demo/earnings');
    expect(dom.container.textContent).toContain('not available for this client');
    act(() => (dom.container.querySelector('[data-testid="dt-clear"]') as HTMLButtonElement).click());
    expect(dom.container.querySelector('[data-testid="dt-no-errors"]')).not.toBeNull();
  });
});
