/**
 * Property (issue 9): whatever the server acknowledges, every replica can apply. A hostile
 * connection pushes random near-valid and malformed envelopes (names at and over the limits,
 * invisible characters, forged ids, garbage text updates, unknown refs, wrong types, future
 * stamps, drafts, cas checks); then a fresh real client (Replica + SyncClient) syncs the whole log
 * and must apply every acknowledged envelope: nothing quarantined, every acknowledged op held.
 * `FUZZ_RUNS` multiplies the count; `FUZZ_SEED` replays.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { bytesToBase64 } from '@dataloom/core/internals';
import { DEFAULT_LIMITS } from '@dataloom/protocol';
import { Replica, SyncClient } from '../../packages/client/src/internals.js';
import type { SocketCtor } from '../../packages/client/src/sync/socket.js';
import { createServer } from '../../packages/server/src/index.js';
import { TEST_SCHEMA, tempDir, within } from './support/harness.js';
import { mulberry32, pick } from '../gen/prng.js';
import { raw, stampOf } from './support/raw.js';

const SEED = Number(process.env.FUZZ_SEED ?? 9);
const TOTAL = 400 * Number(process.env.FUZZ_RUNS ?? 1);
const SCHEMA = { ...TEST_SCHEMA, 'item/bio': { 'db/valueType': 'db.type/text' }, 'item/code': { 'db/valueType': 'db.type/string', 'db/unique': 'db.unique/value' } };
const L = DEFAULT_LIMITS;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type Rand = () => number;

function yjsUpdate(rand: Rand): string {
  const d = new Y.Doc();
  d.getText('text').insert(0, 'x'.repeat(1 + Math.floor(rand() * 5)));
  return bytesToBase64(Y.encodeStateAsUpdate(d));
}

function name(rand: Rand): string {
  return pick(rand, [
    'item/title',
    'item/count',
    'item/tags',
    'item/owner',
    'item/bio',
    'item/code',
    'free/attr',
    'prénom/名前',
    'a/' + 'b'.repeat(L.maxAttrLength - 2),
    'a/' + 'b'.repeat(L.maxAttrLength - 1),
    'a b',
    'a\u200bb',
    ':item/title',
    'db/ident',
    'db/other',
    'x\ud800',
    '',
  ]);
}

function entity(rand: Rand, replica: string): unknown {
  return pick(rand, [
    `${replica}.${Math.floor(rand() * 20).toString(36)}`,
    `${replica}.${Math.floor(rand() * 20).toString(36)}`,
    'other.1',
    `${replica}.${'z'.repeat(40)}`,
    `${replica}.${'z'.repeat(41)}`,
    'no-dot',
    '../etc',
    7,
  ]);
}

function value(rand: Rand, replica: string): unknown {
  return pick(rand, [
    `v${Math.floor(rand() * 100)}`,
    Math.floor(rand() * 100),
    rand() * 10,
    true,
    { kw: pick(rand, ['a/b', 'a b', 'ok']) },
    { ref: entity(rand, replica) },
    { inst: Math.floor(rand() * 1e12) },
    { inst: 9e15 },
    { uuid: '6ba7b810-9dad-11d1-80b4-00c04fd430c8' },
    { uuid: 'nope' },
    'x'.repeat(L.maxStringLength),
    'x'.repeat(L.maxStringLength + 1),
    '\u0000\ud800',
    null,
    [],
    { a: 1, b: 2 },
    1e308 * 10,
  ]);
}

/** A valid op for the schema: the value matches the attribute's type. */
function validOp(rand: Rand, replica: string, tx: string, i: number): Record<string, unknown> {
  const e = `${replica}.${Math.floor(rand() * 20).toString(36)}`;
  const op: Record<string, unknown> = { id: `${tx}/${i}`, tx, e };
  switch (pick(rand, ['title', 'count', 'tags', 'owner', 'bio', 'code', 'free', 'retract', 'retractEntity'])) {
    case 'title':
      return { ...op, op: 'add', a: 'item/title', v: `t${Math.floor(rand() * 50)}` };
    case 'count':
      return { ...op, op: 'add', a: 'item/count', v: Math.floor(rand() * 50) };
    case 'tags':
      return { ...op, op: 'add', a: 'item/tags', v: `g${Math.floor(rand() * 5)}` };
    case 'owner':
      return { ...op, op: 'add', a: 'item/owner', v: { ref: e } };
    case 'bio':
      return { ...op, op: 'text', a: 'item/bio', v: yjsUpdate(rand) };
    case 'code':
      return { ...op, op: 'add', a: 'item/code', v: `c${Math.floor(rand() * 30)}` };
    case 'free':
      return { ...op, op: 'add', a: pick(rand, ['free/attr', 'prénom/名前', 'a/' + 'b'.repeat(L.maxAttrLength - 2)]), v: value(rand, replica) };
    case 'retract':
      return { ...op, op: 'retract', a: 'item/title' };
    default:
      return { ...op, op: 'retractEntity' };
  }
}

/** A valid envelope, and in most cases one near-valid or malformed change to it. */
function envelope(rand: Rand, replica: string): Record<string, unknown> {
  const tx = stampOf(replica, rand() < 0.03 ? 60 * 60_000 : 0);
  const ops = Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, i) => validOp(rand, replica, tx, i));
  const env: Record<string, unknown> = { tx, replica, ops };
  if (rand() < 0.1) env.checks = [{ kind: 'cas', e: ops[0]!.e, a: 'item/count', expected: rand() < 0.7 ? null : Math.floor(rand() * 50), v: 1 }];
  if (rand() < 0.08) env.draft = pick(rand, ['form-1', 'form-2']);
  if (rand() < 0.4) return env;
  const op = pick(rand, ops);
  switch (Math.floor(rand() * 8)) {
    case 0:
      if (op.op !== 'retractEntity') op.a = name(rand);
      break;
    case 1:
      if (op.op !== 'retractEntity') op.v = value(rand, replica);
      break;
    case 2:
      op.e = entity(rand, replica);
      break;
    case 3:
      op.op = pick(rand, ['text', 'drop', 'retractEntity', 'add']);
      if (op.op === 'text') op.v = pick(rand, ['AAAA', 'not base64!', btoa('garbage'), yjsUpdate(rand)]);
      break;
    case 4:
      op.id = `${tx}/${ops.length + 1}`;
      break;
    case 5:
      if (rand() < 0.5) op.extra = 1;
      else env.draft = pick(rand, ['form 2', 'd'.repeat(L.maxIdLength + 1), '']);
      break;
    case 6:
      env.checks = [{ kind: 'cas', e: entity(rand, replica), a: name(rand), expected: rand() < 0.5 ? null : value(rand, replica), v: value(rand, replica) }];
      break;
    default:
      op.a = pick(rand, ['db/ident', 'db/valueType', 'db/other']);
      op.v = pick(rand, [{ kw: 'db.type/string' }, { kw: 'x/y' }, 'str']);
  }
  return env;
}

describe('acknowledged means appliable', () => {
  it(`a fresh client applies every envelope the server acknowledged (${TOTAL} random envelopes, seed ${SEED})`, { timeout: 120_000 }, async () => {
    const t = tempDir();
    const server = await createServer({ store: `sqlite:${join(t.dir, 'db.sqlite')}`, port: 0, schema: SCHEMA, onError: () => {} });
    cleanups.push(t.cleanup, () => server.close());
    const rand = mulberry32(SEED);
    const replica = 'hostile';
    const acked = new Map<string, Record<string, unknown>>();
    const rejected = new Map<string, string>();
    const c = await raw(server.url, cleanups);
    c.send({ t: 'hello', v: 1, replica, cursor: null });
    let sent = 0;
    while (sent < TOTAL) {
      // pushes within the frame limit (a frame over it is connection-level abuse)
      const batch: Array<Record<string, unknown>> = [];
      let bytes = 0;
      while (batch.length < 20 && sent < TOTAL) {
        const e = envelope(rand, replica);
        const size = Buffer.byteLength(JSON.stringify(e));
        if (batch.length > 0 && bytes + size > L.maxMessageBytes - 1024) break;
        if (size > L.maxMessageBytes - 1024) continue;
        batch.push(e);
        bytes += size;
        sent++;
      }
      c.send({ t: 'push', txs: batch });
      const last = batch.at(-1)!.tx;
      await c.until(() => c.closed() !== null || c.msgs.some((m) => (m.t === 'ack' || m.t === 'reject') && m.tx === last), `answers (seed ${SEED})`, 10_000);
      expect(c.closed(), `stamped envelopes are answered one by one, never with a close (seed ${SEED})`).toBeNull();
      const byTx = new Map(batch.map((e) => [e.tx as string, e]));
      for (const m of c.msgs.splice(0)) {
        if (m.t === 'ack') acked.set(m.tx, byTx.get(m.tx)!);
        else if (m.t === 'acks') for (const a of m.acks) acked.set(a.tx, byTx.get(a.tx)!);
        else if (m.t === 'reject') rejected.set(m.tx, m.code);
      }
    }
    c.ws.close();
    expect(acked.size, `some envelopes are acknowledged (seed ${SEED})`).toBeGreaterThan(TOTAL / 10);
    expect(rejected.size, `some are rejected (seed ${SEED})`).toBeGreaterThan(TOTAL / 10);

    const fresh = new Replica({ schema: {} });
    const sync = new SyncClient({ url: server.url, replica: fresh, WebSocket: WebSocket as unknown as SocketCtor, backoff: { initialMs: 20, maxMs: 200 } });
    cleanups.push(() => sync.close(), () => fresh.close());
    await within(sync.whenSynced(), 30_000, `fresh client synced (seed ${SEED})`);
    expect(sync.quarantined(), `nothing acknowledged is unappliable (seed ${SEED})`).toEqual([]);
    expect(sync.status().quarantined).toBe(0);
    const held = fresh.merged();
    for (const [tx, env] of acked) {
      if (env.draft !== undefined) {
        expect(fresh.drafts.envelopes(env.draft as string).some((e) => e.tx === tx), `draft ${tx} held (seed ${SEED})`).toBe(true);
        continue;
      }
      for (const op of env.ops as Array<{ id: string }>) expect(held.has(op.id), `op ${op.id} held (seed ${SEED})`).toBe(true);
    }
  });
});
