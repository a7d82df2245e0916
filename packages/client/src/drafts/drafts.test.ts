/**
 * Drafts on one replica and between replicas exchanging envelopes by hand: the draft view is the
 * committed database with the draft laid over it (per value), main views never see draft
 * operations, commit turns the net effect into one ordinary transaction, discard drops it,
 * closings cover exactly what the closer had seen, and conflicts are reported.
 */
import { describe, expect, it } from 'vitest';
import { q } from '@dataloom/query';
import { draftSchema, type TxEnvelope } from '@dataloom/core';
import { Replica } from '../replica/replica.js';
import { MemoryStore, memoryBacking } from '../store/memory.js';
import { DraftService } from './service.js';

const schema = {
  ...draftSchema,
  'item/title': {},
  'item/count': {},
  'item/tags': { ':db/cardinality': ':db.cardinality/many' },
  'item/owner': { ':db/valueType': ':db.type/ref' },
  'item/parts': { ':db/valueType': ':db.type/ref', ':db/cardinality': ':db.cardinality/many', ':db/isComponent': true },
  'part/name': {},
  'item/note': { ':db/valueType': ':db.type/text' },
  'item/sku': { ':db/unique': ':db.unique/identity' },
};

function clock(start = 1_700_000_000_000) {
  let t = start;
  return () => (t += 1);
}

function replica(id: string, store = new MemoryStore()) {
  const r = new Replica({ schema, replicaId: id, now: clock(), store });
  const svc = new DraftService(r, async (tx, o) => {
    const res = await r.localTransact(tx, o ?? {});
    return { tx: res.tx, tempids: {}, globalIds: res.tempids, persisted: res.persisted };
  });
  return { r, svc };
}

/** Hands every envelope of `from` (outbox and drafts) to `to` as if the server streamed them. */
async function exchange(from: Replica, to: Replica): Promise<void> {
  const envs: TxEnvelope[] = [...from.outbox()];
  for (const d of from.drafts.ids()) envs.push(...from.drafts.envelopes(d));
  await to.applyRemote(envs, null);
}

const mainTitles = (r: Replica) => (q('[:find [?t ...] :where [_ :item/title ?t]]', r.db()) as string[]).sort();

describe('drafts on a replica', () => {
  it('keeps draft ops out of main views; the draft view lays them over the committed database', async () => {
    const { r, svc } = replica('ra');
    const t = await r.localTransact([{ ':db/id': 'x', 'item/title': 'one', 'item/count': 1, 'item/tags': ['a', 'b'] }]);
    const x = t.tempids['x']!;
    const d = await svc.create();
    await svc.transact(d, [[':db/add', x, ':item/title', 'one (edited)'], [':db/retract', x, ':item/tags', 'a'], { 'item/title': 'new in draft' }]);
    expect(mainTitles(r)).toEqual(['one']);
    expect(((await svc.q(d, '[:find [?t ...] :where [_ :item/title ?t]]', [])) as string[]).sort()).toEqual(['new in draft', 'one (edited)']);
    expect(await svc.q(d, '[:find [?t ...] :where [_ :item/tags ?t]]', [])).toEqual(['b']);
    // committed changes the draft did not touch show through
    await r.localTransact([[':db/add', x, ':item/count', 2], [':db/add', x, ':item/tags', 'c']]);
    expect(await svc.q(d, '[:find ?c . :where [_ :item/count ?c]]', [])).toBe(2);
    expect(((await svc.q(d, '[:find [?t ...] :where [_ :item/tags ?t]]', [])) as string[]).sort()).toEqual(['b', 'c']);
    // where both changed a value, the draft's shows and the conflict is reported
    await r.localTransact([[':db/add', x, ':item/title', 'one (Bob)']]);
    expect(mainTitles(r)).toEqual(['one (Bob)']);
    expect(((await svc.q(d, '[:find [?t ...] :where [_ :item/title ?t]]', [])) as string[]).sort()).toEqual(['new in draft', 'one (edited)']);
    const conflicts = await svc.conflicts(d);
    expect(conflicts).toMatchObject([{ id: x, attr: ':item/title', committed: 'one (Bob)', draft: 'one (edited)' }]);
    expect(conflicts[0]!.tx > t.tx).toBe(true);
  });

  it('watch on a draft is maintained incrementally; commit shows the net effect in main views in one diff', async () => {
    const { r, svc } = replica('ra');
    const t = await r.localTransact([{ ':db/id': 'x', 'item/title': 'one' }]);
    const x = t.tempids['x']!;
    const main = r.conn.register('titles', '[:find ?t :where [_ :item/title ?t]]');
    const mainDiffs: unknown[] = [];
    main.subscribe((ds) => mainDiffs.push(ds));
    const d = await svc.create();
    const rows: unknown[] = [];
    const w = await svc.watch(d, '[:find ?t :where [_ :item/title ?t]]', [], (b) => rows.push(b));
    expect(w.init.rows).toEqual([['one']]);
    await svc.transact(d, [[':db/add', x, ':item/title', 'two']]);
    await svc.transact(d, [{ 'item/title': 'three' }]);
    expect(rows.length).toBe(2);
    r.flushDataflow();
    expect(mainDiffs).toEqual([]);
    const c = await svc.commit(d);
    expect(c.tx).not.toBeNull();
    r.flushDataflow();
    expect(mainDiffs.length).toBe(1);
    expect(new Set((mainDiffs[0] as Array<[unknown[], unknown, number]>).map(([row, , m]) => `${m}${row[0]}`))).toEqual(new Set(['-1one', '1two', '1three']));
    expect(mainTitles(r)).toEqual(['three', 'two']);
    // after the commit the draft has nothing live and its view equals the committed database
    expect(r.drafts.liveOps(d)).toEqual([]);
    expect(((await svc.q(d, '[:find [?t ...] :where [_ :item/title ?t]]', [])) as string[]).sort()).toEqual(['three', 'two']);
    const info = await svc.info(d);
    expect(info.status).toBe('committed');
    expect(info.live).toBe(0);
  });

  it('discard drops the draft; a later edit starts it again over the committed database', async () => {
    const { r, svc } = replica('ra');
    const t = await r.localTransact([{ ':db/id': 'x', 'item/title': 'one' }]);
    const x = t.tempids['x']!;
    const d = await svc.create();
    await svc.transact(d, [[':db/add', x, ':item/title', 'draft']]);
    await svc.discard(d);
    expect(await svc.q(d, '[:find ?t . :where [_ :item/title ?t]]', [])).toBe('one');
    expect(mainTitles(r)).toEqual(['one']);
    expect((await svc.info(d)).status).toBe('discarded');
    await svc.transact(d, [[':db/add', x, ':item/title', 'again']]);
    expect(await svc.q(d, '[:find ?t . :where [_ :item/title ?t]]', [])).toBe('again');
  });

  it('collaborators see each other’s draft ops; a commit covers only what the committer had seen', async () => {
    const a = replica('ra');
    const b = replica('rb');
    const t = await a.r.localTransact([{ ':db/id': 'x', 'item/title': 'one', 'item/count': 1 }]);
    const x = t.tempids['x']!;
    const d = await a.svc.create({ name: 'item-form' });
    await exchange(a.r, b.r);
    await a.svc.transact(d, [[':db/add', x, ':item/title', 'A typed']]);
    await exchange(a.r, b.r);
    expect(await b.svc.q('item-form', '[:find ?t . :where [_ :item/title ?t]]', [])).toBe('A typed');
    expect(mainTitles(b.r)).toEqual(['one']);
    // B edits concurrently with A's commit: A has not seen it
    await b.svc.transact('item-form', [[':db/add', x, ':item/count', 5]]);
    await a.svc.commit(d);
    await exchange(a.r, b.r);
    await exchange(b.r, a.r);
    for (const { r, svc } of [a, b]) {
      expect(mainTitles(r)).toEqual(['A typed']);
      expect(q('[:find ?c . :where [_ :item/count ?c]]', r.db())).toBe(1);
      // B's edit stays live in the draft, over the committed result, on both replicas
      expect(await svc.q(d, '[:find ?t ?c :where [?e :item/title ?t] [?e :item/count ?c]]', [])).toEqual(new Set([['A typed', 5]]));
      expect(r.drafts.liveOps(d).map((o) => o.v)).toEqual([5]);
    }
    await b.svc.commit(d);
    await exchange(b.r, a.r);
    expect(q('[:find ?c . :where [_ :item/count ?c]]', a.r.db())).toBe(5);
    expect(a.r.drafts.liveOps(d)).toEqual([]);
  });

  it('text fields merge character by character between the draft and committed edits', async () => {
    const { r, svc } = replica('ra');
    const t = await r.localTransact([{ ':db/id': 'x', 'item/note': 'hello world' }]);
    const x = t.tempids['x']!;
    const d = await svc.create();
    await svc.transact(d, [[':db/add', x, ':item/note', 'hello brave world']]);
    await r.localTransact([[':db/add', x, ':item/note', 'hello world!']]);
    expect(await svc.q(d, '[:find ?n . :where [_ :item/note ?n]]', [])).toBe('hello brave world!');
    expect(q('[:find ?n . :where [_ :item/note ?n]]', r.db())).toBe('hello world!');
    await svc.commit(d);
    expect(q('[:find ?n . :where [_ :item/note ?n]]', r.db())).toBe('hello brave world!');
  });

  it('a draft retractEntity hides the entity, its components and references to it; commit retracts it', async () => {
    const { r, svc } = replica('ra');
    const t = await r.localTransact([
      { ':db/id': 'x', 'item/title': 'x', 'item/parts': [{ 'part/name': 'p1' }] },
      { ':db/id': 'y', 'item/title': 'y', 'item/owner': 'x' },
    ]);
    const x = t.tempids['x']!;
    const d = await svc.create();
    await svc.transact(d, [[':db/retractEntity', x]]);
    expect(await svc.q(d, '[:find [?t ...] :where [_ :item/title ?t]]', [])).toEqual(['y']);
    expect(await svc.q(d, '[:find ?p :where [_ :part/name ?p]]', [])).toEqual(new Set());
    expect(await svc.q(d, '[:find ?o :where [_ :item/owner ?o]]', [])).toEqual(new Set());
    expect(mainTitles(r)).toEqual(['x', 'y']);
    await svc.commit(d);
    expect(mainTitles(r)).toEqual(['y']);
    expect(q('[:find ?p :where [_ :part/name ?p]]', r.db())).toEqual(new Set());
  });

  it('draft ops survive a reload (outbox and acknowledged alike) and stay out of main views', async () => {
    const backing = memoryBacking();
    const a = replica('ra', new MemoryStore(backing));
    const t = await a.r.localTransact([{ ':db/id': 'x', 'item/title': 'one' }]);
    const x = t.tempids['x']!;
    const d = await a.svc.create();
    const r1 = await a.svc.transact(d, [[':db/add', x, ':item/title', 'two'], [':db/add', x, ':item/count', 3]]);
    await a.r.ack(t.tx);
    await a.r.ack(r1.tx);
    await a.svc.transact(d, [[':db/add', x, ':item/tags', 'wip']]);
    await a.r.close();
    const b = replica('ra', new MemoryStore(backing));
    await b.r.ready;
    expect(mainTitles(b.r)).toEqual(['one']);
    expect(q('[:find ?c :where [_ :item/count ?c]]', b.r.db())).toEqual(new Set());
    expect(await b.svc.q(d, '[:find ?t ?c ?g :where [?e :item/title ?t] [?e :item/count ?c] [?e :item/tags ?g]]', [])).toEqual(new Set([['two', 3, 'wip']]));
  });
});
