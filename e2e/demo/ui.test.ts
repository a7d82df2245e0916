// @vitest-environment happy-dom
/**
 * The demo's UI, rendered in happy-dom over the real dataflow conn and over the datascript-backed
 * test source (re-runs queries, emits diffs): adding, toggling and deleting todos updates the live
 * queries; loading the Chicago outfit shows issue 3's initial results and a raise moves the
 * aggregates.
 * The browser run against the real client (in a Web Worker, IndexedDB) and server is `app.test.ts`.
 */
import { createConn } from '@dataloom/dataflow';
import { DataloomProvider, connSource, type DataloomSource } from '@dataloom/react';
import { act, createElement as h } from 'react';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../demo-app/src/engine.js';
import Ledger from '../../demo-app/src/ledger/Ledger.js';
import { SyncBadge } from '../../demo-app/src/status/SyncBadge.js';
import { TodoList } from '../../demo-app/src/todos/TodoList.js';
import { SCHEMA_EDN } from '../../demo-app/src/schema.js';
import { datascriptSource } from '../../packages/react/test/datascript-source.js';
import { mountRoot } from '../../packages/react/test/dom.js';

const dom = mountRoot();

const $ = (id: string) => dom.container.querySelector(`[data-testid="${id}"]`) as HTMLElement;
const $$ = (id: string) => [...dom.container.querySelectorAll(`[data-testid="${id}"]`)] as HTMLElement[];
const flush = () => act(async () => {
  for (let i = 0; i < 3; i++) await Promise.resolve();
});

function type(input: HTMLInputElement, value: string) {
  const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(input), 'value')!.set!;
  setter.call(input, value);
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

/** The demo over the real dataflow engine (its in-memory mode) and over DataScript re-running queries. */
const SOURCES: Array<[string, () => DataloomSource]> = [
  ['dataflow conn', () => connSource(createConn(SCHEMA_EDN))],
  [
    'datascript oracle',
    () =>
      datascriptSource({
        'todo/id': { ':db/unique': ':db.unique/identity' },
        'thug/name': { ':db/unique': ':db.unique/identity' },
        'territory/name': { ':db/unique': ':db.unique/identity' },
        'thug/boss': { ':db/valueType': ':db.type/ref' },
        'thug/territory': { ':db/valueType': ':db.type/ref' },
      }),
  ],
];
let makeSource = SOURCES[0]![1];

function mount() {
  const src = makeSource();
  const engine = { client: src, url: null, worker: false } as unknown as Engine;
  act(() => dom.root.render(h(DataloomProvider, { client: src }, h(SyncBadge, { engine }), h(TodoList), h(Ledger))));
  return src;
}

const rowsOf = (table: string) =>
  [...$(table).querySelectorAll('tbody tr')].map((tr) => `${(tr as HTMLElement).dataset.thug ?? (tr as HTMLElement).dataset.territory} ${tr.querySelector('td.num')!.textContent!.replace(/[$,]/g, '')}`);

describe.each(SOURCES)('demo UI over %s', (_name, make) => {
  beforeEach(() => {
    makeSource = make;
  });

  it('adds, toggles and deletes todos through live queries', async () => {
    mount();
    expect($$('todo-item')).toHaveLength(0);
    for (const t of ['milk', 'eggs']) {
      act(() => type($('todo-input') as HTMLInputElement, t));
      act(() => $('todo-add').click());
      await flush();
    }
    expect($$('todo-title').map((e) => e.textContent)).toEqual(['milk', 'eggs']);
    expect($('open-count').textContent).toBe('2 open');
    act(() => ($$('todo-item')[0]!.querySelector('input[type=checkbox]') as HTMLInputElement).click());
    await flush();
    expect($('open-count').textContent).toBe('1 open');
    expect($$('todo-item')[0]!.className).toBe('done');
    act(() => (dom.container.querySelector('[aria-label="delete eggs"]') as HTMLButtonElement).click());
    await flush();
    expect($$('todo-title').map((e) => e.textContent)).toEqual(['milk']);
    expect($('open-count').textContent).toBe('0 open');
  });

  it('shows the Chicago outfit dashboard and updates it in place', async () => {
    mount();
    act(() => $('chicago-seed').click());
    await flush();
    expect(rowsOf('territory-earnings')).toEqual(['east 1600', 'west 1720']);
    expect(rowsOf('total-earnings')).toEqual([
      'alfredo 1720', 'aurora 1600', 'bernado 720', 'berta 700',
      'carla 125', 'carlo 120', 'corinna 125', 'cristiano 100',
    ]);
    expect($('rats').textContent).toBe('none');
    expect($('chicago-seed')).toBeNull();
    act(() => (dom.container.querySelector('[aria-label="raise corinna"]') as HTMLButtonElement).click());
    await flush();
    expect(rowsOf('territory-earnings')).toEqual(['east 1700', 'west 1720']);
    expect(rowsOf('total-earnings').filter((r) => /alfredo|aurora|berta|corinna/.test(r))).toEqual([
      'alfredo 1720', 'aurora 1700', 'berta 800', 'corinna 225',
    ]);
    act(() => (dom.container.querySelector('[aria-label="flag berta"]') as HTMLButtonElement).click());
    await flush();
    expect($('rats').textContent).toBe('berta');
  });

  it('says when the source does not sync', () => {
    mount();
    expect($('sync-status').textContent).toBe('offline (not syncing)');
  });
});
