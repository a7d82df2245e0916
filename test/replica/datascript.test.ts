/** toDataScript keeps a `datascript` connection in sync with the replica (datsync use case). */
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { createClient } from '@dataloom/client';
import { toDataScript, type DataScriptApi } from '../../packages/client/src/interop/datascript.js';
import { until } from '../sync/support/wait.js';

const require = createRequire(import.meta.url);
const ds = require('datascript') as DataScriptApi & { q(q: string, ...i: unknown[]): unknown; db(conn: unknown): unknown };

const schema = {
  'person/name': {},
  'person/email': { ':db/unique': ':db.unique/identity' },
  'person/friend': { ':db/valueType': ':db.type/ref', ':db/cardinality': ':db.cardinality/many' },
  'person/bio': { ':db/valueType': ':db.type/text' },
};


describe('toDataScript', () => {
  it('mirrors every transaction into a DataScript connection', async () => {
    const client = createClient({ name: 'ds-interop', schema, storage: 'memory', tabs: false });
    await client.transact([{ ':db/id': 'a', 'person/name': 'Ivan', 'person/email': 'i@x', 'person/bio': 'hi' }]);
    const sync = toDataScript(client, ds, schema);
    await sync.ready;
    const names = () => new Set((ds.q('[:find [?n ...] :where [?e "person/name" ?n]]', ds.db(sync.conn)) as string[]));
    expect(names()).toEqual(new Set(['Ivan']));
    const r = await client.transact([{ ':db/id': 'b', 'person/name': 'Petr', 'person/friend': [['person/email', 'i@x']] }]);
    await until(() => names().size === 2);
    const friendOf = ds.q('[:find ?fn . :in $ ?p :where [?p "person/friend" ?f] [?f "person/name" ?fn]]', ds.db(sync.conn), r.tempids.b);
    expect(friendOf).toBe('Ivan');
    expect(ds.q('[:find ?b . :where [_ "person/bio" ?b]]', ds.db(sync.conn))).toBe('hi');
    await client.transact([[':db/retractEntity', ['person/email', 'i@x']]]);
    await until(() => names().size === 1);
    expect(ds.q('[:find ?f :where [_ "person/friend" ?f]]', ds.db(sync.conn))).toEqual([]);
    expect(sync.errors).toEqual([]);
    sync.close();
    await client.close();
  });
});
