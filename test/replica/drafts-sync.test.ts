/**
 * Drafts between two and three real clients through the real sync server (SQLite, loopback
 * WebSockets): work in progress shows in collaborators' draft views and in nobody's main views;
 * a commit reaches every main view as one diff per query; a discard removes the draft everywhere;
 * a commit racing a collaborator's edit converges the same way on every replica; a commit the
 * server refuses leaves the draft intact with the reason; undo leaves a remote change in place.
 */
import { describe, expect, it } from 'vitest';
import { DataloomError, draftSchema } from '@dataloom/core';
import type { Client, WatchedQuery } from '@dataloom/client';
import { until } from '../sync/support/wait.js';
import { testRig } from '../sync/support/rig.js';

const schema = {
  ...draftSchema,
  ':item/title': { ':db/valueType': ':db.type/string' },
  ':item/count': { ':db/valueType': ':db.type/long' },
  ':item/note': { ':db/valueType': ':db.type/text' },
};

const { server, client } = testRig('drafts-sync', { schema });

/** Records every diff batch a watched query receives. */
function record(v: WatchedQuery): Array<Array<[unknown, unknown, number]>> {
  const batches: Array<Array<[unknown, unknown, number]>> = [];
  v.subscribe((d) => batches.push(d as Array<[unknown, unknown, number]>));
  return batches;
}

const TITLES = '[:find ?t :where [_ :item/title ?t]]';
const set = (v: WatchedQuery) => [...(v.result() as Set<[string]>)].map((r) => r[0]).sort();

describe('drafts through the sync server', () => {
  it('WIP shows in collaborators’ draft views only; commit reaches every main view as one diff per query', async () => {
    const s = await server();
    const [a, b, c] = [client(s.url), client(s.url), client(s.url)];
    const r = await a.transact([{ ':db/id': 'x', ':item/title': 'milk', ':item/count': 1 }]);
    const x = r.globalIds['x']!;
    await a.confirmed(r.tx);
    const mains = [a, b, c].map((k) => k.watch(TITLES));
    const counts = [a, b, c].map((k) => k.watch('[:find ?n :where [_ :item/count ?n]]'));
    await Promise.all([...mains, ...counts].map((v) => v.ready));
    await until(() => mains.every((v) => set(v).join() === 'milk'), 'everyone sees the committed title');
    const mainBatches = mains.map(record);
    const countBatches = counts.map(record);
    const id = await a.createDraft({ name: 'order-42/edit' });
    const drafts = [a, b, c].map((k) => k.draft('order-42/edit'));
    expect(drafts.every((d) => d.id === id)).toBe(true);
    const views = drafts.map((d) => d.watch(TITLES));
    await Promise.all(views.map((v) => v.ready));
    await drafts[0]!.transact([[':db/add', x, ':item/title', 'oat milk'], [':db/add', x, ':item/count', 2]]);
    await drafts[1]!.transact([{ ':item/title': 'bread' }]);
    await until(() => views.every((v) => set(v).join() === 'bread,oat milk'), 'every collaborator sees both WIPs');
    await Promise.all([a, b, c].map((k) => k.whenSynced()));
    await new Promise((res) => setTimeout(res, 50));
    expect(mainBatches.flat()).toEqual([]);
    expect(countBatches.flat()).toEqual([]);
    for (const k of [a, b, c]) expect(await k.q('[:find [?t ...] :where [_ :item/title ?t]]')).toEqual(['milk']);
    // the third client commits what the other two wrote
    const { tx } = await drafts[2]!.commit();
    await c.confirmed(tx!);
    await until(() => mains.every((v) => set(v).join() === 'bread,oat milk'), 'the commit reaches every main view');
    for (const batches of mainBatches) {
      expect(batches.length).toBe(1);
      expect(new Set(batches[0]!.map(([row, , m]) => `${m}${(row as string[])[0]}`))).toEqual(new Set(['-1milk', '1oat milk', '1bread']));
    }
    for (const batches of countBatches) expect(batches.length).toBe(1);
    for (const k of [a, b, c]) expect(await k.q('[:find ?n . :where [_ :item/count ?n]]')).toBe(2);
    // the draft is closed everywhere: nothing live, its view equals the main one
    await until(async () => (await Promise.all(drafts.map((d) => d.collaborators()))).every((i) => i.live === 0 && i.status === 'committed'), 'closed everywhere');
    for (const v of views) expect(set(v)).toEqual(['bread', 'oat milk']);
  });

  it('discard removes the draft from every collaborator’s view', async () => {
    const s = await server();
    const [a, b] = [client(s.url), client(s.url)];
    const r = await a.transact([{ ':db/id': 'x', ':item/title': 'milk' }]);
    const x = r.globalIds['x']!;
    const da = a.draft('form');
    const db = b.draft('form');
    const vb = db.watch(TITLES);
    await da.transact([[':db/add', x, ':item/title', 'WIP']]);
    await until(() => set(vb).join() === 'WIP', 'B sees the WIP');
    await db.discard();
    await until(async () => (await da.q(TITLES)) instanceof Set && [...((await da.q(TITLES)) as Set<string[]>)].map((t) => t[0]).join() === 'milk', 'A’s draft view is back to the committed value');
    expect(set(vb)).toEqual(['milk']);
    expect(await a.q('[:find [?t ...] :where [_ :item/title ?t]]')).toEqual(['milk']);
  });

  it('a commit racing a collaborator’s edit converges the same way everywhere: the late edit stays in the draft', async () => {
    const s = await server();
    const [a, b] = [client(s.url), client(s.url)];
    const r = await a.transact([{ ':db/id': 'x', ':item/title': 'milk', ':item/count': 1 }]);
    const x = r.globalIds['x']!;
    const da = a.draft('race');
    const db = b.draft('race');
    await da.transact([[':db/add', x, ':item/title', 'oat milk']]);
    await until(async () => (await db.q('[:find ?t . :where [_ :item/title ?t]]')) === 'oat milk', 'B sees A’s WIP');
    // both act at once: A commits, B edits another value in the draft
    const [commit] = await Promise.all([da.commit(), db.transact([[':db/add', x, ':item/count', 7]])]);
    await a.confirmed(commit.tx!);
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const state = async (k: Client, d: ReturnType<Client['draft']>) => ({
      main: await k.q('[:find ?t ?n :where [?e :item/title ?t] [?e :item/count ?n]]'),
      draft: await d.q('[:find ?t ?n :where [?e :item/title ?t] [?e :item/count ?n]]'),
      live: (await d.collaborators()).live,
    });
    await until(async () => JSON.stringify(await state(a, da)) === JSON.stringify(await state(b, db)), 'both replicas agree');
    // nothing is lost: B's edit is in the draft view either way; it reached the main view only if
    // A had seen it when committing (then the closing covers it), else it stays live in the draft
    const sa = await state(a, da);
    expect(sa.draft).toEqual(new Set([['oat milk', 7]]));
    if (sa.live === 1) expect(sa.main).toEqual(new Set([['oat milk', 1]]));
    else expect([sa.main, sa.live]).toEqual([new Set([['oat milk', 7]]), 0]);
  });

  it('a commit the server refuses rolls back; the draft stays as it was, with the reason', async () => {
    const s = await server({ authorizeWrite: (_u: unknown, tx: { draft?: string; ops: Array<{ v?: unknown }> }) => tx.draft !== undefined || !tx.ops.some((o) => o.v === 'forbidden') });
    const [a, b] = [client(s.url), client(s.url)];
    const r = await a.transact([{ ':db/id': 'x', ':item/title': 'milk' }]);
    const x = r.globalIds['x']!;
    const d = a.draft('refused');
    await d.transact([[':db/add', x, ':item/title', 'forbidden']]);
    const { tx } = await d.commit();
    const err = await a.confirmed(tx!).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(DataloomError);
    expect((err as DataloomError).code).toBe('sync/forbidden');
    await until(async () => (await a.q('[:find ?t . :where [_ :item/title ?t]]')) === 'milk', 'main view rolled back');
    expect(await d.q('[:find ?t . :where [_ :item/title ?t]]')).toBe('forbidden');
    expect((await d.collaborators()).live).toBe(1);
    await until(async () => (await b.draft('refused').q('[:find ?t . :where [_ :item/title ?t]]')) === 'forbidden', 'the collaborator still has the draft');
    expect(await b.q('[:find ?t . :where [_ :item/title ?t]]')).toBe('milk');
  });

  it('undo after a remote change leaves the remote change in place', async () => {
    const s = await server();
    const [a, b] = [client(s.url), client(s.url)];
    const r = await a.transact([{ ':db/id': 'x', ':item/title': 'milk', ':item/count': 1 }]);
    const x = r.globalIds['x']!;
    await a.transact([[':db/add', x, ':item/title', 'oat milk'], [':db/add', x, ':item/count', 2]]);
    await until(async () => (await b.q('[:find ?t . :where [_ :item/title ?t]]')) === 'oat milk', 'B sees A');
    const rb = await b.transact([[':db/add', x, ':item/title', 'soy milk']]);
    await b.confirmed(rb.tx);
    await until(async () => (await a.q('[:find ?t . :where [_ :item/title ?t]]')) === 'soy milk', 'A sees B');
    const u = await a.undo();
    await a.confirmed(u.tx!);
    for (const k of [a, b]) {
      await until(async () => (await k.q('[:find ?n . :where [_ :item/count ?n]]')) === 1, 'the undo reaches everyone');
      expect(await k.q('[:find ?t . :where [_ :item/title ?t]]')).toBe('soy milk');
    }
  });
});
