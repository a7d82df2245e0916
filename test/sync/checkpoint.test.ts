/**
 * Checkpoints of the committed state (`packages/server/src/state/checkpoint.ts`): a node started
 * from a checkpoint and the log after it holds the state a full replay of the log gives — seeded
 * random logs on a real SQLite file and on PostgreSQL, with drafts, a schema change, log
 * compaction below a retention horizon (before and after checkpoints) and checkpoints at random
 * points; a process killed (SIGKILL) while writing checkpoints loses nothing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { TxEnvelope } from '@dataloom/core';
import type { LogEntry, ServerStore } from '../../packages/server/src/storage/types.js';
import { createSqliteStore } from '../../packages/server/src/storage/sqlite.js';
import { createPostgresStore } from '../../packages/server/src/storage/postgres.js';
import { SyncNode } from '../../packages/server/src/node/sync-node.js';
import { ServerState } from '../../packages/server/src/state/server-state.js';
import { CHECKPOINT_KEY, refeeds } from '../../packages/server/src/state/checkpoint.js';
import { DraftDirectory } from '../../packages/server/src/drafts/directory.js';
import { mulberry32, replayableAsync, seeds } from '../gen/prng.js';
import { CP_SCHEMA_DATA, Workload, stateShape } from './support/checkpoint-workload.js';
import { PG_URL, pgNamespace } from './support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'dataloom-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NOW = Date.now();

function node(store: ServerStore, checkpointEvery = 0, schema = CP_SCHEMA_DATA, compactEvery = 25): SyncNode {
  return new SyncNode(store, { nodeId: 'cp', maxClockDriftMs: 10 * 60_000, schema, compactEvery, checkpointEvery });
}

/** The whole log, replayed in one pass (the start path without a checkpoint). */
async function fullReplay(store: ServerStore): Promise<{ state: ServerState; all: LogEntry[] }> {
  const all: LogEntry[] = [];
  for (;;) {
    const page = await store.readSince(all.length ? all[all.length - 1]!.pos : 0, 1000);
    if (page.length === 0) break;
    all.push(...page);
  }
  return { state: ServerState.fromLog(all, { maxClockDriftMs: 60_000 }), all };
}

/** The draft directory's feed of a reset, as it acts on it: the entries it follows. */
const feedOf = (entries: readonly LogEntry[]) => entries.filter((e) => refeeds(e.env)).map((e) => `${e.pos} ${JSON.stringify(e.env)}`);

/**
 * A node started on `file` from its checkpoint, the draft feed it reset with, and a full replay of
 * the same log, whose state it must equal.
 */
async function startFromCheckpoint(file: string): Promise<{ m: SyncNode; feed: LogEntry[]; full: { state: ServerState; all: LogEntry[] } }> {
  const m = node(createSqliteStore({ file }));
  let feed: LogEntry[] = [];
  m.onReset((_s, entries) => (feed = [...entries]));
  await m.start();
  expect(m.fromCheckpoint).toBe(true);
  const full = await fullReplay(m.store);
  expect(stateShape(m.state)).toEqual(stateShape(full.state));
  return { m, feed, full };
}

/** Runs a seeded workload on `mkStore()`'s log with checkpoints and compactions at random points, restarting from checkpoints on the way. */
async function exercise(seed: number, mkStore: () => ServerStore): Promise<{ fromCheckpoint: number; drafts: number }> {
  const rnd = mulberry32(seed);
  const w = new Workload(rnd, 'r1', NOW - 60_000);
  let n = node(mkStore());
  await n.start();
  let restartsFromCheckpoint = 0;
  let draftsAccepted = 0;
  for (let round = 0; round < 6; round++) {
    const envs = Array.from({ length: 20 + Math.floor(rnd() * 40) }, () => w.next());
    if (round === 2) envs.push(w.schemaChange(round));
    for (const env of envs) {
      const o = await n.submit(env);
      if (o.status === 'appended' && env.draft !== undefined) draftsAccepted++;
    }
    const r = rnd();
    if (r < 0.5) await n.checkpoint();
    if (rnd() < 0.4) await n.compactLog(Math.floor(rnd() * n.head));
    if (rnd() < 0.5) {
      // restart: from the checkpoint (if any) and the tail; the state must be the live one
      const live = stateShape(n.state);
      await n.stop();
      n = node(mkStore());
      let feed: LogEntry[] = [];
      n.onReset((_s, entries) => (feed = [...entries]));
      await n.start();
      if (n.fromCheckpoint) restartsFromCheckpoint++;
      expect(stateShape(n.state)).toEqual(live);
      const full = await fullReplay(n.store);
      expect(stateShape(n.state)).toEqual(stateShape(full.state));
      expect(feedOf(feed)).toEqual(feedOf(full.all));
    }
  }
  const live = stateShape(n.state);
  await n.stop();
  // a start with no usable checkpoint (another log's) replays it all, to the same state
  const probe = mkStore();
  await probe.open();
  const full = await fullReplay(probe);
  expect(live).toEqual(stateShape(full.state));
  await probe.close();
  return { fromCheckpoint: restartsFromCheckpoint, drafts: draftsAccepted };
}

describe('checkpoints: a start from a checkpoint and the tail equals a full replay', () => {
  it('SQLite file, seeded random logs (drafts, schema change, compaction below a horizon)', async () => {
    let fromCheckpoint = 0;
    let drafts = 0;
    for (const seed of seeds(6, 500)) {
      await replayableAsync(seed, async () => {
        const file = join(dir, `s${seed}.sqlite`);
        const r = await exercise(seed, () => createSqliteStore({ file }));
        fromCheckpoint += r.fromCheckpoint;
        drafts += r.drafts;
      });
    }
    // the paths under test ran: restarts from a checkpoint, accepted drafts
    expect(fromCheckpoint).toBeGreaterThan(0);
    expect(drafts).toBeGreaterThan(0);
  }, 120_000);

  it('PostgreSQL, seeded random logs', async () => {
    let fromCheckpoint = 0;
    for (const seed of seeds(3, 700)) {
      const namespace = pgNamespace();
      try {
        await replayableAsync(seed, async () => {
          fromCheckpoint += (await exercise(seed, () => createPostgresStore({ url: PG_URL, namespace }))).fromCheckpoint;
        });
      } finally {
        await createPostgresStore({ url: PG_URL, namespace }).destroy();
      }
    }
    expect(fromCheckpoint).toBeGreaterThan(0);
  }, 120_000);

  it('a configured schema that changes the logged one replays the whole log (the change may need history)', async () => {
    const file = join(dir, 'schema-change.sqlite');
    const rnd = mulberry32(41);
    const w = new Workload(rnd, 'r1', NOW - 60_000);
    let n = node(createSqliteStore({ file }), 1);
    await n.start();
    for (let i = 0; i < 60; i++) await n.submit(w.next());
    await n.stop(); // writes a checkpoint (checkpointEvery > 0)
    n = node(createSqliteStore({ file }), 1);
    await n.start();
    expect(n.fromCheckpoint).toBe(true);
    await n.stop();
    // p/name made cardinality many: needs every value ever asserted, which the checkpoint dropped
    const many = new Map(CP_SCHEMA_DATA);
    many.set('p/name', new Map([...CP_SCHEMA_DATA.get('p/name')!, ['db/cardinality', { kw: 'db.cardinality/many' }]]));
    n = node(createSqliteStore({ file }), 1, many);
    await n.start();
    expect(n.fromCheckpoint).toBe(false);
    expect(n.state.schema.get('p/name').many).toBe(true);
    expect(stateShape(n.state)).toEqual(stateShape((await fullReplay(n.store)).state));
    await n.stop();
  });

  it('a checkpoint keeps whether the state had lost history: without, a schema change that needs it is still accepted', async () => {
    for (const compactEvery of [0, 25]) {
      const file = join(dir, `history-${compactEvery}.sqlite`);
      const w = new Workload(mulberry32(77), 'r1', NOW - 60_000);
      const n = node(createSqliteStore({ file }), 0, CP_SCHEMA_DATA, compactEvery);
      await n.start();
      for (let i = 0; i < 80; i++) await n.submit(w.next());
      await n.checkpoint();
      const lost = n.state.historyCompacted;
      await n.stop();
      expect(lost).toBe(compactEvery > 0);
      const m = node(createSqliteStore({ file }), 0, CP_SCHEMA_DATA, compactEvery);
      await m.start();
      expect(m.fromCheckpoint).toBe(true);
      expect(m.state.historyCompacted).toBe(lost);
      // stamped after the schema bootstrap's own :db/cardinality (the workload's stamps are older)
      const later = new Workload(mulberry32(78), 'r2', Date.now() + 1000);
      const o = await m.submit(later.makeMany(m.state.attributeEntity('p/name')!));
      expect(o.status === 'rejected' ? o.code : o.status).toBe(lost ? 'sync/schema-history' : 'appended');
      expect(m.state.schema.get('p/name').many).toBe(!lost);
      expect(stateShape(m.state)).toEqual(stateShape((await fullReplay(m.store)).state));
      await m.stop();
    }
  });

  it('many draft entries below the checkpoint (read with pages of the log instead of one by one): the same state and draft feed', async () => {
    const file = join(dir, 'many-drafts.sqlite');
    const w = new Workload(mulberry32(31), 'r1', NOW - 60_000);
    const n = node(createSqliteStore({ file }));
    await n.start();
    await Promise.all(Array.from({ length: 2400 }, () => n.submit(w.next())));
    await n.checkpoint();
    for (let i = 0; i < 20; i++) await n.submit(w.next());
    await n.stop();
    const cp = JSON.parse((await (async () => {
      const s = createSqliteStore({ file });
      await s.open();
      const v = await s.getMeta(CHECKPOINT_KEY);
      await s.close();
      return v;
    })())!) as { refeed: number[] };
    expect(cp.refeed.length).toBeGreaterThan(256);
    const { m, feed, full } = await startFromCheckpoint(file);
    expect(feedOf(feed)).toEqual(feedOf(full.all));
    await m.stop();
  });

  it('the draft positions a checkpoint lists stay bounded while drafts come and go, and a start from it serves the live drafts a full replay does', async () => {
    for (const seed of seeds(2, 900)) {
      console.log(`draft positions: seed ${seed}`);
      await replayableAsync(seed, async () => {
        const rnd = mulberry32(seed);
        const file = join(dir, `draft-churn-${seed}.sqlite`);
        const w = new Workload(rnd, 'r1', NOW - 60_000);
        const n = node(createSqliteStore({ file }));
        await n.start();
        const submit = async (env: TxEnvelope) => expect((await n.submit(env)).status).toBe('appended');
        // what the directory must keep: draft-entity-only entries, and draft envelopes no closing covers
        let own = 0;
        const live = new Map<string, string[]>();
        const closed = new Map<string, string>();
        const liveCount = () => [...live.values()].reduce((k, l) => k + l.length, 0);
        const closeUpTo = async (d: string, upTo: string, commit: boolean) => {
          await submit(w.close(d, upTo, commit, closed.get(d)));
          if (!commit) own++;
          closed.set(d, upTo);
          live.set(d, live.get(d)!.filter((t) => t > upTo));
        };
        let drafted = 0;
        const cycles = 70;
        for (let i = 0; i < cycles; i++) {
          const d = `r1.dc${i}`;
          await submit(w.openDraft(d));
          own++;
          live.set(d, []);
          const k = 10 + Math.floor(rnd() * 20);
          for (let j = 0; j < k; j++) {
            const env = w.inDraft(d);
            await submit(env);
            live.get(d)!.push(env.tx);
            drafted++;
          }
          const txs = live.get(d)!;
          const r = rnd();
          // the last drafts stay open; the others are committed, discarded, or closed in part (the rest stays live)
          if (i < cycles - 3) {
            if (r < 0.2) await closeUpTo(d, txs[Math.floor(txs.length / 2)]!, rnd() < 0.5);
            else await closeUpTo(d, txs[txs.length - 1]!, r < 0.6);
          }
          if (i % 10 === 9) {
            await n.checkpoint();
            const cp = JSON.parse((await n.store.getMeta(CHECKPOINT_KEY))!) as { refeed: number[] };
            expect(cp.refeed.length).toBe(own + liveCount());
            expect(n.refeedSize).toBe(own + liveCount());
          }
        }
        // far fewer than the draft transactions made: closed ones left the list
        expect(drafted).toBeGreaterThan(1000);
        expect(own + liveCount()).toBeLessThan(drafted / 3);
        await n.checkpoint();
        // after the checkpoint: more draft transactions, and a closing covering entries listed in it
        const open = `r1.dc${cycles - 1}`;
        for (let j = 0; j < 5; j++) {
          const env = w.inDraft(open);
          await submit(env);
          live.get(open)!.push(env.tx);
        }
        await closeUpTo(`r1.dc${cycles - 2}`, live.get(`r1.dc${cycles - 2}`)![3]!, true);
        await n.stop();

        const { m, feed, full } = await startFromCheckpoint(file);
        const served = (entries: readonly LogEntry[], values: (e: string, a: string) => readonly unknown[]) => {
          const dir = new DraftDirectory(values as never);
          for (const e of entries) dir.note(e.pos, e.env, undefined, []);
          return dir.catchUp(null, m.head, undefined, true).map((x) => `${x.pos} ${x.json}`);
        };
        const fromCheckpoint = served(feed, (e, a) => m.state.merged.values(e, a));
        expect(fromCheckpoint).toEqual(served(full.all, (e, a) => full.state.merged.values(e, a)));
        // exactly the live draft envelopes (and the draft entities' own entries)
        const liveTxs = new Set([...live.values()].flat());
        const draftEnvs = fromCheckpoint.map((x) => JSON.parse(x.slice(x.indexOf(' ') + 1)) as TxEnvelope).filter((e) => e.draft !== undefined);
        expect(draftEnvs.map((e) => e.tx).sort()).toEqual([...liveTxs].sort());
        expect(m.refeedSize).toBe(own + liveCount());
        await m.stop();
      });
    }
  });

  it('a checkpoint of another log is ignored', async () => {
    const file = join(dir, 'other-log.sqlite');
    const n = node(createSqliteStore({ file }), 0);
    await n.start();
    const w = new Workload(mulberry32(9), 'r1', NOW - 60_000);
    for (let i = 0; i < 30; i++) await n.submit(w.next());
    await n.checkpoint();
    const cp = JSON.parse((await n.store.getMeta(CHECKPOINT_KEY))!) as { log: string };
    await n.store.setMeta(CHECKPOINT_KEY, JSON.stringify({ ...cp, log: 'someone-else' }));
    await n.stop();
    const m = node(createSqliteStore({ file }), 0);
    await m.start();
    expect(m.fromCheckpoint).toBe(false);
    expect(stateShape(m.state)).toEqual(stateShape((await fullReplay(m.store)).state));
    await m.stop();
  });
});

describe('checkpoints and SIGKILL', () => {
  it('a process killed while writing checkpoints loses nothing (real file, real child process)', async () => {
    const here = fileURLToPath(new URL('.', import.meta.url));
    for (const seed of seeds(3, 900)) {
      await replayableAsync(seed, async () => {
        const file = join(dir, `kill${seed}.sqlite`);
        const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'support/checkpoint-child.ts'), file, String(seed), String(NOW)], {
          env: { ...process.env, TSX_TSCONFIG_PATH: join(here, 'support/tsconfig.json') },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let err = '';
        child.stderr!.on('data', (d) => (err += String(d)));
        const rnd = mulberry32(seed);
        // kill after a seeded number of checkpoints were started (the child writes them back to back)
        const after = 2 + Math.floor(rnd() * 6);
        let lastAcked = 0;
        await new Promise<void>((resolve, reject) => {
          let seen = 0;
          let buf = '';
          child.stdout!.on('data', (d) => {
            buf += String(d);
            for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
              const line = buf.slice(0, i);
              buf = buf.slice(i + 1);
              if (line.startsWith('appended ')) lastAcked = Number(line.slice(9));
              if (line.startsWith('writing') && ++seen === after) {
                child.kill('SIGKILL');
                resolve();
              }
            }
          });
          child.once('exit', (code) => reject(new Error(`child exited (${code}) before it was killed: ${err}`)));
        });
        await new Promise((r) => child.once('exit', r));
        const n = node(createSqliteStore({ file }), 0);
        await n.start();
        // every acknowledged append is there, and the state is the full replay's
        expect(n.head).toBeGreaterThanOrEqual(lastAcked);
        expect(stateShape(n.state)).toEqual(stateShape((await fullReplay(n.store)).state));
        await n.stop();
      });
    }
  }, 180_000);
});
