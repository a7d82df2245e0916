/**
 * The demo's server configuration (`demo-app/server.config.mjs`) with real clients over real
 * WebSockets: the read rules of `permissions.edn` (a private memo reaches only its owner, the rest
 * of the app everyone), the write rules, and the back-end jobs (the user registry, the CRM feed).
 * The same flows in the browser are `screens.test.ts`'s permissions and sources screens.
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testRig } from '../../test/sync/support/rig.js';
import { until } from '../../test/sync/support/wait.js';
import { SCHEMA_EDN } from '../../demo-app/src/schema.js';
import { seedTx } from '../../demo-app/src/ledger/data.js';
import { demoDir, type DemoConfig } from './harness.js';

const config = (await import(pathToFileURL(join(demoDir, 'server.config.mjs')).href)) as DemoConfig;
const t = testRig('demo-config', { schema: SCHEMA_EDN });

const MEMOS = '[:find ?text ?owner :where [?m :memo/text ?text] [?m :memo/owner ?owner]]';
const LEADS = '[:find ?id ?stage :where [?l :lead/id ?id] [(get-else $ ?l :lead/stage "new") ?stage]]';

async function stack() {
  const s = await t.server(config.serverOptions());
  const stop = await config.startJobs(s, { feedMs: 0 });
  t.defer(stop);
  const ann = t.userClient(s.url, 'ann').c;
  const ben = t.userClient(s.url, 'ben').c;
  await Promise.all([ann.ready, ben.ready]);
  return { s, ann, ben };
}

describe('demo server configuration', () => {
  it("a private memo of Ann's never reaches Ben; made public it does, made private again it leaves", async () => {
    const { ann, ben } = await stack();
    await ann.transact(seedTx());
    await ann.transact([{ 'memo/id': 'm1', 'memo/text': 'Ann private', 'memo/owner': 'ann', 'memo/private?': true, 'memo/created': 1 }]);
    await ann.transact([{ 'memo/id': 'm2', 'memo/text': 'Ann public', 'memo/owner': 'ann', 'memo/private?': false, 'memo/created': 2 }]);
    await ben.transact([{ 'memo/id': 'm3', 'memo/text': 'Ben private', 'memo/owner': 'ben', 'memo/private?': true, 'memo/created': 3 }]);
    await Promise.all([ann.whenSynced(), ben.whenSynced()]);
    const texts = async (c: typeof ann) => [...((await c.q(MEMOS)) as Iterable<unknown[]>)].map((r) => r[0]).sort();
    await until(async () => (await texts(ben)).includes('Ann public'));
    expect(await texts(ben)).toEqual(['Ann public', 'Ben private']);
    await until(async () => (await texts(ann)).length === 2);
    expect(await texts(ann)).toEqual(['Ann private', 'Ann public']);
    // the rest of the app reaches everyone: the sample team Ann loaded is in Ben's replica
    await until(async () => ((await ben.q('[:find (count ?t) . :where [?t :thug/name]]')) as number) === 8);
    await ann.transact([{ 'memo/id': 'm2', 'memo/private?': true }]);
    await until(async () => !(await texts(ben)).includes('Ann public'));
    await ann.transact([{ 'memo/id': 'm1', 'memo/private?': false }]);
    await until(async () => (await texts(ben)).includes('Ann private'));
    expect(await texts(ben)).toEqual(['Ann private', 'Ben private']);
  });

  it('write rules: a memo written for someone else, a lead written by a client are refused with the rule’s message', async () => {
    const { ben } = await stack();
    const forged = await ben.transact([{ 'memo/id': 'x', 'memo/text': 'as Ann', 'memo/owner': 'ann' }]);
    await expect(ben.confirmed(forged.tx)).rejects.toMatchObject({ message: expect.stringContaining("a memo's owner is the user who writes it") });
    const lead = await ben.transact([{ 'lead/id': 'L-101', 'lead/stage': 'won' }]);
    await expect(ben.confirmed(lead.tx)).rejects.toMatchObject({ message: expect.stringContaining('leads come from the CRM feed') });
  });

  it("write rules: Ben cannot edit, hide, hand away or delete Ann's shared memo; his own memos and the rest of the app he may write", async () => {
    const { ann, ben } = await stack();
    const created = await ann.transact([{ 'memo/id': 'm2', 'memo/text': 'Ann public', 'memo/owner': 'ann', 'memo/private?': false, 'memo/created': 2 }]);
    await ann.confirmed(created.tx);
    const memo = '[:find ?text ?private :where [?m :memo/id "m2"] [?m :memo/text ?text] [?m :memo/private? ?private]]';
    const rows = async (c: typeof ann) => [...((await c.q(memo)) as Iterable<unknown[]>)];
    await until(async () => (await rows(ben)).length === 1);
    const attempts: unknown[] = [
      [{ 'memo/id': 'm2', 'memo/private?': true }],
      [{ 'memo/id': 'm2', 'memo/text': 'Ben was here' }],
      [[':db/retractEntity', [':memo/id', 'm2']]],
    ];
    for (const tx of attempts) {
      const r = await ben.transact(tx as never);
      await expect(ben.confirmed(r.tx)).rejects.toMatchObject({ code: 'sync/forbidden' });
    }
    await Promise.all([ann.whenSynced(), ben.whenSynced()]);
    expect(await rows(ann)).toEqual([['Ann public', false]]);
    expect(await rows(ben)).toEqual([['Ann public', false]]);
    // his own memo, and the shared app data, Ben writes as before
    const own = await ben.transact([{ 'memo/id': 'b1', 'memo/text': 'Ben note', 'memo/owner': 'ben', 'memo/private?': false, 'memo/created': 3 }]);
    await ben.confirmed(own.tx);
    const team = await ben.transact(seedTx());
    await ben.confirmed(team.tx);
    const handOff = await ben.transact([{ 'memo/id': 'b1', 'memo/owner': 'ann' }]);
    await expect(ben.confirmed(handOff.tx)).rejects.toBeTruthy();
  });

  it('the CRM feed: its leads reach every client, and each tick moves one on', async () => {
    const { s, ann, ben } = await stack();
    const leads = async (c: typeof ann) => new Map((await c.q(LEADS)) as Array<[string, string]>);
    await until(async () => (await leads(ben)).size === config.CRM.length);
    expect((await leads(ann)).get('L-101')).toBe('new');
    await config.feedTick(s, 0);
    await until(async () => (await leads(ben)).get('L-101') === 'contacted');
    await until(async () => (await leads(ann)).get('L-101') === 'contacted');
  });
});
