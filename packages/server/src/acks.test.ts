/** Batched acknowledgements (`acks`, opt-in through the `dataloom.feature.acks` subprotocol entry). */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ACKS_FEATURE, SUBPROTOCOL } from '@dataloom/protocol';
import { createServer } from './index.js';

const SCHEMA = { 'item/title': { 'db/valueType': 'db.type/string' } };
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(protocols: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'acks-'));
  const server = await createServer({ store: `sqlite:${join(dir, 'db.sqlite')}`, port: 0, schema: SCHEMA });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => server.close());
  const ws = new WebSocket(server.url, protocols);
  const msgs: any[] = [];
  ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  cleanups.push(() => ws.terminate());
  const until = async (pred: () => boolean, what: string) => {
    for (let i = 0; i < 300 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!pred()) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(msgs)}`);
  };
  ws.send(JSON.stringify({ t: 'hello', v: 1, replica: 'rawA', cursor: null }));
  await until(() => msgs.some((m) => m.t === 'welcome'), 'welcome');
  return { ws, msgs, until, send: (m: unknown) => ws.send(JSON.stringify(m)) };
}

const stamp = (i: number) => `${(Date.now() + 0).toString(36).padStart(12, '0')}-${i.toString(36).padStart(4, '0')}-rawA`;
const env = (i: number, v: unknown = `t${i}`) => {
  const tx = stamp(i);
  return { tx, replica: 'rawA', ops: [{ id: `${tx}/0`, tx, e: `rawA.${i}`, op: 'add', a: 'item/title', v }] };
};

describe('batched acks', () => {
  it('answers one push with one acks message, in push order, when the client offers the feature', async () => {
    const c = await setup([SUBPROTOCOL, ACKS_FEATURE]);
    const txs = [env(1), env(2), env(3)];
    c.send({ t: 'push', txs });
    await c.until(() => c.msgs.some((m) => m.t === 'acks'), 'acks');
    const acks = c.msgs.filter((m) => m.t === 'acks');
    expect(acks).toHaveLength(1);
    expect(acks[0].acks.map((a: any) => a.tx)).toEqual(txs.map((t) => t.tx));
    const pos = acks[0].acks.map((a: any) => Number(a.pos));
    expect(pos).toEqual([pos[0], pos[0] + 1, pos[0] + 2]);
    expect(c.msgs.some((m) => m.t === 'ack')).toBe(false);
    // a re-sent push is acknowledged again at the original positions
    c.send({ t: 'push', txs });
    await c.until(() => c.msgs.filter((m) => m.t === 'acks').length === 2, 'second acks');
    expect(c.msgs.filter((m) => m.t === 'acks')[1].acks).toEqual(acks[0].acks);
  });

  it('a rejection in between splits the run; order is kept', async () => {
    const c = await setup([SUBPROTOCOL, ACKS_FEATURE]);
    const txs = [env(1), env(2), env(3, 42), env(4)]; // 42 on a string attribute: rejected
    c.send({ t: 'push', txs });
    await c.until(() => c.msgs.filter((m) => m.t !== 'welcome' && m.t !== 'ops').length === 3, 'answers');
    const answers = c.msgs.filter((m) => m.t !== 'welcome' && m.t !== 'ops');
    expect(answers.map((m) => m.t)).toEqual(['acks', 'reject', 'ack']);
    expect(answers[0].acks.map((a: any) => a.tx)).toEqual([txs[0]!.tx, txs[1]!.tx]);
    expect(answers[1].tx).toBe(txs[2]!.tx);
    expect(answers[2].tx).toBe(txs[3]!.tx);
  });

  it('sends one ack per transaction to clients that did not offer the feature (version 1 as before)', async () => {
    const c = await setup([SUBPROTOCOL]);
    const txs = [env(1), env(2), env(3)];
    c.send({ t: 'push', txs });
    await c.until(() => c.msgs.filter((m) => m.t === 'ack').length === 3, 'three acks');
    expect(c.msgs.filter((m) => m.t === 'ack').map((m) => m.tx)).toEqual(txs.map((t) => t.tx));
    expect(c.msgs.some((m) => m.t === 'acks')).toBe(false);
  });
});
