// @vitest-environment happy-dom
/**
 * The hooks over the real `@dataloom/client` (in-process runtime, memory storage) and, for sync
 * status, a real `@dataloom/server` on loopback: asynchronous initial results, re-render on local
 * and remote transactions, identity stability, and `useSyncStatus` going online and draining the
 * pending count; `useQuery` with a query spec (a named view one component holds and another's
 * query uses, live `asOf`/`since` views; `connSource` with a named spec, and its refusal of `asOf`).
 */
import { DataloomError } from '@dataloom/core';
import { createClient, type Client } from '@dataloom/client';
import { createServer, type DataloomServer } from '@dataloom/server';
import { act, Component, type ReactNode } from 'react';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { createConn } from '@dataloom/dataflow';
import { DataloomProvider, connSource, useQuery, useSyncStatus, useTransact, useTransactState, type Row } from './index.js';
import { mountRoot } from '../test/dom.js';

const SCHEMA = '{:todo/id {:db/unique :db.unique/identity}}';
const TITLES = '[:find ?id ?t :where [?e :todo/id ?id] [?e :todo/title ?t]]';

let n = 0;
const dom = mountRoot();

function client(extra: Record<string, unknown> = {}): Client {
  return dom.closing(createClient({ name: `react-client-test-${n++}`, schema: SCHEMA, storage: 'memory', tabs: false, ...extra }));
}

function Titles({ log }: { log?: Array<readonly Row[]> }) {
  const rows = useQuery(TITLES);
  log?.push(rows);
  return <ul>{rows.map((r) => String(r[1])).sort().map((t) => <li key={t}>{t}</li>)}</ul>;
}

describe('hooks over the real client', () => {
  it('fills in the initial result, then follows transactions, keeping identity otherwise', async () => {
    const c = client();
    await c.transact([{ ':todo/id': 'a', ':todo/title': 'milk' }]);
    const log: Array<readonly Row[]> = [];
    act(() => dom.root.render(<DataloomProvider client={c}><Titles log={log} /></DataloomProvider>));
    await dom.until(() => dom.container.textContent === 'milk');
    await act(async () => void (await c.transact([{ ':todo/id': 'b', ':todo/title': 'eggs' }])));
    await dom.until(() => dom.container.textContent === 'eggsmilk');
    const renders = log.length;
    const last = log[log.length - 1];
    await act(async () => void (await c.transact([{ ':todo/id': 'a', ':todo/done': true }]))); // not in TITLES
    await act(async () => {
      await new Promise((r) => setTimeout(r, 50));
    });
    expect(log.length).toBe(renders);
    expect(log[log.length - 1]).toBe(last);
  });

  it('transacts through useTransact', async () => {
    const c = client();
    let transact: ((tx: unknown) => Promise<unknown>) | null = null;
    function Add() {
      transact = useTransact();
      return <Titles />;
    }
    act(() => dom.root.render(<DataloomProvider client={c}><Add /></DataloomProvider>));
    await act(async () => void (await transact!([{ ':todo/id': 'x', ':todo/title': 'tea' }])));
    await dom.until(() => dom.container.textContent === 'tea');
  });

  it('reports sync status from a real server and shows a remote write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataloom-react-'));
    let server: DataloomServer | null = null;
    try {
      server = await createServer({ store: `sqlite:${join(dir, 'log.sqlite')}`, port: 0, schema: SCHEMA });
      const a = client({ url: server.url, WebSocket });
      const b = client({ url: server.url, WebSocket });
      function Status() {
        const s = useSyncStatus();
        return <b>{s ? `${s.online ? 'online' : 'offline'}/${s.pending}` : 'none'}</b>;
      }
      act(() => dom.root.render(<DataloomProvider client={a}><Status /><Titles /></DataloomProvider>));
      await dom.until(() => dom.container.querySelector('b')?.textContent === 'online/0');
      await b.transact([{ ':todo/id': 'r', ':todo/title': 'remote' }]);
      await dom.until(() => dom.container.querySelector('ul')?.textContent === 'remote');
    } finally {
      await dom.release();
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const OPEN = '[:find ?e :where [?e :todo/done false]]';
const OPEN_TITLES = '[:find ?t :where [app/open ?e] [?e :todo/title ?t]]';
const ALL_TITLES = '[:find ?t :where [_ :todo/title ?t]]';

const text = (id: string) => dom.container.querySelector(`#${id}`)?.textContent ?? '';
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
      dom.root.render(
        <DataloomProvider client={c}>
          <List id="open" query={{ query: OPEN, name: 'app/open' }} />
          <List id="titles" query={OPEN_TITLES} />
        </DataloomProvider>,
      ),
    );
    await dom.until(() => text('titles') === 'milk');
    await act(async () => void (await c.transact([{ ':todo/id': 'b', ':todo/done': false }])));
    await dom.until(() => text('titles') === 'eggs,milk');
  });

  it('asOf a fixed time stays; a moving since window shows a write, then lets it go', async () => {
    const c = client();
    const r = await c.transact([{ ':todo/id': 'a', ':todo/title': 'old' }]);
    act(() =>
      dom.root.render(
        <DataloomProvider client={c}>
          <List id="then" query={{ query: ALL_TITLES, asOf: r.tx }} />
          <List id="recent" query={{ query: ALL_TITLES, since: { ago: 150 }, tick: 50 }} />
          <List id="now" query={ALL_TITLES} />
        </DataloomProvider>,
      ),
    );
    await dom.until(() => text('then') === 'old' && text('now') === 'old');
    await act(async () => void (await c.transact([{ ':todo/id': 'b', ':todo/title': 'new' }])));
    await dom.until(() => text('recent').includes('new') && text('now') === 'new,old');
    expect(text('then')).toBe('old');
    await dom.until(() => text('recent') === '');
  });

  it('connSource: a named spec registers the name; asOf is refused with react/unsupported', async () => {
    const conn = createConn({ 'todo/id': { ':db/unique': ':db.unique/identity' } });
    conn.transact([{ 'todo/id': 'a', 'todo/title': 'milk', 'todo/done': false }]);
    act(() =>
      dom.root.render(
        <DataloomProvider client={connSource(conn as never)}>
          <List id="open" query={{ query: OPEN, name: 'app/open' }} />
          <List id="titles" query={OPEN_TITLES} />
          <Catch>
            <List id="past" query={{ query: ALL_TITLES, asOf: 0 }} />
          </Catch>
        </DataloomProvider>,
      ),
    );
    await dom.until(() => text('titles') === 'milk' && text('error') === 'react/unsupported');
  });
});

describe('useTransactState: errors per hook, the entity said by name', () => {
  const names = [':todo/title'];
  function Form({ tx, testid }: { tx: unknown; testid: string }) {
    const { transact, error } = useTransactState();
    return (
      <div>
        <button data-testid={`${testid}-go`} onClick={() => void transact(tx)} />
        <span data-testid={testid}>{error ? `${error.entity ?? '-'}|${error.code}|${error.message}` : ''}</span>
      </div>
    );
  }
  const click = (id: string) => act(() => (dom.container.querySelector(`[data-testid="${id}"]`) as HTMLButtonElement).click());
  const text = (id: string) => dom.container.querySelector(`[data-testid="${id}"]`)?.textContent ?? '';

  it('a local refusal (stale :db/cas) names the entity, only in the hook that made it', async () => {
    const c = client();
    await c.transact([{ ':todo/id': 'a', ':todo/title': 'Buy milk', ':todo/n': 2 }]);
    const cas = [[':db/cas', [':todo/id', 'a'], ':todo/n', 1, 5]];
    act(() => dom.root.render(<DataloomProvider client={c} entityNames={names}><Form tx={cas} testid="one" /><Form tx={[]} testid="two" /></DataloomProvider>));
    click('one-go');
    await dom.until(() => text('one') !== '');
    const [entity, code, message] = text('one').split('|');
    expect(entity).toBe('Buy milk');
    expect(code).toBe('transact/cas');
    expect(message).toContain('Buy milk');
    expect(message).not.toMatch(/[0-9a-z_]+\.[0-9a-z_]+ /); // no global id left
    expect(text('two')).toBe('');
  });

  it("the server's later refusal (its write rule) reaches the hook, named", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataloom-react-named-'));
    const server = await createServer({
      store: `sqlite:${join(dir, 'log.sqlite')}`,
      port: 0,
      schema: SCHEMA,
      authorizeWrite: (_u, tx) => {
        for (const op of tx.ops) if (op.a === 'todo/n' && op.v === 13) throw new DataloomError('app/unlucky', `no 13 on ${op.e}`, { e: op.e });
        return true;
      },
    });
    try {
      const c = client({ url: server.url, WebSocket });
      await c.transact([{ ':todo/id': 'b', ':todo/title': 'Fix the door' }]);
      act(() => dom.root.render(<DataloomProvider client={c} entityNames={names}><Form tx={[{ ':todo/id': 'b', ':todo/n': 13 }]} testid="one" /></DataloomProvider>));
      click('one-go');
      await dom.until(() => text('one') !== '', 10_000);
      expect(text('one')).toBe('Fix the door|app/unlucky|no 13 on Fix the door');
    } finally {
      await dom.release();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
