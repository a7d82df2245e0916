/**
 * Time travel shows names not raw tx ids (issue 14): the demo's history steps, built from the real
 * client's history datoms, say what each transaction did with the entities' names.
 */
import { createClient } from '@dataloom/client';
import { afterEach, describe, expect, it } from 'vitest';
import { describeHistory, type HistoryDatom } from '../../demo-app/src/history/describe.js';
import { seedTx } from '../../demo-app/src/ledger/data.js';
import { schema } from '../../demo-app/src/schema.js';

const clients: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('time travel shows names not raw tx ids', () => {
  it('describes each transaction in words, with names', async () => {
    const c = createClient({ name: 'history-names', schema, storage: 'memory', tabs: false });
    clients.push(c);
    await c.transact([{ ':todo/id': 'a', ':todo/title': 'milk', ':todo/done': false, ':todo/created': 1 }]);
    await c.transact([{ ':db/id': [':todo/id', 'a'], ':todo/title': 'oat milk' }]);
    await c.transact([{ ':db/id': [':todo/id', 'a'], ':todo/done': true }]);
    await c.transact(seedTx());
    await c.transact([[':db/cas', [':thug/name', 'corinna'], ':thug/earnings', 125, 225]]);
    await c.transact([{ ':db/id': [':thug/name', 'berta'], ':thug/rat?': true }]);
    await c.transact([[':db/retractEntity', [':todo/id', 'a']]]);
    await c.transact([{ ':memo/id': 'm1', ':memo/text': 'Team offsite', ':memo/owner': 'ann', ':memo/private?': true, ':memo/created': 1 }]);
    await c.transact([{ ':memo/id': 'm1', ':memo/private?': false }]);
    await c.transact([{ ':lead/id': 'L-1', ':lead/company': 'Harbor Freight Co.' }]); // as the feed writes it: no stage yet
    await c.transact([{ ':lead/id': 'L-1', ':lead/stage': 'contacted' }]);
    const steps = describeHistory((await c.history()) as unknown as HistoryDatom[]);
    const said = steps.map((s) => s.changes.join('; '));
    expect(said.slice(-11)).toEqual([
      'added the task “milk”',
      'renamed the task “milk” to “oat milk”',
      'ticked the task “oat milk”',
      'loaded the sample team (8 people)',
      "raised Corinna's revenue $125 → $225",
      'flagged Berta for review',
      'deleted the task “oat milk”',
      'wrote the memo “Team offsite”',
      'shared the memo “Team offsite”',
      'the CRM feed added the lead “Harbor Freight Co.”',
      'the CRM feed moved “Harbor Freight Co.” to contacted',
    ]);
    for (const s of said) expect(s).not.toMatch(/entity \d|_\d+_\d+/);
  });
});
