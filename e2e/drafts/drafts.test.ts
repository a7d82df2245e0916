/**
 * Drafts in Chromium (a Web Worker client on IndexedDB per user) against the real server: two
 * users edit one record in a shared form; the second sees the first's keystrokes in the form but
 * not in the list until commit; a reload keeps the draft.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { draftSchema } from '@dataloom/core';
import { e2eStack } from '../helpers/stack.js';

type App = { seed(): Promise<unknown>; synced(): Promise<void>; mainTitle(): Promise<unknown>; draftTitle(): Promise<unknown> };
declare const app: App;

const schema = { ...draftSchema, ':item/key': { ':db/unique': ':db.unique/identity' }, ':item/title': {} };
const ready = (page: Page) => page.waitForFunction(() => document.body?.dataset.ready === 'true', undefined, { timeout: 30_000 });
const testid = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);

describe('drafts e2e (Chromium, two users, worker + IndexedDB, real server)', () => {
  const stack = e2eStack('drafts', { server: { schema }, page: { entry: new URL('./form.page.tsx', import.meta.url), body: '<div id="root"></div>' } });

  it('the second user sees the first’s keystrokes in the form, not in the list until commit; reload keeps the draft', async () => {
    const open = async (name: string) => {
      const p = await stack.chromium.newPage();
      await p.goto(`${stack.pages.url}?url=${encodeURIComponent(stack.sync.url)}&name=${name}`);
      await ready(p);
      return p;
    };
    const alice = await open('alice');
    const bob = await open('bob');
    await alice.evaluate(() => app.seed());
    for (const p of [alice, bob]) {
      await expect.poll(() => testid(p, 'list-one').textContent(), { timeout: 15_000 }).toBe('first title');
      await expect.poll(() => testid(p, 'title').inputValue(), { timeout: 15_000 }).toBe('first title');
    }
    // Alice types into the shared form, key by key
    await testid(alice, 'title').click();
    await alice.keyboard.press('End');
    await alice.keyboard.type(' (edited)', { delay: 30 });
    await expect.poll(() => testid(alice, 'title').inputValue(), { timeout: 15_000 }).toBe('first title (edited)');
    await expect.poll(() => testid(bob, 'title').inputValue(), { timeout: 15_000 }).toBe('first title (edited)');
    // the lists (main views) still show the committed title, in both browsers
    await alice.evaluate(() => app.synced());
    expect(await testid(bob, 'list-one').textContent()).toBe('first title');
    expect(await testid(alice, 'list-one').textContent()).toBe('first title');
    expect(await bob.evaluate(() => app.mainTitle())).toBe('first title');

    // a reload keeps the draft (from IndexedDB) on both sides
    await bob.reload();
    await ready(bob);
    await expect.poll(() => testid(bob, 'title').inputValue(), { timeout: 15_000 }).toBe('first title (edited)');
    expect(await bob.evaluate(() => app.draftTitle())).toBe('first title (edited)');
    await expect.poll(() => testid(bob, 'list-one').textContent(), { timeout: 15_000 }).toBe('first title');
    await alice.reload();
    await ready(alice);
    await expect.poll(() => testid(alice, 'title').inputValue(), { timeout: 15_000 }).toBe('first title (edited)');

    // Bob commits: both lists show it
    await testid(bob, 'commit').click();
    await expect.poll(() => testid(bob, 'status').textContent(), { timeout: 15_000 }).toBe('committed');
    for (const p of [alice, bob]) await expect.poll(() => testid(p, 'list-one').textContent(), { timeout: 15_000 }).toBe('first title (edited)');
    expect(stack.chromium.pageErrors).toEqual([]);
  });
});
