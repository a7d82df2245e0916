// @vitest-environment happy-dom
/**
 * `useQuery` with a query spec over the real `@dataloom/client` (in-process, memory storage): a
 * named view one component holds and another component's query uses; a live `asOf` view at a
 * fixed time and a moving `since` window; `connSource` with a named spec, and its refusal of
 * `asOf`.
 */
import { createClient, type Client } from '@dataloom/client';
import { createConn } from '@dataloom/dataflow';
import { act, Component, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataloomProvider, connSource, useQuery } from './index.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const SCHEMA = '{:todo/id {:db/unique :db.unique/identity}}';
const OPEN = '[:find ?e :where [?e :todo/done false]]';
const OPEN_TITLES = '[:find ?t :where [app/open ?e] [?e :todo/title ?t]]';
const TITLES = '[:find ?t :where [_ :todo/title ?t]]';

let container: HTMLElement;
let root: Root;
const clients: Client[] = [];
let n = 0;
beforeEach(() => {
  container = document.createElement('div');
  document.body.appendChild(container);
  root = createRoot(container);
});
afterEach(async () => {
  act(() => root.unmount());
  container.remove();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
function client(): Client {
  const c = createClient({ name: `react-spec-test-${n++}`, schema: SCHEMA, storage: 'memory', tabs: false });
  clients.push(c);
  return c;
}
async function until(pred: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out; DOM: ${container.textContent}`);
    await act(async () => {
      await new Promise((r) => setTimeout(r, 10));
    });
  }
}
const text = (id: string) => container.querySelector(`#${id}`)?.textContent ?? '';
function List({ id, query }: { id: string; query: unknown }) {
  const rows = useQuery(query);
  return <p id={id}>{rows.map((r) => String(r[0])).sort().join(',')}</p>;
}
class Catch extends Component<{ children: ReactNode }, { error: unknown }> {
  state = { error: null as unknown };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  render() {
    return this.state.error ? <p id="error">{String((this.state.error as { code?: string }).code)}</p> : this.props.children;
  }
}

describe('useQuery with a query spec', () => {
  it('a named view held by one component is a relation for another', async () => {
    const c = client();
    await c.transact([
      { ':todo/id': 'a', ':todo/title': 'milk', ':todo/done': false },
      { ':todo/id': 'b', ':todo/title': 'eggs', ':todo/done': true },
    ]);
    act(() =>
      root.render(
        <DataloomProvider client={c}>
          <List id="open" query={{ query: OPEN, name: 'app/open' }} />
          <List id="titles" query={OPEN_TITLES} />
        </DataloomProvider>,
      ),
    );
    await until(() => text('titles') === 'milk');
    await act(async () => void (await c.transact([{ ':todo/id': 'b', ':todo/done': false }])));
    await until(() => text('titles') === 'eggs,milk');
  });

  it('asOf a fixed time stays; a moving since window shows a write, then lets it go', async () => {
    const c = client();
    const r = await c.transact([{ ':todo/id': 'a', ':todo/title': 'old' }]);
    act(() =>
      root.render(
        <DataloomProvider client={c}>
          <List id="then" query={{ query: TITLES, asOf: r.tx }} />
          <List id="recent" query={{ query: TITLES, since: { ago: 150 }, tick: 50 }} />
          <List id="now" query={TITLES} />
        </DataloomProvider>,
      ),
    );
    await until(() => text('then') === 'old' && text('now') === 'old');
    await act(async () => void (await c.transact([{ ':todo/id': 'b', ':todo/title': 'new' }])));
    await until(() => text('recent').includes('new') && text('now') === 'new,old');
    expect(text('then')).toBe('old');
    await until(() => text('recent') === '');
  });

  it('connSource: a named spec registers the name; asOf is refused with react/unsupported', async () => {
    const conn = createConn({ 'todo/id': { ':db/unique': ':db.unique/identity' } });
    conn.transact([{ 'todo/id': 'a', 'todo/title': 'milk', 'todo/done': false }]);
    act(() =>
      root.render(
        <DataloomProvider client={connSource(conn as never)}>
          <List id="open" query={{ query: OPEN, name: 'app/open' }} />
          <List id="titles" query={OPEN_TITLES} />
          <Catch>
            <List id="past" query={{ query: TITLES, asOf: 0 }} />
          </Catch>
        </DataloomProvider>,
      ),
    );
    await until(() => text('titles') === 'milk' && text('error') === 'react/unsupported');
  });
});
