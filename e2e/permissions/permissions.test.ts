/**
 * Read permissions in Chromium (a Web Worker client on IndexedDB per user) against the real
 * server: two users share a list, each also has private items; revoking the membership removes
 * the shared list's items from the other browser live — from its views and its IndexedDB — and
 * they stay gone after a reload. A private item never reaches the other browser at all.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { schema } from './schema.js';
import { e2eStack } from '../helpers/stack.js';

type App = {
  transact(tx: unknown): Promise<{ tx: string; ids: Record<string, string> }>;
  confirmed(tx: string): Promise<boolean>;
  titles(): Promise<string[]>;
  stored(text: string): Promise<boolean>;
};
declare const app: App;

const RULES = `
[[(can-read ?u ?l) [?l :list/members ?u]]
 [(can-read ?u ?i) [?i :item/list ?l] [?l :list/members ?u]]
 [(can-read ?u ?i) [?i :item/owner ?u]]]`;

const ready = (page: Page) => page.waitForFunction(() => document.body?.dataset.ready === 'true', undefined, { timeout: 30_000 });
const shown = (page: Page) => page.locator('[data-testid="items"] li').allTextContents();

describe('permissions e2e (Chromium, two users, worker + IndexedDB, real server)', () => {
  const stack = e2eStack('perms', { server: { schema, permissions: RULES, authenticate: (t) => t }, page: { entry: new URL('./list.page.ts', import.meta.url) } });

  it('revoking a membership removes the shared list from the other browser, live and after reload', async () => {
    const open = async (user: string) => {
      const p = await stack.chromium.newPage();
      await p.goto(`${stack.pages.url}?url=${encodeURIComponent(stack.sync.url)}&name=perm-${user}&token=${user}`);
      await ready(p);
      return p;
    };
    const alice = await open('alice');
    const bob = await open('bob');
    const seeded = await alice.evaluate(() =>
      app.transact([
        { ':db/id': 'list', ':list/name': 'groceries', ':list/members': ['alice', 'bob'] },
        { ':item/title': 'shared milk', ':item/list': 'list' },
        { ':item/title': 'alice private diary', ':item/owner': 'alice' },
      ]),
    );
    await alice.evaluate((tx) => app.confirmed(tx), seeded.tx);
    const mine = await bob.evaluate(() => app.transact([{ ':item/title': 'bob private notes', ':item/owner': 'bob' }]));
    await bob.evaluate((tx) => app.confirmed(tx), mine.tx);
    await expect.poll(() => shown(bob), { timeout: 15_000 }).toEqual(['bob private notes', 'shared milk']);
    await expect.poll(() => shown(alice), { timeout: 15_000 }).toEqual(['alice private diary', 'shared milk']);
    expect(await bob.evaluate(() => app.stored('alice private diary'))).toBe(false);
    expect(await bob.evaluate(() => app.stored('shared milk'))).toBe(true);

    // alice takes bob off the list: gone from bob's view and from his IndexedDB, live
    const list = seeded.ids['list']!;
    const revoke = await alice.evaluate((l) => app.transact([[':db/retract', l, ':list/members', 'bob']]), list);
    await alice.evaluate((tx) => app.confirmed(tx), revoke.tx);
    await expect.poll(() => shown(bob), { timeout: 15_000 }).toEqual(['bob private notes']);
    await expect.poll(() => bob.evaluate(() => app.stored('shared milk')), { timeout: 15_000 }).toBe(false);
    expect(await bob.evaluate(() => app.stored('groceries'))).toBe(false);

    // and after a reload
    await bob.reload();
    await ready(bob);
    await expect.poll(() => bob.evaluate(() => app.titles()), { timeout: 15_000 }).toEqual(['bob private notes']);
    await new Promise((r) => setTimeout(r, 300));
    expect(await shown(bob)).toEqual(['bob private notes']);
    expect(await bob.evaluate(() => app.stored('shared milk'))).toBe(false);
    expect(stack.chromium.pageErrors).toEqual([]);
  });
});
