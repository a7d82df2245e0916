// @vitest-environment happy-dom
import { Component, StrictMode, act, memo, useEffect, type ReactNode } from 'react';
import { renderToString } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import { DataloomError, kw, type Diff } from '@dataloom/core';
import { createConn } from '@dataloom/dataflow';
import { countingSource, type TestSource } from '../test/counting-source.js';
import { datascriptSource } from '../test/datascript-source.js';
import {
  DataloomProvider,
  useEntity,
  usePull,
  useQuery,
  useQueryState,
  useSyncStatus,
  useTransact,
  type Row,
  type LiveView,
  type SyncStatus,
  connSource,
} from './index.js';
import { registryFor } from './view-registry.js';
import { mountRoot } from '../test/dom.js';

const dom = mountRoot();

const TITLES = '[:find ?e ?t :where [?e :todo/title ?t]]';
const DONE = '[:find ?e :where [?e :todo/done true]]';

const flush = () => act(async () => {
  await Promise.resolve();
});

/** The hooks run against the real dataflow engine and against DataScript re-running queries. */
const SOURCES: Array<[string, () => TestSource]> = [
  ['dataflow conn', () => countingSource(connSource(createConn()))],
  ['datascript oracle', () => countingSource(datascriptSource())],
];
let makeSource: () => TestSource = SOURCES[0]![1];

function seeded(): TestSource {
  const src = makeSource();
  src.transact([
    { ':db/id': -1, 'todo/title': 'milk', 'todo/done': false },
    { ':db/id': -2, 'todo/title': 'eggs', 'todo/done': true },
  ]);
  return src;
}

/** An attribute of a pull result: a `Map` keyed by keywords (Dataloom) or an object (datascript's JS API). */
function attr(pulled: unknown, a: string): unknown {
  return pulled instanceof Map ? pulled.get(kw(a)) : (pulled as Record<string, unknown>)[a];
}

function Titles({ log }: { log?: Array<readonly Row[]> }) {
  const rows = useQuery(TITLES);
  log?.push(rows);
  const titles = rows.map((r) => r[1] as string).sort();
  return <ul>{titles.map((t) => <li key={t}>{t}</li>)}</ul>;
}

describe.each(SOURCES)('over %s', (_name, make) => {
  beforeEach(() => {
    makeSource = make;
  });

  describe('useQuery', () => {
    it('renders the current result and re-renders on diffs', () => {
      const src = seeded();
      act(() => dom.root.render(<DataloomProvider client={src}><Titles /></DataloomProvider>));
      expect(dom.container.textContent).toBe('eggsmilk');
      act(() => void src.transact([{ ':db/id': -1, 'todo/title': 'bread' }]));
      expect(dom.container.textContent).toBe('breadeggsmilk');
      act(() => void src.transact([[':db/retract', 1, 'todo/title', 'milk']]));
      expect(dom.container.textContent).toBe('breadeggs');
    });

    it('keeps the result identity (and skips rendering) across unrelated transactions', () => {
      const src = seeded();
      const log: Array<readonly Row[]> = [];
      act(() => dom.root.render(<DataloomProvider client={src}><Titles log={log} /></DataloomProvider>));
      const renders = log.length;
      const first = log[log.length - 1];
      act(() => void src.transact([{ ':db/id': 1, 'todo/done': true }])); // not in TITLES
      act(() => void src.transact([{ ':db/id': -1, 'note/body': 'x' }]));
      expect(log.length).toBe(renders);
      act(() => void src.transact([{ ':db/id': 2, 'todo/title': 'ham' }]));
      expect(log.length).toBe(renders + 1);
      const next = log[log.length - 1]!;
      expect(next).not.toBe(first);
      // The untouched row keeps its identity.
      const milk = first!.find((r) => r[1] === 'milk');
      expect(next.find((r) => r[1] === 'milk')).toBe(milk);
    });

    it('shares one view between components with the same query and closes it on unmount', async () => {
      const src = seeded();
      const r = registryFor(src);
      function App({ n }: { n: number }) {
        return <DataloomProvider client={src}>{Array.from({ length: n }, (_, i) => <Titles key={i} />)}</DataloomProvider>;
      }
      act(() => dom.root.render(<App n={3} />));
      expect(src.watches).toBe(1);
      expect(src.openViews).toBe(1);
      act(() => dom.root.render(<App n={1} />));
      await flush();
      expect(src.openViews).toBe(1);
      act(() => dom.root.render(<App n={0} />));
      await flush();
      expect(src.openViews).toBe(0);
      expect(r.size).toBe(0);
      // Mounting again opens a fresh view with the current data.
      src.transact([{ ':db/id': -1, 'todo/title': 'jam' }]);
      act(() => dom.root.render(<App n={1} />));
      expect(src.openViews).toBe(1);
      expect(dom.container.textContent).toBe('eggsjammilk');
    });

    it('shares views by structural input equality and separates different inputs', async () => {
      const src = seeded();
      const Q = '[:find ?t :in $ ?title :where [?e :todo/title ?title] [?e :todo/title ?t]]';
      function ByTitle({ title }: { title: string }) {
        const rows = useQuery(Q, title);
        return <i>{rows.map((r) => String(r[0])).join()}</i>;
      }
      act(() => dom.root.render(
        <DataloomProvider client={src}>
          <ByTitle title="milk" /><ByTitle title="milk" /><ByTitle title="eggs" />
        </DataloomProvider>,
      ));
      expect(dom.container.textContent).toBe('milkmilkeggs');
      expect(src.openViews).toBe(2);
      act(() => dom.root.render(<DataloomProvider client={src}><ByTitle title="eggs" /></DataloomProvider>));
      await flush();
      expect(src.openViews).toBe(1);
    });

    it('opens one view under StrictMode and closes it on unmount', async () => {
      const src = seeded();
      act(() => dom.root.render(<StrictMode><DataloomProvider client={src}><Titles /></DataloomProvider></StrictMode>));
      await flush();
      expect(src.openViews).toBe(1);
      act(() => void src.transact([{ ':db/id': -1, 'todo/title': 'rice' }]));
      expect(dom.container.textContent).toBe('eggsmilkrice');
      act(() => dom.root.render(<StrictMode><DataloomProvider client={src}>{null}</DataloomProvider></StrictMode>));
      await flush();
      expect(src.openViews).toBe(0);
    });

    it('does not tear: every commit shows two queries at the same transaction', () => {
      const src = seeded();
      const seen: string[] = [];
      function Pair() {
        const all = useQuery('[:find ?e :where [?e :todo/title]]');
        const done = useQuery(DONE);
        useEffect(() => {
          seen.push(`${all.length}/${done.length}`);
        });
        return <b>{`${all.length}/${done.length}`}</b>;
      }
      // A memoised sibling that reads only one of them must stay consistent with Pair as well.
      const Done = memo(function Done() {
        return <s>{useQuery(DONE).length}</s>;
      });
      act(() => dom.root.render(<DataloomProvider client={src}><Pair /><Done /></DataloomProvider>));
      for (let i = 0; i < 5; i++) {
        // Each transaction adds one todo that is done: both counts move together.
        act(() => void src.transact([{ ':db/id': -1, 'todo/title': `t${i}`, 'todo/done': true }]));
        const [all, done] = dom.container.querySelector('b')!.textContent!.split('/').map(Number);
        expect(all! - done!).toBe(1);
        expect(dom.container.querySelector('s')!.textContent).toBe(String(done));
      }
      for (const s of seen) {
        const [all, done] = s.split('/').map(Number);
        expect(all! - done!).toBe(1);
      }
    });

    it('throws a bad query into the nearest error boundary', () => {
      const src = seeded();
      class Boundary extends Component<{ children: ReactNode }, { error: unknown }> {
        override state = { error: null as unknown };
        static getDerivedStateFromError(error: unknown) {
          return { error };
        }
        override render() {
          return this.state.error ? <p>failed</p> : this.props.children;
        }
      }
      function Bad() {
        useQuery('[:find ?e :where [?e');
        return null;
      }
      const orig = console.error;
      console.error = () => {};
      try {
        act(() => dom.root.render(<DataloomProvider client={src}><Boundary><Bad /></Boundary></DataloomProvider>));
      } finally {
        console.error = orig;
      }
      expect(dom.container.textContent).toBe('failed');
      expect(registryFor(src).size).toBe(0);
    });

    it('throws react/no-provider outside a provider', () => {
      function Lone() {
        useQuery(TITLES);
        return null;
      }
      expect(() => renderToString(<Lone />)).toThrow(expect.objectContaining({ code: 'react/no-provider' }));
    });

    it('renders on the server with the current result', () => {
      const src = seeded();
      const html = renderToString(<DataloomProvider client={src}><Titles /></DataloomProvider>);
      expect(html).toBe('<ul><li>eggs</li><li>milk</li></ul>');
    });
  });

  describe('usePull / useEntity', () => {
    it('re-renders when a pulled attribute changes and not otherwise', () => {
      const src = seeded();
      let renders = 0;
      function Todo({ id }: { id: number }) {
        const t = usePull(['todo/title', 'todo/done'], id);
        renders++;
        return <span>{t ? `${String(attr(t, 'todo/title'))}:${String(attr(t, 'todo/done'))}` : 'none'}</span>;
      }
      act(() => dom.root.render(<DataloomProvider client={src}><Todo id={1} /></DataloomProvider>));
      expect(dom.container.textContent).toBe('milk:false');
      const r0 = renders;
      act(() => void src.transact([{ ':db/id': 2, 'todo/title': 'duck eggs' }]));
      expect(renders).toBe(r0);
      act(() => void src.transact([{ ':db/id': 1, 'todo/done': true }]));
      expect(dom.container.textContent).toBe('milk:true');
    });

    it('useEntity pulls every attribute', () => {
      const src = seeded();
      function E() {
        const e = useEntity(2);
        return <span>{String(attr(e, 'todo/title'))}</span>;
      }
      act(() => dom.root.render(<DataloomProvider client={src}><E /></DataloomProvider>));
      expect(dom.container.textContent).toBe('eggs');
    });
  });

  describe('useTransact', () => {
    it('is stable across renders and transacts', async () => {
      const src = seeded();
      const fns: unknown[] = [];
      function Add() {
        const transact = useTransact();
        fns.push(transact);
        useEffect(() => {
          void transact([{ ':db/id': -1, 'todo/title': 'tea' }]);
        }, [transact]);
        return <Titles />;
      }
      act(() => dom.root.render(<DataloomProvider client={src}><Add /></DataloomProvider>));
      await flush();
      act(() => dom.root.render(<DataloomProvider client={src}><Add /></DataloomProvider>));
      expect(new Set(fns).size).toBe(1);
      expect(dom.container.textContent).toBe('eggsmilktea');
    });
  });

  describe('useSyncStatus', () => {
    it('is null for a source that does not sync', () => {
      const src = seeded();
      let status: SyncStatus | null | undefined;
      function S() {
        status = useSyncStatus();
        return null;
      }
      act(() => dom.root.render(<DataloomProvider client={src}><S /></DataloomProvider>));
      expect(status).toBeNull();
    });

    it('follows the client status and keeps identity while nothing changes', () => {
      const base = seeded();
      let current: SyncStatus = { online: false, pending: 2, lastError: null };
      const fns = new Set<(s: SyncStatus) => void>();
      const src = {
        ...base,
        watch: base.watch,
        transact: base.transact,
        syncStatus: () => ({ ...current }),
        onSyncStatus: (fn: (s: SyncStatus) => void) => {
          fns.add(fn);
          return () => fns.delete(fn);
        },
      };
      const seen: Array<SyncStatus | null> = [];
      function S() {
        const s = useSyncStatus();
        seen.push(s);
        return <span>{s ? `${s.online ? 'online' : 'offline'} ${s.pending}` : ''}</span>;
      }
      act(() => dom.root.render(<DataloomProvider client={src}><S /></DataloomProvider>));
      expect(dom.container.textContent).toBe('offline 2');
      const n = seen.length;
      act(() => fns.forEach((f) => f({ ...current }))); // same values: no re-render
      expect(seen.length).toBe(n);
      current = { online: true, pending: 0, lastError: { code: 'sync/rejected', message: 'no' } };
      act(() => fns.forEach((f) => f({ ...current })));
      expect(dom.container.textContent).toBe('online 0');
      expect(seen[seen.length - 1]!.lastError?.code).toBe('sync/rejected');
      dom.unmount();
      expect(fns.size).toBe(0);
    });
  });
});

/** A client whose views get their initial result asynchronously, like the worker-backed client. */
function asyncSource(inner: TestSource, opts: { fail?: unknown } = {}) {
  const pending: Array<() => void> = [];
  const src = {
    watch(query: unknown, ...inputs: unknown[]): LiveView {
      let view: LiveView | null = null;
      let error: unknown = null;
      try {
        view = inner.watch(query, ...inputs);
      } catch (e) {
        error = e;
      }
      let ready = false;
      const subs = new Set<(d: readonly Diff[]) => void>();
      const unsub = view?.subscribe((d) => {
        if (ready) subs.forEach((f) => f(d));
      });
      return {
        ready: new Promise<void>((resolve, reject) => {
          pending.push(() => {
            ready = true;
            if (error || opts.fail) reject(error ?? opts.fail);
            else resolve();
          });
        }),
        result: () => (ready && view ? view.result() : null),
        rows: () => (ready && view ? view.rows() : []),
        subscribe: (fn) => {
          subs.add(fn);
          return () => subs.delete(fn);
        },
        close: () => {
          if (typeof unsub === 'function') unsub();
          view?.close();
        },
      };
    },
    transact: (tx: unknown) => inner.transact(tx),
    /** Delivers every initial result asked for so far. */
    answer: () => pending.splice(0).forEach((f) => f()),
  };
  return src;
}

describe('over a client with asynchronous views', () => {
  beforeEach(() => {
    makeSource = SOURCES[0]![1];
  });

  it('renders empty, then the initial result when it arrives, then diffs', async () => {
    const src = asyncSource(seeded());
    act(() => dom.root.render(<DataloomProvider client={src}><Titles /></DataloomProvider>));
    expect(dom.container.textContent).toBe('');
    await act(async () => src.answer());
    expect(dom.container.textContent).toBe('eggsmilk');
    act(() => void src.transact([{ ':db/id': -1, 'todo/title': 'figs' }]));
    expect(dom.container.textContent).toBe('eggsfigsmilk');
  });

  it('useQueryState tells loading from empty', async () => {
    const src = asyncSource(seeded());
    const seen: string[] = [];
    function S() {
      const { rows, loading } = useQueryState('[:find ?e :where [?e :todo/title "nope"]]');
      seen.push(loading ? 'loading' : `${rows.length} rows`);
      return null;
    }
    act(() => dom.root.render(<DataloomProvider client={src}><S /></DataloomProvider>));
    expect(seen[seen.length - 1]).toBe('loading');
    await act(async () => src.answer());
    expect(seen[seen.length - 1]).toBe('0 rows');
  });

  it('throws an asynchronously reported query error into the error boundary', async () => {
    const src = asyncSource(seeded(), { fail: new DataloomError('query/parse', 'bad query', {}) });
    class Boundary extends Component<{ children: ReactNode }, { error: unknown }> {
      override state = { error: null as unknown };
      static getDerivedStateFromError(error: unknown) {
        return { error };
      }
      override render() {
        return this.state.error ? <p>{(this.state.error as DataloomError).code}</p> : this.props.children;
      }
    }
    act(() => dom.root.render(<DataloomProvider client={src}><Boundary><Titles /></Boundary></DataloomProvider>));
    const orig = console.error;
    console.error = () => {};
    try {
      await act(async () => src.answer());
    } finally {
      console.error = orig;
    }
    expect(dom.container.textContent).toBe('query/parse');
  });

  it('reads a promised sync status and follows `sync` events', async () => {
    const base = seeded();
    const sinks = new Set<(e: { type: string; status?: SyncStatus | null }) => void>();
    const src = {
      watch: base.watch,
      transact: base.transact,
      syncStatus: async (): Promise<SyncStatus | null> => ({ online: false, pending: 1, lastError: null }),
      on: (fn: (e: { type: string; status?: SyncStatus | null }) => void) => {
        sinks.add(fn);
        return () => sinks.delete(fn);
      },
    };
    function S() {
      const s = useSyncStatus();
      return <span>{s ? `${s.online ? 'online' : 'offline'} ${s.pending}` : 'none'}</span>;
    }
    act(() => dom.root.render(<DataloomProvider client={src}><S /></DataloomProvider>));
    await flush();
    expect(dom.container.textContent).toBe('offline 1');
    act(() => sinks.forEach((f) => f({ type: 'rejected' })));
    act(() => sinks.forEach((f) => f({ type: 'sync', status: { online: true, pending: 0, lastError: null } })));
    expect(dom.container.textContent).toBe('online 0');
  });
});
