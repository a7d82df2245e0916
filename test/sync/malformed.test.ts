/**
 * Hostile input: ≥ 10,000 mutated and hand-crafted messages (wrong types, huge lengths, deep
 * nesting, unknown ops, forged op ids, forged replicas, replays, clock-drifted stamps, broken
 * JSON) from several attacker connections while two honest clients keep transacting.
 * The server must answer every message (an error then a 1008/1009 close, or an ack/reject/pong),
 * never crash or hang, and the honest clients must not notice. `FUZZ_RUNS` multiplies the count;
 * `FUZZ_SEED` replays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createServer, type DataloomServer } from '../../packages/server/src/index.js';
import { DEFAULT_LIMITS, checkEnvelope } from '@dataloom/protocol';
import { createSqliteStore } from '../../packages/server/src/storage/sqlite.js';
import { TEST_SCHEMA, makeClient, sleep, tempDir, within } from './support/harness.js';
import { mulberry32, pick } from '../gen/prng.js';

const SEED = Number(process.env.FUZZ_SEED ?? 7);
const TOTAL = 10_000 * Number(process.env.FUZZ_RUNS ?? 1);
const ATTACKERS = 6;
const MAX_BYTES = 64 * 1024;

type Rand = () => number;
let stampCounter = 0;
function stamp(replica: string, msOffset = 0): string {
  const c = stampCounter++;
  return `${(Date.now() + msOffset).toString(36).padStart(12, '0')}-${(c % 1679616).toString(36).padStart(4, '0')}-${replica}`;
}

function validEnv(rand: Rand, replica: string) {
  const tx = stamp(replica);
  const n = 1 + Math.floor(rand() * 3);
  const e = `${replica}.${Math.floor(rand() * 50).toString(36)}`;
  const ops = Array.from({ length: n }, (_, i) => {
    const a = pick(rand, ['item/title', 'item/count', 'item/tags']);
    const v = a === 'item/count' ? Math.floor(rand() * 100) : `v${Math.floor(rand() * 1000)}`;
    return { id: `${tx}/${i}`, tx, e, op: 'add', a, v } as Record<string, unknown>;
  });
  return { tx, replica, ops } as Record<string, unknown>;
}

const deep = (n: number, open = '[', close = ']') => open.repeat(n) + close.repeat(n);
const junkValues = (rand: Rand): unknown[] => [
  null,
  true,
  -1,
  1e308,
  0.5,
  '',
  'x'.repeat(70_000),
  'x'.repeat(300),
  '\u0000\ud800',
  [],
  {},
  [[[[[[[[[[1]]]]]]]]]],
  { kw: 5 },
  { ref: '../../etc' },
  { inst: 'yesterday' },
  { uuid: 'nope' },
  { kw: 'a', ref: 'b' },
  { foo: 1 },
  Array.from({ length: 2000 }, () => 1),
  Math.floor(rand() * 1e9),
  '__proto__',
  { __proto__: { polluted: true } },
];

/** Structural mutation of a JSON-able value at a random path. */
function mutate(rand: Rand, root: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(root));
  const paths: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
  const walk = (x: unknown) => {
    if (Array.isArray(x)) x.forEach((v, i) => (paths.push({ parent: x, key: i }), walk(v)));
    else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) paths.push({ parent: x as Record<string, unknown>, key: k }), walk(v);
  };
  walk(copy);
  const times = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < times && paths.length; i++) {
    const { parent, key } = pick(rand, paths);
    const r = rand();
    const p = parent as Record<string | number, unknown>;
    if (r < 0.25 && !Array.isArray(parent)) delete p[key];
    else if (r < 0.65) p[key] = pick(rand, junkValues(rand));
    else if (r < 0.75 && !Array.isArray(parent)) p[`extra${Math.floor(rand() * 9)}`] = 1;
    else if (r < 0.85 && Array.isArray(parent)) parent.push(parent[key as number]);
    else if (r < 0.92 && typeof p[key] === 'string') p[key] = (p[key] as string) + pick(rand, ['/0', 'X', '-', '.', ' ', '\u202e']);
    else p[key] = pick(rand, ['add', 'retract', 'retractEntity', 'text', 'delete', 'eval', 'hello', 'push', 'cas']);
  }
  return copy;
}

/** Text-level mutation: flip, cut, insert garbage, truncate. */
function mutateText(rand: Rand, s: string): string {
  const i = Math.floor(rand() * s.length);
  switch (Math.floor(rand() * 5)) {
    case 0:
      return s.slice(0, i) + String.fromCharCode(Math.floor(rand() * 128)) + s.slice(i + 1);
    case 1:
      return s.slice(0, i) + s.slice(i + 1 + Math.floor(rand() * 10));
    case 2:
      return s.slice(0, i) + pick(rand, ['{', '[', '"', '\\', '}', ']', ',', ':', 'null', '\\u0000', deep(30)]) + s.slice(i);
    case 3:
      return s.slice(0, i);
    default:
      return s + s;
  }
}

/** Hand-crafted hostile messages (sent after a valid hello unless `fresh`). */
function crafted(replica: string): Array<{ text: string; fresh?: boolean; what: string }> {
  const env = (over: Record<string, unknown> = {}, opOver: Record<string, unknown> = {}) => {
    const tx = (over.tx as string) ?? stamp(replica);
    return { tx, replica, ops: [{ id: `${tx}/0`, tx, e: `${replica}.1`, op: 'add', a: 'item/title', v: 'x', ...opOver }], ...over };
  };
  const push = (...txs: unknown[]) => JSON.stringify({ t: 'push', txs });
  const list: Array<{ text: string; fresh?: boolean; what: string }> = [
    { text: '', what: 'empty frame' },
    { text: 'not json', what: 'garbage' },
    { text: 'null', what: 'null' },
    { text: '[]', what: 'array' },
    { text: '"hello"', what: 'string' },
    { text: '{}', what: 'no type' },
    { text: '{"t":"launch"}', what: 'unknown type' },
    { text: '{"t":"push","txs":[]}', fresh: true, what: 'push before hello' },
    { text: JSON.stringify({ t: 'hello', v: 2, replica, cursor: null }), fresh: true, what: 'future protocol version' },
    { text: JSON.stringify({ t: 'hello', v: 1, replica: 'bad replica!', cursor: null }), fresh: true, what: 'bad replica id' },
    { text: JSON.stringify({ t: 'hello', v: 1, replica, cursor: '-1' }), fresh: true, what: 'negative cursor' },
    { text: JSON.stringify({ t: 'hello', v: 1, replica, cursor: '99999999' }), fresh: true, what: 'cursor ahead of the log' },
    { text: JSON.stringify({ t: 'hello', v: 1, replica, cursor: 5 }), fresh: true, what: 'numeric cursor' },
    { text: JSON.stringify({ t: 'hello', v: 1, replica, cursor: null }), what: 'second hello' },
    { text: deep(100_000), what: 'deep arrays' },
    { text: deep(5000, '{"a":', '}').replace(/}+$/, '') + '1' + '}'.repeat(5000), what: 'deep objects' },
    { text: `{"t":"push","txs":[${deep(20)}]}`, what: 'deep inside push' },
    { text: '{"t":"push","txs":' + 'x'.repeat(MAX_BYTES + 10) + '}', what: 'too big' },
    { text: push(env({}, { v: 1e400 })).replace('1e+400', '1e400'), what: 'infinite number' },
    { text: push(...Array.from({ length: DEFAULT_LIMITS.maxTxsPerPush + 1 }, () => env())), what: 'too many txs' },
    { text: push(env({}, { id: 'someone-else/0' })), what: 'forged op id' },
    { text: push(env({}, { tx: stamp(replica) })), what: 'op tx differs' },
    { text: push(env({}, { op: 'delete' })), what: 'unknown op' },
    { text: push(env({}, { op: 'retractEntity' })), what: 'retractEntity with attribute' },
    { text: push(env({}, { op: 'text', v: '!!not base64!!' })), what: 'bad text update' },
    { text: push(env({}, { v: { kw: 'x', ref: 'y' } })), what: 'two tags' },
    { text: push(env({}, { a: ':' + 'a'.repeat(300) })), what: 'attribute too long' },
    { text: push(env({}, { e: 'x'.repeat(200) })), what: 'entity id too long' },
    { text: push(env({ replica: 'victimA' })), what: 'tx of another replica' },
    { text: push(env({ tx: stamp('victimA') })), what: 'stamp of another replica' },
    { text: push(env({ checks: [{ kind: 'eval', e: 'x.1', a: 'item/count', expected: null, v: 1 }] })), what: 'unknown check' },
    { text: push({ ...env(), __proto__: { admin: true } }), what: '__proto__ key' },
    { text: JSON.stringify({ t: 'push', txs: [env()], constructor: { prototype: 1 } }), what: 'constructor key' },
    { text: '{"t":"push","t":"hello","txs":[]}', what: 'duplicate key' },
    { text: JSON.stringify({ t: 'ping', n: 'x' }), what: 'bad ping' },
  ];
  // Accepted-looking but rejected by the judge:
  list.push({ text: push(env({ tx: stamp(replica, 3600_000) })), what: 'stamp an hour ahead (clock drift)' });
  list.push({ text: push(env({}, { a: 'item/count', v: 'str' })), what: 'wrong value type' });
  list.push({ text: push(env({}, { a: 'item/owner', v: { ref: 'ghost.1' } })), what: 'unknown ref' });
  list.push({ text: push(env({}, { a: 'db/ident', v: { kw: 'item/evil' } })), what: 'schema change' });
  list.push({ text: push(env({}, { a: 'db.install/attribute', v: 1 })), what: 'reserved attribute' });
  // Replay, then the same tx id with other content:
  const r = env();
  list.push({ text: push(r), what: 'valid' }, { text: push(r), what: 'replay' }, { text: push({ ...r, ops: [{ ...r.ops[0], v: 'forged' }] }), what: 'same tx id, other content' });
  return list;
}

interface Answer {
  msgs: Array<{ t: string; code?: string; message?: string }>;
  close: { code: number; reason: string } | null;
}

/** A connection that answers one message at a time. */
class Attacker {
  ws: WebSocket | null = null;
  private inbox: Answer = { msgs: [], close: null };
  private waiter: (() => void) | null = null;
  sent = 0;
  /** Latest cursor seen, so reconnects do not re-download the whole log (that is load, not hostility). */
  private cursor: string | null = null;
  constructor(private readonly url: string, private readonly replica: string) {}

  async open(hello: boolean): Promise<void> {
    this.ws?.terminate();
    const ws = new WebSocket(this.url, ['dataloom.v1']);
    this.ws = ws;
    this.inbox = { msgs: [], close: null };
    ws.on('message', (d) => {
      if (this.ws !== ws) return;
      const m = JSON.parse(d.toString());
      if (m.t === 'ops') this.cursor = m.cursor;
      this.inbox.msgs.push(m);
      this.waiter?.();
    });
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      this.inbox.close = { code, reason: reason.toString() };
      this.waiter?.();
    });
    ws.on('error', () => {});
    await new Promise<void>((res, rej) => (ws.once('open', () => res()), ws.once('error', rej)));
    this.sent = 0;
    // The hello is pipelined with the next (hostile) message: the server handles a connection's
    // messages in order, so the attack still arrives after the handshake.
    this.helloPending = hello;
    if (hello) ws.send(JSON.stringify({ t: 'hello', v: 1, replica: this.replica, cursor: this.cursor }));
  }
  private helloPending = false;

  private async wait(done: (a: Answer) => boolean): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!done(this.inbox)) {
      if (Date.now() > deadline) throw new Error(`server did not answer within 10 s: ${JSON.stringify(this.inbox).slice(0, 300)}`);
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 50);
      });
    }
  }

  /** Send one frame and wait for its answer (a message that answers, or a close). */
  async attack(text: string): Promise<Answer> {
    this.inbox.msgs = [];
    this.ws!.send(text);
    this.sent++;
    // ops are not answers to an attack; ack/reject/pong/error are, and welcome is when the attack
    // itself is a hello (not when it answers our own pipelined hello).
    const answers = this.helloPending ? ['ack', 'reject', 'pong', 'error'] : ['ack', 'reject', 'pong', 'error', 'welcome'];
    this.helloPending = false;
    await this.wait((a) => a.close !== null || a.msgs.some((m) => answers.includes(m.t)));
    // If an error arrived, the close follows.
    if (this.inbox.msgs.some((m) => m.t === 'error')) await this.wait((a) => a.close !== null);
    return this.inbox;
  }

  get alive(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.inbox.close === null;
  }
}

describe('malformed input', () => {
  let server: DataloomServer;
  let dir: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    dir = tempDir();
    server = await createServer({ store: `sqlite:${join(dir.dir, 'm.sqlite')}`, port: 0, schema: TEST_SCHEMA, limits: { maxMessageBytes: MAX_BYTES }, onError: (e) => console.error(e) });
  });
  afterAll(async () => {
    await server.close();
    dir.cleanup();
  });

  it(`answers ${TOTAL} hostile messages with clear errors and honest clients are undisturbed (seed ${SEED})`, { timeout: 600_000 }, async () => {
    const rand = mulberry32(SEED);
    const honest = [makeClient(server.url, 'victimA'), makeClient(server.url, 'victimB')];
    let stopHonest = false;
    const honestTxs: string[] = [];
    const honestLoop = (async () => {
      let i = 0;
      while (!stopHonest) {
        const c = honest[i % 2]!;
        const e = c.replica.newEntity();
        const r = await c.replica.localTransact({ ops: [{ op: 'add', e, a: 'item/title', v: `honest ${i++}` }] });
        honestTxs.push(r.tx);
        await sleep(25);
      }
    })();

    const stats = { total: 0, closed1008: 0, closed1009: 0, rejected: 0, acked: 0, pong: 0, codes: new Map<string, number>() };
    const perAttacker = Math.ceil(TOTAL / ATTACKERS);
    await Promise.all(
      Array.from({ length: ATTACKERS }, async (_, k) => {
        const arand = mulberry32(SEED * 100 + k);
        const replica = `atk${k}`;
        const atk = new Attacker(server.url, replica);
        const craftedList = crafted(replica);
        for (let i = 0; i < perAttacker; i++) {
          let item: { text: string; fresh?: boolean; what: string };
          if (i < craftedList.length) item = craftedList[i]!;
          else {
            const r = arand();
            const base = arand() < 0.15 ? { t: 'hello', v: 1, replica, cursor: null } : { t: 'push', txs: [validEnv(arand, replica), ...(arand() < 0.3 ? [validEnv(arand, replica)] : [])] };
            const text = r < 0.6 ? JSON.stringify(mutate(arand, base)) : r < 0.95 ? mutateText(arand, JSON.stringify(base)) : JSON.stringify(base);
            item = { text, fresh: base.t === 'hello', what: 'mutation' };
          }
          if (item.fresh || !atk.alive || atk.sent > 300) await atk.open(!item.fresh);
          let ans: Answer;
          const t0 = Date.now();
          try {
            ans = await atk.attack(item.text);
            if (process.env.MALFORMED_PROGRESS && Date.now() - t0 > 100) console.error(`slow ${Date.now() - t0}ms ${item.what} ${item.text.slice(0, 120)} → ${JSON.stringify(ans).slice(0, 200)}`);
          } catch (e) {
            throw new Error(`${(e as Error).message}\nmessage (${item.what}): ${item.text.slice(0, 300)}\nreplay with FUZZ_SEED=${SEED}`);
          }
          stats.total++;
          if (process.env.MALFORMED_PROGRESS && stats.total % 500 === 0) console.error(`progress ${stats.total} ${Date.now()}`);
          const err = ans.msgs.find((m) => m.t === 'error');
          if (ans.close) {
            const ctx = `${item.what}: ${item.text.slice(0, 200)} → ${JSON.stringify(ans).slice(0, 300)}`;
            expect([1008, 1009], ctx).toContain(ans.close.code);
            // 1009 frames beyond 2× the limit are cut by ws without a reason; the code says it all.
            if (ans.close.code === 1008) expect(ans.close.reason.length, ctx).toBeGreaterThan(0);
            if (ans.close.code === 1008) {
              expect(err?.code, ctx).toMatch(/^(protocol|sync)\/[a-z-]+$/);
              expect(err?.message?.length, ctx).toBeGreaterThan(5);
              stats.closed1008++;
            } else stats.closed1009++;
            if (err?.code) stats.codes.set(err.code, (stats.codes.get(err.code) ?? 0) + 1);
          } else {
            for (const m of ans.msgs) {
              if (m.t === 'reject') {
                expect(m.code).toMatch(/^(sync|ops)\/[a-z-]+$/);
                stats.rejected++;
                stats.codes.set(m.code!, (stats.codes.get(m.code!) ?? 0) + 1);
              } else if (m.t === 'ack') stats.acked++;
              else if (m.t === 'pong') stats.pong++;
            }
          }
        }
        atk.ws?.terminate();
      }),
    );
    stopHonest = true;
    await honestLoop;
    await within(Promise.all(honest.map((c) => c.sync.whenSynced())), 20_000, 'honest clients synced');
    for (let i = 0; i < 200 && honest[0]!.replica.snapshot() !== honest[1]!.replica.snapshot(); i++) await sleep(20);
    console.log(`hostile messages: ${JSON.stringify({ ...stats, codes: Object.fromEntries([...stats.codes].sort((a, b) => b[1] - a[1])) })}`);

    expect(stats.total).toBeGreaterThanOrEqual(TOTAL);
    // Honest clients: every transaction acknowledged, nothing rejected, states equal.
    for (const c of honest) {
      expect(c.replica.rejected).toEqual([]);
      expect(c.replica.outbox()).toEqual([]);
      c.sync.close();
    }
    expect(honest[0]!.replica.acked.size + honest[1]!.replica.acked.size).toBe(honestTxs.length);
    expect(honest[0]!.replica.snapshot()).toBe(honest[1]!.replica.snapshot());
    // The server is alive and its log holds only valid envelopes.
    const health = await (await fetch(server.httpUrl + 'health')).json();
    expect(health.ok).toBe(true);
    const store = createSqliteStore({ file: join(dir.dir, 'm.sqlite') });
    await server.close();
    await store.open();
    const log = await store.readSince(0, 1e9);
    await store.close();
    for (const e of log) checkEnvelope(e.env, DEFAULT_LIMITS, 'log');
    expect(log.filter((e) => e.env.replica.startsWith('victim')).length).toBe(honestTxs.length);
  });
});
