/**
 * Schema as data learned from the log: a client started with an empty schema syncs from a real
 * server whose schema declares a cardinality-many, a unique-identity and a ref attribute. Its
 * queries must follow the schema the log carries (both tag values, upsert by key, refs as
 * entities), live and after a reload from IndexedDB (fake-indexeddb).
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { Client } from '../../packages/client/src/index.js';
import { within } from '../sync/support/harness.js';
import { testRig } from '../sync/support/rig.js';

const SERVER_SCHEMA = {
  'p/name': { 'db/valueType': 'db.type/string' },
  'p/tags': { 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/many' },
  'p/key': { 'db/valueType': 'db.type/string', 'db/unique': 'db.unique/identity' },
  'p/friend': { 'db/valueType': 'db.type/ref' },
};

const rig = testRig('schema-log', { schema: {} });
const client = (url: string, opts: { name?: string; storage?: 'memory' | 'indexeddb'; schema?: unknown } = {}) => rig.client(url, opts);

async function eventually<T>(read: () => Promise<T>, want: T, what: string): Promise<void> {
  let got: T | undefined;
  for (let i = 0; i < 300; i++) {
    got = await read();
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(got, what).toEqual(want);
}

const TAGS = '[:find [?t ...] :where [?e :p/name "ann"] [?e :p/tags ?t]]';
const FRIEND = '[:find ?fn . :where [?e :p/name "ann"] [?e :p/friend ?f] [?f :p/name ?fn]]';
const KEYED = '[:find [?n ...] :where [?e :p/key "k1"] [?e :p/name ?n]]';
const sorted = async (p: Promise<unknown>) => [...((await p) as string[])].sort();

async function writeData(writer: Client): Promise<void> {
  const r1 = await writer.transact([{ ':db/id': 'bob', ':p/name': 'bob' }]);
  await within(writer.confirmed(r1.tx), 10_000, 'bob acked');
  const bob = (await writer.q('[:find ?e . :where [?e :p/name "bob"]]')) as number;
  const r2 = await writer.transact([{ ':db/id': 'ann', ':p/name': 'ann', ':p/tags': ['a'], ':p/friend': bob, ':p/key': 'k1' }]);
  await within(writer.confirmed(r2.tx), 10_000, 'ann acked');
  const r3 = await writer.transact([{ ':db/id': 'ann2', ':p/key': 'k1', ':p/tags': ['b'] }]);
  await within(writer.confirmed(r3.tx), 10_000, 'upsert acked');
}

describe('schema as data from the log reaches an empty-schema client', () => {
  it('cardinality-many, unique identity and ref attributes, live and after a reload', async () => {
    const server = await rig.server({ schema: SERVER_SCHEMA });
    const writer = client(server.url, { schema: SERVER_SCHEMA });
    const name = `schema-log-idb-${process.pid}-${Date.now()}`;
    const reader = client(server.url, { name, storage: 'indexeddb' });
    await within(Promise.all([writer.whenSynced(), reader.whenSynced()]), 10_000, 'synced');
    const watched = reader.watch('[:find ?t :where [?e :p/name "ann"] [?e :p/tags ?t]]');
    await watched.ready;
    await writeData(writer);

    await eventually(() => sorted(reader.q(TAGS)), ['a', 'b'], 'tags at the empty-schema reader');
    await eventually(() => reader.q(FRIEND), 'bob', 'ref followed at the reader');
    // a view registered before the schema arrived is kept and follows it
    await eventually(async () => [...watched.result()].map((r) => (r as string[])[0]).sort(), ['a', 'b'], 'watched tags');
    await eventually(() => sorted(reader.q(KEYED)), ['ann'], 'one entity per identity key');
    // a write from the reader itself follows the learned schema
    const ann = (await reader.q('[:find ?e . :where [?e :p/name "ann"]]')) as number;
    await reader.transact([[':db/add', ann, ':p/tags', 'c']]);
    expect(await sorted(reader.q(TAGS))).toEqual(['a', 'b', 'c']);

    await reader.close();
    const again = client(server.url, { name, storage: 'indexeddb' });
    await within(again.whenSynced(), 10_000, 'reloaded synced');
    expect(await sorted(again.q(TAGS))).toEqual(['a', 'b', 'c']);
    expect(await again.q(FRIEND)).toBe('bob');
    expect(await sorted(again.q(KEYED))).toEqual(['ann']);
  });

  it('a schema definition the server rejects leaves the client schema with its rollback', async () => {
    const server = await rig.server({ schema: {}, authorizeWrite: (_u, tx) => !tx.ops.some((o) => o.v === 'forbidden') });
    const a = client(server.url);
    await within(a.whenSynced(), 10_000, 'synced');
    // schema as data written by the client itself (EDN: the ident is a keyword), in a transaction the server refuses
    const r = await a.transact('[{:db/ident :q/tags :db/cardinality :db.cardinality/many :db/valueType :db.type/string} {:db/id "x" :q/name "forbidden"}]');
    await a.transact([[':db/add', 'z', ':q/name', 'zz'], [':db/add', 'z', ':q/tags', 'm'], [':db/add', 'z', ':q/tags', 'n']]);
    expect(await sorted(a.q('[:find [?t ...] :where [?e :q/name "zz"] [?e :q/tags ?t]]')), 'many while the definition stands').toEqual(['m', 'n']);
    await expect(within(a.confirmed(r.tx), 10_000, 'verdict')).rejects.toMatchObject({ code: expect.any(String) });
    const r2 = await a.transact([{ ':db/id': 'y', ':q/name': 'yo', ':q/tags': 'p' }]);
    await a.transact([[':db/add', r2.tempids.y!, ':q/tags', 'q']]);
    const tags = '[:find [?t ...] :where [?e :q/name "yo"] [?e :q/tags ?t]]';
    expect(await sorted(a.q(tags)), 'cardinality-one again at the writer').toEqual(['q']);
    const b = client(server.url);
    await within(b.whenSynced(), 10_000, 'b synced');
    await eventually(() => sorted(b.q(tags)), ['q'], 'the server agrees');
  });
});
