/**
 * `Replica.resetLog` (the server's log is another one; `replica/remote.ts`) on an IndexedDB-backed
 * replica (fake-indexeddb), seeded: other replicas' ops and drafts leave memory, views and the
 * store; own acknowledged transactions — drafts too, and one a compaction left in part, numbered
 * again — go back to the outbox; pending ones stay; the cursor is cleared; views get exactly the
 * reversing diffs; a reload shows the same; a second reset changes nothing. Another tab sharing the
 * store drops the same from memory (and a `drop` purge too).
 * End to end over real servers: test/sync/log-reset.test.ts.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { draftSchema, formatHlc, type TxEnvelope } from '@dataloom/core';
import { Replica, TabBus } from '../../packages/client/src/internals.js';
import { until } from '../sync/support/wait.js';
import { IdbStore } from '../../packages/client/src/store/indexeddb.js';
import { mulberry32, pick, replayableAsync, seeds } from '../gen/prng.js';

const schema = { ...draftSchema, 'n/name': {}, 'n/count': {}, 'n/tags': { ':db/cardinality': ':db.cardinality/many' } };
const rowsOf = (r: Replica) =>
  [...r.merged().datoms()]
    .filter((d) => d.a.startsWith('n/'))
    .map((d) => `${d.e} ${d.a} ${JSON.stringify(d.v)}`)
    .sort();

describe('replica reset to another log (fake-indexeddb)', () => {
  for (const seed of seeds(4, 300)) {
    it(`seed ${seed}`, () =>
      replayableAsync(seed, async () => {
        const rnd = mulberry32(seed);
        const name = `log-reset-${seed}-${Date.now()}`;
        let wall = 1_700_000_000_000;
        const open = () => new Replica({ schema, store: new IdbStore(name), now: () => wall });
        let r = open();
        await r.ready;
        const draft = `${r.replicaId}.d1`; // a global id: the draft's id as is
        const own: string[] = [];
        let n = 0;
        const remote = (draftOf?: string): TxEnvelope => {
          const tx = formatHlc({ ms: wall - 5, counter: n++, replica: 'other' });
          const e = `other.e${Math.floor(rnd() * 4)}`;
          return { tx, replica: 'other', ops: [{ id: `${tx}/0`, tx, e, op: 'add', a: 'n/name', v: `o${n}` }], ...(draftOf ? { draft: draftOf } : {}) };
        };
        // a later own write supersedes part of an acknowledged one; a compaction drops that part (first: nothing pending clamps its frontier)
        const made = await r.localTransact([{ ':db/id': 'p', 'n/tags': 'x' }]);
        await r.ack(made.tx, 'c-m');
        const p = r.eid(made.tempids.p!);
        wall += 2;
        const whole = await r.localTransact([[':db/add', p, ':n/name', 'whole'], [':db/add', p, ':n/count', 1]]);
        await r.ack(whole.tx, 'c-w');
        wall += 2;
        const later = await r.localTransact([[':db/add', p, ':n/name', 'renamed']]);
        await r.ack(later.tx, 'c-l');
        wall += 2;
        await r.compact({ frontier: formatHlc({ ms: wall, counter: 0, replica: 'zzz' }) });
        own.push(made.tx, whole.tx, later.tx);
        for (let step = 0; step < 30; step++) {
          wall += 1 + Math.floor(rnd() * 3);
          const k = rnd();
          if (k < 0.4) {
            const res = await r.localTransact([{ 'n/name': `m${step}`, 'n/count': step, 'n/tags': [pick(rnd, ['a', 'b'])] }]);
            own.push(res.tx);
            if (rnd() < 0.8) await r.ack(res.tx, `c${step}`);
          } else if (k < 0.5) {
            const res = await r.localTransact([{ 'n/name': `draft ${step}` }], { draft });
            own.push(res.tx);
            await r.ack(res.tx, `c${step}`);
          } else if (k < 0.9) {
            await r.applyRemote([remote(rnd() < 0.2 ? 'other.d9' : undefined)], `log1:${step}`);
          } else {
            await r.compact();
          }
        }
        const pending = r.outbox().map((e) => e.tx);
        const partial = [...r.merged().allOps()].filter((o) => o.tx === whole.tx);
        expect(partial.map((o) => o.id)).toEqual([`${whole.tx}/1`]); // /0 (the name) was superseded

        const ownRows = rowsOf(r).filter((row) => !row.startsWith('other.'));
        const view = r.conn.register('names', '[:find ?e ?v :where [?e :n/name ?v]]');
        const before = new Set([...(view.result() as Set<unknown[]>)].map((x) => JSON.stringify(x)));
        const diffs: Array<[unknown[], number]> = [];
        view.subscribe((d: Array<[unknown[], unknown, number]>) => diffs.push(...d.map(([row, , m]) => [row, m] as [unknown[], number])));

        const back = await r.resetLog();
        r.flushDataflow();
        expect(r.cursor()).toBeNull();
        // own rows stay, nothing of `other` is left (ops and drafts)
        expect(rowsOf(r)).toEqual(ownRows);
        expect([...r.merged().allOps()].every((o) => o.tx.endsWith(r.replicaId))).toBe(true);
        expect(r.drafts.ids().flatMap((d) => r.drafts.ops(d)).every((o) => o.tx.endsWith(r.replicaId))).toBe(true);
        // every own transaction is pending again, in tx order, whole (the partial one numbered again)
        const outbox = r.outbox();
        expect(outbox.map((e) => e.tx)).toEqual([...own].sort());
        expect(back.sort()).toEqual(own.filter((t) => !pending.includes(t)).sort());
        for (const env of outbox) env.ops.forEach((o, i) => expect(o.id).toBe(`${env.tx}/${i}`));
        expect(outbox.find((e) => e.tx === whole.tx)!.ops.map((o) => o.a)).toEqual(['n/count']);
        expect(outbox.filter((e) => e.draft === draft).length).toBe(own.filter((t) => r.drafts.ops(draft).some((o) => o.tx === t)).length);
        // the view got exactly the retractions of other's rows
        const after = new Set([...(view.result() as Set<unknown[]>)].map((x) => JSON.stringify(x)));
        const expected = new Set(before);
        for (const [row, m] of diffs) {
          expect(m).toBe(-1);
          expect(expected.delete(JSON.stringify(row))).toBe(true);
        }
        expect(after).toEqual(expected);
        const gids = [...after].map((x) => r.gid(JSON.parse(x)[0] as number));
        expect(gids.every((g) => g !== null && !g.startsWith('other.'))).toBe(true);
        expect(diffs.length).toBeGreaterThan(0);

        // a reload shows the same; a second reset changes nothing
        const snap = new TextDecoder().decode(r.encodeSnapshot());
        await r.close();
        r = open();
        await r.ready;
        expect(r.cursor()).toBeNull();
        expect(new TextDecoder().decode(r.encodeSnapshot())).toBe(snap);
        expect(r.outbox()).toEqual(outbox);
        expect(await r.resetLog()).toEqual([]);
        expect(rowsOf(r)).toEqual(ownRows);
        expect(r.outbox()).toEqual(outbox);
        await r.close();
        await new IdbStore(name).destroy();
      }));
  }

  it('another tab sharing the store drops the same from memory, takes the re-pushed writes as pending; a purge reaches it too', async () => {
    const name = `log-reset-tabs-${Date.now()}`;
    const open = () => new Replica({ schema, store: new IdbStore(name), sessionIds: true });
    const a = open();
    await a.ready;
    const b = open();
    await b.ready;
    const buses = [new TabBus(name, a), new TabBus(name, b)];
    const base = Date.now() - 1000;
    const stamp = (k: number) => formatHlc({ ms: base, counter: k, replica: 'other' });
    const envs: TxEnvelope[] = [0, 1, 2].map((k) => ({ tx: stamp(k), replica: 'other', ops: [{ id: `${stamp(k)}/0`, tx: stamp(k), e: `other.e${k}`, op: 'add', a: 'n/name', v: `o${k}` }] }));
    await a.applyRemote(envs, 'log1:3');
    const mineB = await b.localTransact([{ 'n/name': 'from b' }]);
    await until(() => a.outbox().some((e) => e.tx === mineB.tx), 'a sees b’s write');
    await a.ack(mineB.tx, 'log1:4');
    await until(() => rowsOf(b).length === 4 && b.outbox().length === 0, 'b has the remote rows, its write acknowledged');
    const view = b.conn.register('names', '[:find ?v :where [_ :n/name ?v]]');
    const diffs: Array<[unknown[], number]> = [];
    view.subscribe((d: Array<[unknown[], unknown, number]>) => diffs.push(...d.map(([row, , m]) => [row, m] as [unknown[], number])));

    // a purge in the syncing tab
    await a.purge(['other.e0'], []);
    await until(() => rowsOf(b).length === 3, 'b dropped other.e0');
    b.flushDataflow();
    expect(diffs).toEqual([[['o0'], -1]]);

    await a.resetLog();
    await until(() => rowsOf(b).length === 1 && b.outbox().length === 1, 'b dropped the old log');
    b.flushDataflow();
    expect(rowsOf(b)).toEqual(rowsOf(a));
    expect(b.outbox()).toEqual(a.outbox());
    expect(b.outbox().map((e) => e.tx)).toEqual([mineB.tx]);
    expect(b.cursor()).toBeNull();
    expect(diffs.slice(1).map(([row, m]) => `${m} ${String(row[0])}`).sort()).toEqual(['-1 o1', '-1 o2']);
    expect([...(view.result() as Set<unknown[]>)]).toEqual([['from b']]);
    for (const bus of buses) bus.close();
    await a.close();
    await b.close();
    await new IdbStore(name).destroy();
  });
});
