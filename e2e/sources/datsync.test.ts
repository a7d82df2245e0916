/**
 * The datsync scenario in Chromium: a `datascript` connection in the server's Node process is
 * followed by a DataScript source; a browser client (Web Worker, IndexedDB) watching a query sees
 * every transaction made on the connection — inserts, updates, retractions — live, and the same
 * after a reload.
 */
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { DataScriptApi } from '@dataloom/server';
import { schema } from './schema.js';
import { e2eStack } from '../helpers/stack.js';

const d = createRequire(import.meta.url)('datascript') as DataScriptApi & { create_conn(s: object): unknown; transact(c: unknown, tx: unknown[]): unknown };
const ready = (page: Page) => page.waitForFunction(() => document.body?.dataset.ready === 'true', undefined, { timeout: 30_000 });
const shown = (page: Page) => page.locator('[data-testid="friends"] li').allTextContents();

describe('datsync e2e (Chromium worker + IndexedDB, DataScript connection followed by the server)', () => {
  const conn = d.create_conn({ 'person/friend': { ':db/valueType': ':db.type/ref' } });
  d.transact(conn, [{ ':db/id': -1, 'person/name': 'Ann' }, { ':db/id': -2, 'person/name': 'Bob', 'person/friend': -1 }]);
  const stack = e2eStack('datsync', { server: { schema, sources: [{ name: 'ds', datascript: { conn, api: d } }] }, page: { entry: new URL('./friends.page.ts', import.meta.url) } });

  it('transactions on the DataScript connection reach the browser’s watched query, and stay after a reload', async () => {
    const page = await stack.chromium.newPage();
    await page.goto(`${stack.pages.url}?url=${encodeURIComponent(stack.sync.url)}&name=datsync`);
    await ready(page);
    await expect.poll(() => shown(page), { timeout: 15_000 }).toEqual(['Bob → Ann']);
    d.transact(conn, [{ ':db/id': -1, 'person/name': 'Cy', 'person/friend': 2 }]);
    await expect.poll(() => shown(page), { timeout: 15_000 }).toEqual(['Bob → Ann', 'Cy → Bob']);
    d.transact(conn, [[':db/add', 1, 'person/name', 'Ann B.']]);
    await expect.poll(() => shown(page), { timeout: 15_000 }).toEqual(['Bob → Ann B.', 'Cy → Bob']);
    d.transact(conn, [[':db.fn/retractEntity', 2]]);
    await expect.poll(() => shown(page), { timeout: 15_000 }).toEqual([]);
    d.transact(conn, [{ ':db/id': 3, 'person/friend': 1 }]);
    await expect.poll(() => shown(page), { timeout: 15_000 }).toEqual(['Cy → Ann B.']);
    await page.reload();
    await ready(page);
    await expect.poll(() => shown(page), { timeout: 15_000 }).toEqual(['Cy → Ann B.']);
    expect(stack.chromium.pageErrors).toEqual([]);
  });
});
