// @vitest-environment happy-dom
/** `watchedQueries` / `useWatchedQueries`: the live queries the hooks hold open, for devtools. */
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConn } from '@dataloom/dataflow';
import { DataloomProvider, connSource, useQuery, useWatchedQueries, watchedQueries, type WatchedQueryInfo } from './index.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLElement;
let root: Root;
beforeEach(() => {
  container = document.createElement('div');
  document.body.appendChild(container);
  root = createRoot(container);
});
afterEach(() => {
  act(() => root.unmount());
  container.remove();
});

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
    act(() => root.render(<DataloomProvider client={source}><A /><A /><Panel /></DataloomProvider>));
    act(() => void source.transact([{ ':todo/title': 'eggs' }]));
    const list = watchedQueries(source);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ query: TITLES, rows: 2, subscribers: 2, loaded: true, updates: 1, error: null });
    expect(list[0]!.lastUpdateMs).toBeGreaterThanOrEqual(0);
    expect(seen.map((q) => q.query)).toEqual([TITLES]);
  });
});
