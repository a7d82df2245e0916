/**
 * Seeded property test of drafts on real `Replica`s exchanging envelopes in random orders: random
 * committed and draft transactions (titles, counters, tags, refs, components, text, deletions) on
 * three replicas and two shared drafts, commits, discards, undo and redo (main and drafts),
 * acknowledgements, compactions and reloads from the store.
 *
 * After every step, on the replica that acted:
 * - **isolation**: the main database holds exactly the visible datoms of the committed ops (no
 *   draft op ever reaches it, through any path, reloads included);
 * - **the draft view** of every draft is, datom for datom, what an independent oracle says: the
 *   merge rules (`MergeState`) over the committed ops plus the draft's live ops re-stamped above
 *   every committed stamp (so the draft wins per value), where "live" is read from the committed
 *   `:draft/closed` stamps by the oracle itself — while the view is maintained incrementally.
 * At the end, after every replica has every envelope: committed snapshots are byte-identical, and
 * every draft view is identical on every replica (convergence).
 *
 * Identity attributes are left out: a draft does not unify entities by `:db.unique/identity`
 * (drafts/DESIGN.md), the oracle would. `FUZZ_RUNS` widens the hunt, `FUZZ_SEED` replays.
 */
import { describe, expect, it } from 'vitest';
import { draftSchema, type Op, type TxEnvelope } from '@dataloom/core';
import { MergeState, wireValueKey } from '@dataloom/core/internals';
import { Replica } from '../../packages/client/src/replica/replica.js';
import { MemoryStore, memoryBacking, type MemoryBacking } from '../../packages/client/src/store/memory.js';
import { DraftService } from '../../packages/client/src/drafts/service.js';
import { draftId } from '../../packages/client/src/drafts/ids.js';
import { replicaUndo, type UndoService } from '../../packages/client/src/undo/service.js';
import type { UndoMode } from '../../packages/client/src/undo/stacks.js';
import { mulberry32, pick, replayableAsync, seeds } from '../gen/prng.js';

const schema = {
  ...draftSchema,
  'item/title': {},
  'item/count': {},
  'item/tags': { ':db/cardinality': ':db.cardinality/many' },
  'item/owner': { ':db/valueType': ':db.type/ref' },
  'item/parts': { ':db/valueType': ':db.type/ref', ':db/cardinality': ':db.cardinality/many', ':db/isComponent': true },
  'part/name': {},
  'item/note': { ':db/valueType': ':db.type/text' },
};
const DRAFTS = [draftId('form-1'), draftId('form-2')];

interface Node {
  id: string;
  backing: MemoryBacking;
  r: Replica;
  svc: DraftService;
  undo: UndoService;
}

function open(id: string, backing: MemoryBacking, now: () => number): Node {
  const r = new Replica({ schema, replicaId: id, store: new MemoryStore(backing), now });
  const transact = async (tx: unknown, o?: { draft?: string; undo?: UndoMode }) => {
    const res = await r.localTransact(tx, o ?? {});
    return { tx: res.tx, tempids: {}, globalIds: res.tempids, persisted: res.persisted };
  };
  const svc = new DraftService(r, transact);
  const undo = replicaUndo(r, svc, transact);
  return { id, backing, r, svc, undo };
}

/** Everything `from` holds, as envelopes (committed ops grouped by tx, and every draft's). */
function everything(from: Replica): TxEnvelope[] {
  const byTx = new Map<string, Op[]>();
  for (const op of from.merged().allOps()) {
    const l = byTx.get(op.tx);
    if (l) l.push(op);
    else byTx.set(op.tx, [op]);
  }
  const out: TxEnvelope[] = [...byTx].map(([tx, ops]) => ({ tx, replica: tx.slice(18), ops: ops.sort((x, y) => Number(x.id.split('/')[1]) - Number(y.id.split('/')[1])) }));
  for (const d of from.drafts.ids()) out.push(...from.drafts.envelopes(d));
  return out;
}

const key = (e: string, a: string, v: unknown) => `${e}|${a}|${wireValueKey(v as never)}`;

function mainKeys(r: Replica): string[] {
  const db = r.db();
  return db.datoms('eavt').map((d) => key(r.gid(d.e)!, d.a.fqn, db.isRef(d.a) ? { ref: r.gid(d.v as number) } : wire(d.v))).sort();
}

function wire(v: unknown): unknown {
  if (v instanceof Date) return { inst: v.getTime() };
  if (typeof v === 'object' && v !== null && 'fqn' in v) return { kw: (v as { fqn: string }).fqn };
  return v;
}

function committedKeys(m: MergeState): string[] {
  return [...m.datoms()].map((d) => key(d.e, d.a, d.v)).sort();
}

/** The oracle's draft view: merge rules over committed ops + the draft's live ops stamped above them all. */
function oracle(r: Replica, draft: string): string[] {
  const committed = [...r.merged().allOps()];
  const c = new MergeState(schema);
  c.apply(committed);
  // live: no closing stamp of the op's replica at or after the op (computed here, independently)
  const closed = c.values(draft, 'draft/closed') as string[];
  const live = r.drafts.ops(draft).filter((o) => !closed.some((t) => t.slice(18) === o.tx.slice(18) && o.tx <= t));
  const s = new MergeState(schema);
  const boost = (o: Op): Op => ({ ...o, id: '~' + o.id, tx: '~' + o.tx });
  s.apply([...committed, ...live.map(boost)]);
  return committedKeys(s);
}

async function draftKeys(n: Node, draft: string): Promise<string[]> {
  return n.r.run(() => {
    const db = n.r.drafts.overlay(draft).db();
    return db.datoms('eavt').map((d) => key(n.r.gid(d.e)!, d.a.fqn, db.isRef(d.a) ? { ref: n.r.gid(d.v as number) } : wire(d.v))).sort();
  });
}

function items(r: Replica): string[] {
  const out = new Set<string>();
  for (const d of r.merged().datoms()) if (d.a === 'item/title') out.add(d.e);
  return [...out].sort();
}

function randomForms(rnd: () => number, r: Replica, tag: string): unknown[] {
  const ents = items(r);
  const word = () => pick(rnd, ['red', 'green', 'blue']);
  const x = rnd();
  if (ents.length === 0 || x < 0.2) {
    const m: Record<string, unknown> = { ':db/id': 'n', 'item/title': `${tag}-${word()}`, 'item/count': Math.floor(rnd() * 5) };
    if (rnd() < 0.4) m['item/parts'] = [{ 'part/name': `${tag}-part` }];
    if (ents.length && rnd() < 0.4) m['item/owner'] = pick(rnd, ents);
    if (rnd() < 0.3) m['item/note'] = `${tag} note`;
    return [m];
  }
  const e = pick(rnd, ents);
  if (x < 0.4) return [[':db/add', e, ':item/title', `${tag}-${word()}`]];
  if (x < 0.5) return [[':db/add', e, ':item/count', Math.floor(rnd() * 9)]];
  if (x < 0.65) return [[rnd() < 0.6 ? ':db/add' : ':db/retract', e, ':item/tags', word()]];
  if (x < 0.72) return [[':db/add', e, ':item/owner', pick(rnd, ents)]];
  if (x < 0.8) {
    const cur = (r.merged().values(e, 'item/note')[0] as string | undefined) ?? '';
    const at = Math.floor(rnd() * (cur.length + 1));
    return [[':db/add', e, ':item/note', cur.slice(0, at) + word() + cur.slice(at)]];
  }
  if (x < 0.86) return [[':db/retract', e, ':item/count', (r.merged().values(e, 'item/count')[0] as number | undefined) ?? 0]];
  if (x < 0.9) return [[':db/retractEntity', e]];
  return [{ ':db/id': e, 'item/parts': [{ 'part/name': `${tag}-part2` }] }];
}

/** `draftOpIds`: ids of every draft op any replica held so far in this run. */
async function check(n: Node, seedInfo: string, draftOpIds: Set<string>): Promise<void> {
  for (const d of DRAFTS) for (const o of n.r.drafts.ops(d)) draftOpIds.add(o.id);
  const leaked = [...n.r.merged().allOps()].filter((o) => draftOpIds.has(o.id));
  expect(leaked, `isolation: draft ops in the committed state of ${n.id} ${seedInfo}`).toEqual([]);
  expect(mainKeys(n.r), `isolation on ${n.id} ${seedInfo}`).toEqual(committedKeys(n.r.merged()));
  for (const d of DRAFTS) {
    const got = await draftKeys(n, d);
    const want = oracle(n.r, d);
    if (process.env.DEBUG_DRAFTS && JSON.stringify(got) !== JSON.stringify(want)) {
      const ents = new Set([...got.filter((k) => !want.includes(k)), ...want.filter((k) => !got.includes(k))].flatMap((k) => [k.split('|')[0], k.split('|')[2]!.slice(1)]));
      console.log('committed', [...n.r.merged().allOps()].filter((o) => ents.has(o.e) || (typeof o.v === 'object' && 'ref' in o.v && ents.has(o.v.ref))));
      console.log('draft', n.r.drafts.ops(d).filter((o) => ents.has(o.e) || (typeof o.v === 'object' && 'ref' in o.v && ents.has(o.v.ref))), n.r.merged().values(d, 'draft/closed'));
    }
    expect(got, `draft ${d} on ${n.id} ${seedInfo}`).toEqual(want);
  }
}

async function run(seed: number): Promise<void> {
  const rnd = mulberry32(seed);
  let t = 1_700_000_000_000;
  const now = () => (t += 1 + Math.floor(rnd() * 3));
  const nodes = ['ra', 'rb', 'rc'].map((id) => open(id, memoryBacking(), now));
  const draftOpIds = new Set<string>();
  for (const n of nodes) await n.r.ready;
  const steps = 40;
  for (let step = 0; step < steps; step++) {
    const n = pick(rnd, nodes);
    const x = rnd();
    const info = `step ${step}`;
    if (process.env.DEBUG_DRAFTS) console.log(info, n.id, x.toFixed(2));
    try {
      if (x < 0.3) await n.r.localTransact(randomForms(rnd, n.r, 'c'));
      else if (x < 0.62) {
        const d = pick(rnd, DRAFTS);
        await n.svc.transact(d, randomFormsDraft(rnd, n, d));
      } else if (x < 0.67) await n.svc.commit(pick(rnd, DRAFTS));
      else if (x < 0.7) {
        const scope = pick(rnd, ['', ...DRAFTS]);
        await (rnd() < 0.7 ? n.undo.undo(scope) : n.undo.redo(scope));
      }
      else if (x < 0.74) await n.svc.discard(pick(rnd, DRAFTS));
      else if (x < 0.8) {
        // the server acknowledged the oldest pending transactions (they move to the log), or a compaction
        const out = n.r.outbox();
        if (out.length && rnd() < 0.7) await n.r.ackMany(out.slice(0, 1 + Math.floor(rnd() * out.length)).map((e) => ({ tx: e.tx })));
        else await n.r.compact();
      } else if (x < 0.92) {
        const to = pick(rnd, nodes);
        if (to !== n) await to.r.applyRemote(everything(n.r), null);
        await check(to, info, draftOpIds);
      } else {
        await n.r.close();
        const m = open(n.id, n.backing, now);
        nodes[nodes.indexOf(n)] = m;
        await m.r.ready;
        await check(m, info + ' (reloaded)', draftOpIds);
        continue;
      }
    } catch (e) {
      if (!(e instanceof Error) || !('code' in e)) throw e; // a typed refusal (e.g. unknown entity) is fine
    }
    await check(nodes.find((m) => m.id === n.id)!, info, draftOpIds);
  }
  for (let round = 0; round < 2; round++) for (const a of nodes) for (const b of nodes) if (a !== b) await b.r.applyRemote(everything(a.r), null);
  const snap = (n: Node) => Buffer.from(n.r.encodeSnapshot()).toString('base64');
  for (const n of nodes) expect(snap(n), `committed state of ${n.id}`).toBe(snap(nodes[0]!));
  for (const d of DRAFTS) {
    const want = await draftKeys(nodes[0]!, d);
    expect(want).toEqual(oracle(nodes[0]!.r, d));
    for (const n of nodes) expect(await draftKeys(n, d), `draft ${d} on ${n.id} converged`).toEqual(want);
  }
  for (const n of nodes) await n.r.close();
}

/** Draft forms resolve against the draft's view (its entities may differ from the committed ones). */
function randomFormsDraft(rnd: () => number, n: Node, d: string): unknown[] {
  void d;
  return randomForms(rnd, n.r, 'd');
}

describe('drafts: isolation, draft view against the oracle, convergence', () => {
  for (const seed of seeds(25, 7000)) {
    it(`seed ${seed}`, { timeout: 60_000 }, () => replayableAsync(seed, () => run(seed)));
  }
});
