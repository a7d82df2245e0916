/** `Replica.ackMany` (used by the sync client for runs of acknowledgements) equals `ack` per tx. */
import { describe, expect, it } from 'vitest';
import { Replica } from '../replica/replica.js';

const schema = { 'item/title': {} };

function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t++ };
}

async function withOutbox(id: string, n: number) {
  const r = new Replica({ schema, replicaId: id, now: clock().now });
  await r.ready;
  const txs: string[] = [];
  for (let i = 0; i < n; i++) txs.push((await r.localTransact([{ 'item/title': `t${i}` }])).tx);
  return { r, txs };
}

describe('Replica.ackMany', () => {
  it('drops the acknowledged txs from the outbox, keeps the rest in order, emits acked per tx in order', async () => {
    const a = await withOutbox('ra', 6);
    const b = await withOutbox('ra', 6);
    const events: Array<{ tx: string; cursor: string | null }> = [];
    a.r.on('acked', (e) => events.push(e));
    const picked = [a.txs[3]!, a.txs[0]!, a.txs[4]!, 'unknown-tx', a.txs[0]!];
    await a.r.ackMany(picked.map((tx, i) => ({ tx, cursor: String(i + 1) })));
    for (const tx of picked) await b.r.ack(tx);
    expect(a.r.outbox().map((e) => e.tx)).toEqual([a.txs[1], a.txs[2], a.txs[5]]);
    expect(a.r.outbox().map((e) => e.tx)).toEqual(b.r.outbox().map((e) => e.tx));
    expect(events).toEqual([
      { tx: a.txs[3], cursor: '1' },
      { tx: a.txs[0], cursor: '2' },
      { tx: a.txs[4], cursor: '3' },
    ]);
    await a.r.ackMany([]);
    expect(a.r.outbox()).toHaveLength(3);
  });
});
