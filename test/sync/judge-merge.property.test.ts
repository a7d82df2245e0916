/**
 * Server judging and replica merging agree (issue 8): over the same seeded random sets of
 * envelopes — valid ones, late ones, drafts, schema changes, and near-invalid ones (forged ids,
 * bad names, wrong types, unknown refs, two values for one register, failing cas, unique clashes,
 * reserved attributes, undecodable text, stamps from the future) — for every envelope:
 *
 * - the server rejects it as malformed ⇔ a replica's envelope check refuses it;
 * - the server accepts it ⇔ an oracle written here, over the *replica's* merged state of what was
 *   accepted before, finds no rule broken, and a rejection names a rule the oracle finds broken;
 * - the server's merged state equals a fresh replica's merge of the accepted envelopes (applied in
 *   shuffled batches, with duplicates), every few steps and at the end — with the server
 *   compacting superseded ops as it goes.
 *
 * `FUZZ_RUNS` multiplies the seeds; `FUZZ_SEED` replays one.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { formatHlc, parseHlc, type GlobalId, type Op, type TxEnvelope, type WireValue } from '@dataloom/core';
import {
  MergeState,
  SCHEMA_ATTRS,
  attrEntityId,
  bytesToBase64,
  dataMergeSchema,
  schemaAsData,
  schemaFromDatoms,
  schemaOps,
  schemaValueError,
  wireValueHasType,
  wireValueKey,
} from '@dataloom/core/internals';
import { checkEnvelope } from '@dataloom/protocol';
import { ServerState } from '../../packages/server/src/state/server-state.js';
import { mulberry32 } from '../gen/prng.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1);
const SEEDS = process.env.FUZZ_SEED ? [Number(process.env.FUZZ_SEED)] : Array.from({ length: 12 * RUNS }, (_, i) => 7000 + i);
const STEPS = 260;
const NOW = 1_800_000_000_000;
const DRIFT = 60_000;

const SCHEMA = {
  'i/name': { 'db/valueType': 'db.type/string' },
  'i/count': { 'db/valueType': 'db.type/long' },
  'i/tags': { 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/many' },
  'i/owner': { 'db/valueType': 'db.type/ref' },
  'i/friends': { 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/many' },
  'i/email': { 'db/valueType': 'db.type/string', 'db/unique': 'db.unique/value' },
  'i/key': { 'db/valueType': 'db.type/string', 'db/unique': 'db.unique/identity' },
  'i/bio': { 'db/valueType': 'db.type/text' },
  'i/part': { 'db/valueType': 'db.type/ref', 'db/isComponent': true },
};

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

// ------------------------------------------------------------------ the oracle (over a replica's state)

/** A replica's view of what was accepted so far: its merged state, and the committed ops. */
interface ReplicaView {
  state: MergeState;
  ops: Op[];
  drafts: Map<string, Set<GlobalId>>;
}

/** Which rules `env` breaks, judged over the replica's view of the envelopes accepted before. */
function violations(env: unknown, view: ReplicaView, compacted = false): Set<string> {
  const out = new Set<string>();
  let e: TxEnvelope;
  try {
    e = checkEnvelope(env);
  } catch {
    return new Set(['ops/malformed']);
  }
  if (parseHlc(e.tx).ms > NOW + DRIFT) out.add('sync/clock-drift');
  for (const op of e.ops) {
    if (op.a === undefined || !SCHEMA_ATTRS.has(op.a)) continue;
    if (op.op === 'text' || (op.op === 'add' && schemaValueError(op.a, op.v!) !== null)) out.add('sync/schema-invalid');
  }
  let state = view.state;
  if (e.draft === undefined) {
    const defined = new Set(schemaOps(view.ops).map((o) => o.e));
    const touched = new Set(e.ops.filter((o) => (o.a !== undefined && SCHEMA_ATTRS.has(o.a)) || (o.op === 'retractEntity' && defined.has(o.e))).map((o) => o.e));
    if (touched.size) {
      const scratch = new MergeState();
      scratch.apply(schemaOps([...view.ops, ...e.ops]));
      const reps = new Set([...touched].map((x) => scratch.rep(x)));
      for (const d of schemaFromDatoms(scratch.datoms()).values()) if (d.attr === null && reps.has(d.entity)) out.add('sync/schema-invalid');
      const next = dataMergeSchema([...view.ops, ...e.ops]);
      // A server that dropped superseded ops cannot re-merge history for these (restart it instead).
      if (compacted && [...next.entries()].some(([a, t]) => (t.many && !state.schema.get(a).many) || (t.component && !state.schema.get(a).component) || (t.text && !state.schema.get(a).text))) out.add('sync/schema-history');
      if (!next.sameAs(state.schema)) {
        state = new MergeState(next);
        state.apply(view.ops);
      }
    }
  }
  const schema = state.schema;
  const created = new Set(e.ops.map((o) => o.e));
  const mine = e.draft === undefined ? undefined : view.drafts.get(e.draft);
  const seen = new Set<string>();
  for (const op of e.ops) {
    if (op.op === 'retractEntity' || op.a === undefined || SCHEMA_ATTRS.has(op.a)) continue;
    if (op.a.startsWith('db/')) {
      out.add('sync/schema-mismatch');
      continue;
    }
    const t = schema.get(op.a).valueType;
    if (op.op === 'text') {
      if (t !== 'text') out.add('sync/schema-mismatch');
      continue;
    }
    if (op.v === undefined) continue;
    if (t === 'text' ? op.op === 'add' : !wireValueHasType(op.v, t)) out.add('sync/schema-mismatch');
    if (t === 'ref' && typeof op.v === 'object' && 'ref' in op.v && !state.hasEntity(op.v.ref) && !created.has(op.v.ref) && !mine?.has(op.v.ref)) out.add('sync/unknown-ref');
    if (op.op === 'add' && !schema.get(op.a).many) {
      if (seen.has(op.e + ' ' + op.a)) out.add('sync/cardinality');
      seen.add(op.e + ' ' + op.a);
    }
  }
  for (const c of e.checks ?? []) {
    if (schema.get(c.a).many) out.add('sync/invalid-check');
    else {
      const cur = state.values(c.e, c.a)[0] ?? null;
      if ((cur === null ? 'nil' : wireValueKey(cur)) !== (c.expected === null ? 'nil' : wireValueKey(c.expected))) out.add('sync/cas-failed');
    }
  }
  if (e.draft === undefined && out.size === 0) {
    const changes = state.apply(e.ops);
    for (const c of changes) {
      if (!c.added || !schema.get(c.a).uniqueValue) continue;
      const holders = new Set([...state.datoms()].filter((d) => d.a === c.a && wireValueKey(d.v) === wireValueKey(c.v)).map((d) => d.e));
      if (holders.size > 1) out.add('sync/unique');
    }
    state.remove(e.ops.map((o) => o.id));
  }
  return out;
}

/** The replica takes an accepted envelope: merged, with a new merge state when the schema data changed. */
function accept(view: ReplicaView, e: TxEnvelope): void {
  if (e.draft !== undefined) {
    if (!view.drafts.has(e.draft)) view.drafts.set(e.draft, new Set());
    for (const op of e.ops) view.drafts.get(e.draft)!.add(op.e);
    return;
  }
  view.ops.push(...e.ops);
  const schema = dataMergeSchema(view.ops);
  if (schema.sameAs(view.state.schema)) view.state.apply(e.ops);
  else {
    view.state = new MergeState(schema);
    view.state.apply(view.ops);
  }
}

function visible(s: MergeState): string[] {
  return [...s.datoms()].map((d) => `${d.e} ${d.a} ${wireValueKey(d.v)}`).sort();
}

// ------------------------------------------------------------------ the generator

class Gen {
  private counters = new Map<string, number>();
  private ents: GlobalId[] = [];
  private readonly docs = new Map<string, Y.Doc>();
  private stamp = 0;
  constructor(private readonly r: Rand) {}

  private tx(replica: string, late: boolean): string {
    const ms = late ? NOW - 3_600_000 + Math.floor(this.r() * 1000) : NOW - 100_000 + this.stamp++;
    return formatHlc({ ms, counter: Math.floor(this.r() * 50), replica });
  }
  private newEnt(replica: string): GlobalId {
    const n = (this.counters.get(replica) ?? 0) + 1;
    this.counters.set(replica, n);
    const e = `${replica}.${n.toString(36)}`;
    this.ents.push(e);
    return e;
  }
  private known(): GlobalId {
    return this.ents.length ? pick(this.r, this.ents) : 'ghost.1';
  }
  private textUpdate(e: GlobalId): string {
    let d = this.docs.get(e);
    if (!d) this.docs.set(e, (d = new Y.Doc()));
    const sv = Y.encodeStateVector(d);
    const t = d.getText('text');
    t.insert(Math.floor(this.r() * (t.length + 1)), pick(this.r, ['a', 'bc', 'def']));
    return bytesToBase64(Y.encodeStateAsUpdate(d, sv));
  }

  envelope(): { env: Record<string, unknown>; tag: string } {
    const r = this.r;
    const replica = pick(r, ['ra', 'rb', 'rc']);
    const late = r() < 0.15;
    const tx = r() < 0.02 ? formatHlc({ ms: NOW + 10 * DRIFT, counter: 0, replica }) : this.tx(replica, late);
    const ops: Array<Omit<Op, 'id' | 'tx'>> = [];
    let checks: TxEnvelope['checks'];
    let draft: string | undefined;
    const x = r();
    let tag = 'valid';
    if (x < 0.3 || this.ents.length === 0) {
      const e = this.newEnt(replica);
      ops.push({ e, op: 'add', a: 'i/name', v: pick(r, ['red', 'blue', 'teal']) }, { e, op: 'add', a: 'i/count', v: Math.floor(r() * 9) });
      if (r() < 0.3) ops.push({ e, op: 'add', a: 'i/email', v: pick(r, ['a@x', 'b@x', 'c@x', 'd@x']) });
      if (r() < 0.2) ops.push({ e, op: 'add', a: 'i/key', v: pick(r, ['k1', 'k2', 'k3']) });
      if (r() < 0.3) ops.push({ e, op: 'add', a: 'i/owner', v: { ref: r() < 0.8 ? this.known() : 'nobody.zz' } });
      if (r() < 0.2) {
        const c = this.newEnt(replica);
        ops.push({ e: c, op: 'add', a: 'i/name', v: 'part' }, { e, op: 'add', a: 'i/part', v: { ref: c } });
      }
      if (r() < 0.2) ops.push({ e, op: 'text', a: 'i/bio', v: this.textUpdate(e) });
    } else if (x < 0.55) {
      const e = this.known();
      const k = r();
      if (k < 0.25) ops.push({ e, op: 'add', a: 'i/count', v: Math.floor(r() * 9) });
      else if (k < 0.4) ops.push({ e, op: pick(r, ['add', 'retract'] as const), a: 'i/tags', v: pick(r, ['x', 'y', 'z']) });
      else if (k < 0.5) ops.push({ e, op: 'retract', a: 'i/name' });
      else if (k < 0.6) ops.push({ e, op: 'add', a: 'i/email', v: pick(r, ['a@x', 'b@x', 'c@x', 'd@x']) });
      else if (k < 0.7) ops.push({ e, op: 'add', a: 'i/friends', v: { ref: this.known() } });
      else if (k < 0.8) ops.push({ e, op: 'text', a: 'i/bio', v: this.textUpdate(e) });
      else if (k < 0.9) {
        const v = Math.floor(r() * 9);
        checks = [{ kind: 'cas', e, a: 'i/count', expected: r() < 0.5 ? Math.floor(r() * 9) : null, v }];
        ops.push({ e, op: 'add', a: 'i/count', v });
      } else ops.push({ e, op: 'retractEntity' });
      if (r() < 0.08) draft = pick(r, ['d1', 'd2']);
    } else if (x < 0.8) {
      tag = 'policy';
      const e = this.known();
      const bad: Array<Array<Omit<Op, 'id' | 'tx'>>> = [
        [{ e, op: 'add', a: 'i/count', v: 'str' }],
        [{ e, op: 'add', a: 'i/name', v: 42 }],
        [{ e, op: 'add', a: 'i/owner', v: { ref: 'nobody.zz' } }],
        [{ e, op: 'add', a: 'i/count', v: 1 }, { e, op: 'add', a: 'i/count', v: 2 }],
        [{ e, op: 'add', a: 'db/txInstant', v: 1 }],
        [{ e, op: 'text', a: 'i/name', v: this.textUpdate(e) }],
        [{ e, op: 'add', a: 'i/bio', v: 'plain' }],
        [{ e, op: 'add', a: 'i/name', v: { ref: this.known() } }],
        [{ e, op: 'add', a: 'i/email', v: 'a@x' }],
      ];
      ops.push(...pick(r, bad));
    } else if (x < 0.9) {
      tag = 'schema';
      const k = r();
      const ident = k < 0.25 ? 'i/extra' : k < 0.5 ? 'i/tags' : k < 0.75 ? 'i/name' : 'i/count';
      const se = attrEntityId(ident);
      if (ident === 'i/extra') ops.push({ e: se, op: 'add', a: 'db/ident', v: { kw: 'i/extra' } }, { e: se, op: 'add', a: 'db/valueType', v: { kw: pick(r, ['db.type/long', 'db.type/string', 'db.type/blob']) } });
      else if (ident !== 'i/count' || r() < 0.5) ops.push({ e: se, op: 'add', a: 'db/cardinality', v: { kw: pick(r, ['db.cardinality/one', 'db.cardinality/many', 'db.cardinality/few']) } });
      else ops.push({ e: se, op: 'add', a: pick(r, ['db/valueType', 'db/isComponent']), v: pick(r, [{ kw: 'db.type/string' }, { kw: 'db.type/long' }, true] as WireValue[]) });
      if (r() < 0.5) ops.push({ e: this.known(), op: 'add', a: ident, v: pick(r, [1, 'one', 2] as WireValue[]) });
    } else {
      tag = 'malformed';
      const e = this.known();
      ops.push({ e, op: 'add', a: 'i/name', v: 'm' });
      const env: Record<string, unknown> = { tx, replica, ops: ops.map((o, i) => ({ id: `${tx}/${i}`, tx, ...o })) };
      const o0 = (env.ops as Array<Record<string, unknown>>)[0]!;
      switch (Math.floor(r() * 8)) {
        case 0: o0.id = `${tx}/7`; break;
        case 1: o0.e = 'not-a-gid'; break;
        case 2: o0.a = 'bad name'; break;
        case 3: o0.v = { kw: 'bad\u202ekw' }; break;
        case 4: env.replica = replica === 'ra' ? 'rb' : 'ra'; break;
        case 5: o0.op = 'text'; o0.a = 'i/bio'; o0.v = btoa('not yjs'); break;
        case 6: env.extra = 1; break;
        default: delete o0.v;
      }
      return { env, tag };
    }
    const env: Record<string, unknown> = { tx, replica, ops: ops.map((o, i) => ({ id: `${tx}/${i}`, tx, ...o })) };
    if (checks) env.checks = checks;
    if (draft) env.draft = draft;
    return { env, tag };
  }
}

function schemaEnvelope(): TxEnvelope {
  const tx = formatHlc({ ms: NOW - 200_000, counter: 0, replica: 'server' });
  const ops: Op[] = [];
  for (const [ident, props] of schemaAsData(SCHEMA)) {
    const e = attrEntityId(ident);
    ops.push({ id: `${tx}/${ops.length}`, tx, e, op: 'add', a: 'db/ident', v: { kw: ident } });
    for (const [a, v] of props) ops.push({ id: `${tx}/${ops.length}`, tx, e, op: 'add', a, v });
  }
  return { tx, replica: 'server', ops };
}

function shuffledBatches<T>(r: Rand, xs: readonly T[]): T[][] {
  const a = [...xs, ...xs.filter(() => r() < 0.1)];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  const out: T[][] = [];
  for (let i = 0; i < a.length; ) {
    const n = 1 + Math.floor(r() * 20);
    out.push(a.slice(i, i + n));
    i += n;
  }
  return out;
}

function run(seed: number): { accepted: number; rejected: Map<string, number> } {
  const r = mulberry32(seed);
  const server = new ServerState({ maxClockDriftMs: DRIFT, now: () => NOW, compactEvery: seed % 2 === 0 ? 7 : 0 });
  const gen = new Gen(r);
  const accepted: TxEnvelope[] = [];
  const view: ReplicaView = { state: new MergeState(), ops: [], drafts: new Map() };
  const rejected = new Map<string, number>();
  let pos = 0;
  const boot = schemaEnvelope();
  expect(server.check(boot)).toEqual({ ok: true });
  server.settle([{ pos: ++pos, env: boot }]);
  accepted.push(boot);
  accept(view, boot);
  const compare = (what: string) => {
    const replica = new MergeState(dataMergeSchema(accepted.filter((x) => x.draft === undefined).flatMap((x) => x.ops)));
    for (const batch of shuffledBatches(r, accepted.filter((x) => x.draft === undefined))) replica.apply(batch.flatMap((x) => x.ops));
    expect(visible(server.merged), what).toEqual(visible(replica));
  };
  for (let step = 0; step < STEPS; step++) {
    const { env, tag } = gen.envelope();
    const ctx = `step ${step} (${tag}): ${JSON.stringify(env).slice(0, 400)}`;
    const broken = violations(env, view, server.historyCompacted);
    let replicaRefuses = false;
    try {
      checkEnvelope(env);
    } catch {
      replicaRefuses = true;
    }
    const verdict = server.check(env as unknown as TxEnvelope);
    if (verdict.ok) {
      expect(replicaRefuses, ctx).toBe(false);
      expect([...broken], ctx).toEqual([]);
      server.settle([{ pos: ++pos, env: env as unknown as TxEnvelope }]);
      const e = checkEnvelope(env);
      accepted.push(e);
      accept(view, e);
    } else {
      rejected.set(verdict.code, (rejected.get(verdict.code) ?? 0) + 1);
      expect(verdict.code === 'ops/malformed', `${ctx} → ${verdict.code}`).toBe(replicaRefuses);
      expect([...broken], `${ctx} → ${verdict.code} ${verdict.message}`).toContain(verdict.code);
    }
    if (step % 40 === 39) compare(`after step ${step}`);
  }
  compare('at the end');
  return { accepted: accepted.length, rejected };
}

describe('server judging and replica merging agree', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}`, () => {
      try {
        const { accepted, rejected } = run(seed);
        expect(accepted).toBeGreaterThan(STEPS / 4);
        expect(rejected.size).toBeGreaterThan(3);
      } catch (e) {
        (e as Error).message += `\nreplay with FUZZ_SEED=${seed}`;
        throw e;
      }
    });
  }
});
