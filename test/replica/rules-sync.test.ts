/**
 * `client.rule` against the real sync server (SQLite, loopback WebSockets): a business rule on
 * client A reacts to a write made on client B (arrived through the server), its transaction is
 * A's local optimistic transaction, and it reaches B — and a third client — like any other.
 */
import { describe, expect, it } from 'vitest';
import type { Diff } from '@dataloom/core';
import { until } from '../sync/support/wait.js';
import { testRig } from '../sync/support/rig.js';

const schema = {
  'item/title': { ':db/valueType': ':db.type/string' },
  'item/slug': { ':db/valueType': ':db.type/string' },
};

const { server, client } = testRig('rules-sync', { schema });

const SLUGS = '[:find ?title ?slug :where [?e :item/title ?title] [?e :item/slug ?slug]]';
const rows = (x: unknown) => [...(x as Iterable<unknown[]>)].map((r) => r.join('=')).sort();

describe('business rules through the sync server', () => {
  it('a rule on A answers B’s write; its transaction syncs to B and to C', async () => {
    const s = await server();
    const a = client(s.url);
    const b = client(s.url);
    const c = client(s.url);
    const fired: Diff[][] = [];
    const rule = a.rule('app/slug', '[:find ?e ?title :where [?e :item/title ?title] (not [?e :item/slug])]', (diffs) => {
      fired.push(diffs);
      return diffs.filter(([, , m]) => m === 1).map(([row]) => {
        const [e, title] = row as [number, string];
        return [':db/add', e, ':item/slug', title.toLowerCase().replace(/\s+/g, '-')];
      });
    });
    await rule.ready;
    const onB = b.watch(SLUGS);
    const onC = c.watch(SLUGS);
    await Promise.all([onB.ready, onC.ready]);

    const r = await b.transact([{ 'item/title': 'Hello World' }, { 'item/title': 'Second Item' }]);
    await b.confirmed(r.tx);
    await until(() => rows(onB.result()).length === 2, 'B sees the slugs A’s rule wrote');
    expect(rows(onB.result())).toEqual(['Hello World=hello-world', 'Second Item=second-item']);
    await until(() => rows(onC.result()).length === 2, 'C sees them too');
    // the rule fired for B's rows with B's transaction stamp, then saw its own write take them away
    const added = fired.flat().filter(([, , m]) => m === 1);
    expect(added.map(([, tx]) => tx)).toEqual([r.tx, r.tx]);
    expect(fired.flat().filter(([, , m]) => m === -1)).toHaveLength(2);
    // A's rule transaction went through A's outbox and was acknowledged
    await a.whenSynced();
    expect(await a.pending()).toEqual([]);
    // B's own later edit goes through the same rule once
    await b.transact([{ 'item/title': 'Third' }]);
    await until(() => rows(onC.result()).includes('Third=third'), 'the rule keeps working');
    expect(fired.flat().filter(([, , m]) => m === 1)).toHaveLength(3);
  });
});
