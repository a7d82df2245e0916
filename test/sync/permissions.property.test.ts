/**
 * Seeded isolation property of read permissions, against the real server (SQLite, loopback
 * WebSockets) and real clients, frames captured at the socket: random teams with random members
 * and parent teams (a recursive membership rule, cycles included), random docs moving between
 * teams and owners, public titles (`can-read-attr`), deletions, written by the admin and by the
 * users themselves (their own docs, bodies of docs they read). After every transaction:
 *
 * 1. every op in every frame a user's socket received during the step is readable by that user in
 *    the state before or after the transaction (the only two states the server was in);
 * 2. at checkpoints (every few transactions, when a user comes back, at the end), each user's
 *    replica holds exactly the datoms of the database that user may read now — nothing more
 *    (revocations purged), nothing less (grants arrived) — and its store holds no op the user may
 *    not read.
 *
 * Users also go away for a few transactions and come back with their stored replica and cursor
 * (what they lost meanwhile is purged at hello), and check out scopes (the docs of a team, the
 * public docs) or go back to everything: then "may read" is "may read, and in the scope" — the
 * scope query evaluated over what the user may read only.
 *
 * The oracle reads the committed log (recorded from the store's appends) and merges it with core's
 * `MergeState`; what a user may read comes from a hand-written walk of the team graph
 * (`support/perm-oracle.ts`) after every transaction, and from the EDN rules evaluated with
 * one-shot `q` at the checkpoints, where the two must agree — neither is the server's dataflow.
 * Thousands of transactions in CI (12 seeds × 64 steps of one to three transactions per rule form,
 * 4 seeds for the form with a view per user; one server and four clients per seed); `FUZZ_RUNS=n` runs n seeds per form, `FUZZ_SEED=s`
 * replays one (printed on failure). A replica's own writes get no exemption: what it wrote outside
 * what it may hold is dropped after the ack like everything else.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Keyword, type GlobalId, type TxEnvelope } from '@dataloom/core';
import { Interner, MergeState, initDb } from '@dataloom/core/internals';
import { q } from '@dataloom/query';
import { MemoryStore, createClient, type Client } from '@dataloom/client';
import { memoryBacking, type MemoryBacking } from '../../packages/client/src/store/memory.js';
import { createServer, createSqliteStore, type DataloomServer } from '../../packages/server/src/index.js';
import { mulberry32, pick, replayableAsync, seeds } from '../gen/prng.js';
import { Facts, TEAM_SCHEMA, reads, type Readable } from './support/perm-oracle.js';
import { tappedSocket, type Tap } from './support/tap.js';
import { until } from './support/wait.js';

const schema = {
  ':team/name': {},
  ':team/members': { ':db/cardinality': ':db.cardinality/many' },
  ':team/parent': { ':db/valueType': ':db.type/ref' },
  ':doc/title': {},
  ':doc/body': {},
  ':doc/owner': {},
  ':doc/public': {},
  ':doc/team': { ':db/valueType': ':db.type/ref' },
  ':admin/name': {},
  ':user/name': {},
};
const REFS = new Set(['team/parent', 'doc/team']);
const ORACLE_SCHEMA = TEAM_SCHEMA;

const RULES = `
[[(member ?u ?t) [?t :team/members ?u]]
 [(member ?u ?t) [?t :team/parent ?p] (member ?u ?p)]
 [(can-read ?u ?e) [?e :doc/owner ?u]]
 [(can-read ?u ?e) [?e :doc/team ?t] (member ?u ?t)]
 [(can-read ?u ?t) (member ?u ?t)]
 [(can-read ?u ?e) [(= ?u "admin")] [?e :team/name]]
 [(can-read ?u ?e) [(= ?u "admin")] [?e :doc/title]]
 [(can-read-attr ?u ?e ?a) [?e :doc/public true] [(ground :doc/title) ?a]]]`;

/**
 * The same, the admin named through a function of `?u` rather than by a test of `?u` alone: the
 * server cannot tell which users those branches leave out (`permissions/variants.ts`), so every
 * connected user has views of their own. With `RULES` the users share the views of the branches
 * they keep and only the admin has views of their own.
 */
const RULES_OWN = RULES.replaceAll('[(= ?u "admin")]', '[(str ?u) ?n] [(= ?n "admin")]');

/**
 * The same permissions with every user bound from the data (an admin and a user registry instead
 * of constants): the server then keeps one set of views for every user (`ReadEngine` shared mode).
 */
const RULES_SHARED = `
[[(member ?u ?t) [?t :team/members ?u]]
 [(member ?u ?t) [?t :team/parent ?p] (member ?u ?p)]
 [(can-read ?u ?e) [?e :doc/owner ?u]]
 [(can-read ?u ?e) (member ?u ?t) [?e :doc/team ?t]]
 [(can-read ?u ?t) (member ?u ?t)]
 [(can-read ?u ?e) [?e :admin/name ?u]]
 [(can-read ?u ?e) [_ :admin/name ?u] [?e :user/name]]
 [(can-read ?u ?e) [_ :admin/name ?u] [?e :team/name]]
 [(can-read ?u ?e) [_ :admin/name ?u] [?e :doc/title]]
 [(can-read-attr ?u ?e ?a) [_ :user/name ?u] [?e :doc/public true] [(ground :doc/title) ?a]]]`;

const USERS = ['u0', 'u1', 'u2'];
const STEPS = 64;
/** Replicas are compared with the `q` oracle every this many transactions. */
const CHECK_EVERY = 8;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function oracle(m: MergeState, user: string, rules: string): Readable {
  const ids = new Interner();
  const db = initDb([...m.datoms()].map((d) => ids.datom({ ...d, added: true }, 536870913)), ORACLE_SCHEMA as never);
  const es = q('[:find [?e ...] :in $ % ?u :where (can-read ?u ?e)]', db, rules, user) as number[];
  const at = q('[:find ?e ?a :in $ % ?u :where (can-read-attr ?u ?e ?a)]', db, rules, user) as Set<[number, Keyword]>;
  return { es: new Set(es.map((e) => ids.gid(e)!)), attrs: new Set([...at].map(([e, a]) => ids.gid(e)! + '|' + a.fqn)) };
}

/** A scope a user may check out: docs of one team, or the public docs. */
type ScopeSpec = { query: string; team?: GlobalId } | null;
const TEAM_DOCS = '[:find ?d :in $ ?t :where [?d :doc/team ?t]]';
const PUBLIC_DOCS = '[:find ?d :where [?d :doc/public true]]';

/** What a user with scope `spec` may receive: what they may read, of the entities the scope finds over what they may read. */
function narrow(f: Facts, r: Readable, spec: ScopeSpec): Readable {
  if (spec === null) return r;
  const found = new Set<GlobalId>();
  for (const [e, as] of f.byE) {
    const hit =
      spec.team !== undefined
        ? reads(r, e, 'doc/team') && (as.get('doc/team') ?? []).some((v) => (v as { ref: string }).ref === spec.team)
        : reads(r, e, 'doc/public') && (as.get('doc/public') ?? []).includes(true);
    if (hit) found.add(e);
  }
  return { es: new Set([...r.es].filter((e) => found.has(e))), attrs: new Set([...r.attrs].filter((k) => found.has(k.slice(0, k.indexOf('|'))))) };
}

/** The scope `spec` evaluated with one-shot `q` over the datoms `r` lets its user read (the checkpoints' cross-check of {@link narrow}). */
function narrowQ(m: MergeState, r: Readable, spec: ScopeSpec): Readable {
  if (spec === null) return r;
  const ids = new Interner();
  const db = ids.db([...m.datoms()].filter((d) => reads(r, m.rep(d.e), d.a)), ORACLE_SCHEMA);
  const rows = spec.team !== undefined ? (q(spec.query, db, ids.eid(spec.team)) as Set<[number]>) : (q(spec.query, db) as Set<[number]>);
  const found = new Set([...rows].map(([e]) => ids.gid(e)!));
  return { es: new Set([...r.es].filter((e) => found.has(e))), attrs: new Set([...r.attrs].filter((k) => found.has(k.slice(0, k.indexOf('|'))))) };
}

/** The datoms of `m` that `r` lets a user read, as comparable strings. */
function projection(m: MergeState, r: Readable): string[] {
  const out: string[] = [];
  for (const d of m.datoms()) {
    if (d.a.startsWith('db/') || !reads(r, d.e, d.a)) continue;
    const v = typeof d.v === 'object' && d.v !== null && 'ref' in d.v ? d.v.ref : d.v;
    out.push(`${d.e}|${d.a}|${JSON.stringify(v)}`);
  }
  return out.sort();
}

async function replicaDatoms(c: Client): Promise<string[]> {
  const rows = (await c.q('[:find ?e ?a ?v :where [?e ?a ?v]]')) as Set<[number, unknown, unknown]>;
  const out: string[] = [];
  for (const [e, a, v] of rows) {
    const attr = a instanceof Keyword ? a.fqn : String(a).replace(/^:/, '');
    if (attr.startsWith('db/')) continue;
    const value = REFS.has(attr) ? await c.globalId(v as number) : v;
    out.push(`${await c.globalId(e)}|${attr}|${JSON.stringify(value)}`);
  }
  return out.sort();
}

/** Transactions committed over every seed of this file (printed at the end, with the seeds). */
let txCount = 0;
const ran: number[] = [];
afterAll(() => console.log(`isolation property: ${txCount} transactions, seeds ${ran.join(' ')} (replay one with FUZZ_SEED=<seed>)`));

async function run(seed: number, rules: string): Promise<void> {
  ran.push(seed);
  const rnd = mulberry32(seed);
  // a real SQLite file, on tmpfs where there is one (thousands of commits without waiting on the disk)
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'dataloom-perm-prop-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // the committed log, recorded from the store's appends, in order
  const log = new Map<number, TxEnvelope>();
  const store = createSqliteStore({ file: join(dir, 'db.sqlite') });
  const append = store.append.bind(store);
  store.append = async (...args) => {
    const r = await append(...args);
    for (const e of r.entries) log.set(e.pos, e.env);
    return r;
  };
  const s: DataloomServer = await createServer({ store, port: 0, schema, permissions: rules, authenticate: (t) => t });
  cleanups.push(() => s.close());
  const clients = new Map<string, { c: Client; tap: Tap; seen: number; backing: MemoryBacking }>();
  const open = (u: string, backing: MemoryBacking) => {
    const tap: Tap = { frames: [] };
    const store = new MemoryStore(backing);
    const c = createClient({ name: `perm-prop-${seed}-${u}`, schema, store, tabs: false, url: s.url, token: u, WebSocket: tappedSocket(WebSocket, tap) as never });
    cleanups.push(() => c.close());
    clients.set(u, { c, tap, seen: 0, backing });
  };
  for (const u of ['admin', ...USERS]) open(u, memoryBacking());
  /** Users away (closed), with the steps left before they come back. */
  const away = new Map<string, number>();
  const admin = clients.get('admin')!.c;
  const merged = new MergeState(schema);
  let applied = 0;
  const advance = (head: number) => {
    for (; applied < head; applied++) {
      const env = log.get(applied + 1)!;
      if (env.draft === undefined) merged.apply(env.ops);
    }
  };
  const teams: GlobalId[] = [];
  const docs: GlobalId[] = [];
  const someUsers = () => USERS.filter(() => rnd() < 0.4);
  if (rules === RULES_SHARED) {
    const r = await admin.transact([{ ':admin/name': 'admin' }, ...USERS.map((u) => ({ ':user/name': u }))]);
    await admin.confirmed(r.tx);
    advance(s.head());
  }
  /** Each user's scope (null: everything), and the handle of its subscription. */
  const scopes = new Map<string, { spec: ScopeSpec; close: () => Promise<void> }>();
  const registry = rules === RULES_SHARED;
  let facts = new Facts(merged);
  const view = (u: string) => narrow(facts, facts.readable(u, registry), scopes.get(u)?.spec ?? null);
  let prev = new Map(['admin', ...USERS].map((u) => [u, view(u)]));
  /** Transactions since the last checkpoint. */
  let sinceCheck = 0;
  for (let step = 0; step < STEPS; step++) {
    for (const [u, left] of away) {
      if (left > 0) {
        away.set(u, left - 1);
        continue;
      }
      // back with the stored replica and its cursor: what it lost meanwhile goes at hello
      away.delete(u);
      open(u, clients.get(u)!.backing);
      await check(u, step, [prev.get(u)!], prev.get(u)!, true);
    }
    if (rnd() < 0.12) {
      const u = pick(rnd, USERS.filter((x) => !away.has(x)).concat(['u0']));
      if (!away.has(u)) {
        await clients.get(u)!.c.close();
        scopes.delete(u); // a new session starts without scopes
        away.set(u, 1 + Math.floor(rnd() * 3));
      }
    }
    if (teams.length > 0 && rnd() < 0.15) {
      // a user changes scope: the frames of the change are checked against the old and new scope
      const u = pick(rnd, USERS);
      if (!away.has(u)) {
        const c = clients.get(u)!.c;
        const r2 = rnd();
        const spec: ScopeSpec = r2 < 0.3 ? null : r2 < 0.7 ? { query: TEAM_DOCS, team: pick(rnd, teams) } : { query: PUBLIC_DOCS };
        const old = scopes.get(u);
        if (spec === null) scopes.delete(u);
        else {
          const h = spec.team !== undefined ? c.subscribe(spec.query, { ref: spec.team }) : c.subscribe(spec.query);
          await h.ready();
          scopes.set(u, { spec, close: h.close });
        }
        await old?.close();
        const was = prev.get(u)!;
        prev.set(u, view(u));
        await check(u, step, [was, prev.get(u)!], prev.get(u)!, false);
      }
    }
    /** One random transaction: who writes it, and whether it must be alone in its step. */
    const gen = (): { writer: string; tx: unknown[]; alone: boolean } => {
      const k = rnd();
      let tx: unknown[];
      let alone = false;
      // a user writes instead of the admin: a doc of their own (in their scope), or the body of a doc they hold
      const writer = teams.length >= 2 && rnd() < 0.3 ? pick(rnd, USERS) : 'admin';
      if (writer !== 'admin' && !away.has(writer)) {
        const spec = scopes.get(writer)?.spec ?? null;
        const held = [...prev.get(writer)!.es].filter((e) => docs.includes(e));
        if (held.length && rnd() < 0.5) tx = [[':db/add', pick(rnd, held), ':doc/body', `body-${step}-${writer}`]];
        else {
          const m: Record<string, unknown> = { ':db/id': 'n', ':doc/title': `title-${step}`, ':doc/body': `body-${step}`, ':doc/owner': writer };
          m[':doc/public'] = spec?.query === PUBLIC_DOCS || rnd() < 0.3;
          if (spec?.team !== undefined) m[':doc/team'] = spec.team;
          else if (rnd() < 0.5) m[':doc/team'] = pick(rnd, teams);
          tx = [m];
        }
      } else if (teams.length < 2 || k < 0.15) {
        const m: Record<string, unknown> = { ':db/id': 'n', ':team/name': `team-${step}`, ':team/members': someUsers() };
        if (teams.length && rnd() < 0.5) m[':team/parent'] = pick(rnd, teams);
        if ((m[':team/members'] as string[]).length === 0) delete m[':team/members'];
        tx = [m];
      } else if (k < 0.35) {
        tx = [[rnd() < 0.6 ? ':db/add' : ':db/retract', pick(rnd, teams), ':team/members', pick(rnd, USERS)]];
      } else if (k < 0.45) {
        const t = pick(rnd, teams);
        const p = pick(rnd, teams);
        tx = rnd() < 0.3 || p === t ? [[':db/retract', t, ':team/parent', merged.values(t, 'team/parent')[0] ? (merged.values(t, 'team/parent')[0] as { ref: string }).ref : p]] : [[':db/add', t, ':team/parent', p]];
      } else if (docs.length < 2 || k < 0.65) {
        const m: Record<string, unknown> = { ':db/id': 'n', ':doc/title': `title-${step}`, ':doc/body': `body-${step}`, ':doc/public': rnd() < 0.3 };
        if (rnd() < 0.7) m[':doc/team'] = pick(rnd, teams);
        if (rnd() < 0.4) m[':doc/owner'] = pick(rnd, USERS);
        tx = [m];
      } else if (k < 0.92) {
        const d = pick(rnd, docs);
        const c = rnd();
        tx =
          c < 0.3
            ? [[':db/add', d, ':doc/team', pick(rnd, teams)]]
            : c < 0.5
              ? [[':db/add', d, ':doc/owner', pick(rnd, USERS)]]
              : c < 0.7
                ? [[':db/add', d, ':doc/public', rnd() < 0.5]]
                : [[':db/add', d, ':doc/body', `body-${step}-b`]];
      } else {
        const d = pick(rnd, docs);
        docs.splice(docs.indexOf(d), 1);
        tx = [[':db/retractEntity', d]];
        alone = true;
      }
      return { writer: writer !== 'admin' && !away.has(writer) ? writer : 'admin', tx, alone };
    };
    // one to three transactions from different clients at once (a deletion alone)
    const batch: Array<ReturnType<typeof gen>> = [];
    for (let i = 0, count = teams.length >= 2 ? 1 + Math.floor(rnd() * 3) : 1; i < count; i++) {
      const g = gen();
      if (g.alone && batch.length > 0) break;
      batch.push(g);
      if (g.alone) break;
    }
    const from = s.head();
    const results = await Promise.all(batch.map(async ({ writer, tx }) => {
      const by = clients.get(writer)!.c;
      const r = await by.transact(tx);
      await by.confirmed(r.tx);
      return r;
    }));
    for (const [i, r] of results.entries()) {
      const n = r.globalIds['n'];
      if (n) ((batch[i]!.tx[0] as Record<string, unknown>)[':team/name'] ? teams : docs).push(n);
    }
    txCount += batch.length;
    // every state the server went through in this step, for what the sockets received meanwhile
    const states = new Map(['admin', ...USERS].map((u) => [u, [prev.get(u)!]]));
    for (let pos = from + 1; pos < s.head(); pos++) {
      advance(pos);
      facts = new Facts(merged);
      for (const u of ['admin', ...USERS]) states.get(u)!.push(view(u));
    }
    advance(s.head());
    facts = new Facts(merged);
    const now = new Map(['admin', ...USERS].map((u) => [u, view(u)]));
    const full = ++sinceCheck >= CHECK_EVERY || step === STEPS - 1;
    if (full) {
      sinceCheck = 0;
      // the hand-written oracle agrees with the rules evaluated by q
      for (const u of ['admin', ...USERS]) {
        const byQ = narrowQ(merged, oracle(merged, u, rules), scopes.get(u)?.spec ?? null);
        expect({ es: [...now.get(u)!.es].sort(), attrs: [...now.get(u)!.attrs].sort() }, `seed ${seed} step ${step}: oracles agree for ${u}`).toEqual({ es: [...byQ.es].sort(), attrs: [...byQ.attrs].sort() });
      }
    }
    for (const u of clients.keys()) if (!away.has(u)) await check(u, step, [...states.get(u)!, now.get(u)!], now.get(u)!, full);
    prev = now;
  }

  /** Waits until `u` is at the head, then checks what its socket received and what it holds. */
  async function check(u: string, step: number, was: Readable[], is: Readable, full: boolean): Promise<void> {
    const k2 = clients.get(u)!;
    const head = s.head();
    await until(async () => Number(((await k2.c.syncStatus())?.cursor ?? ':0').split(':').pop()) >= head, `${u} at head ${head} (step ${step})`, 15_000, 2);
      // 1. every op this socket received in this step was readable in one of the states the server went through
      for (const f of k2.tap.frames.slice(k2.seen)) {
        const msg = JSON.parse(f) as { t: string; txs?: Array<{ env: TxEnvelope }> };
        if (msg.t !== 'ops') continue;
        for (const { env } of msg.txs!) {
          for (const op of env.ops) {
            if (op.a?.startsWith('db/')) continue;
            const e = merged.rep(op.e);
            const a = op.a ?? '';
            if (!was.some((r) => reads(r, e, a))) {
              throw new Error(`seed ${seed} step ${step}: ${u} received ${JSON.stringify(op)} it may not read`);
            }
          }
        }
      }
      k2.seen = k2.tap.frames.length;
      if (!full) return;
      // 2. the replica holds exactly what the user may read now, and its store nothing else
      expect(await replicaDatoms(k2.c), `seed ${seed} step ${step}: ${u}'s replica`).toEqual(projection(merged, is));
      for (const op of [...k2.backing.snapshot, ...k2.backing.log.flat()]) {
        // schema aside; the replica's own writes too leave it once outside what it may hold
        if (op.a?.startsWith('db/')) continue;
        if (!reads(is, merged.rep(op.e), op.a ?? '')) throw new Error(`seed ${seed} step ${step}: ${u}'s store holds ${JSON.stringify(op)}`);
      }
  }
}

describe('read permissions: isolation property (seeded, real server and clients)', () => {
  for (const seed of seeds(12, 7100)) {
    it(`seed ${seed} (users share the views of the branches they keep; the admin has own views)`, () => replayableAsync(seed, () => run(seed, RULES)), 120_000);
  }
  for (const seed of seeds(4, 7300)) {
    it(`seed ${seed} (a view per user)`, () => replayableAsync(seed, () => run(seed, RULES_OWN)), 120_000);
  }
  for (const seed of seeds(12, 7200)) {
    it(`seed ${seed} (views shared by every user)`, () => replayableAsync(seed, () => run(seed, RULES_SHARED)), 120_000);
  }
});
