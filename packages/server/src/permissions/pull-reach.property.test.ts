/**
 * Pull scopes (`pull-reach.ts`) against DataScript's `pull`, seeded, in process: random graphs of
 * friends (many refs), parents (one ref), parts and boxes (components), owned by two users; random
 * pull patterns with recursion (`...` and depths 1–3, forward and reverse), sub-patterns, plain
 * component attributes and `*`. After every transaction, each user's scope (as `ReadEngine`
 * follows it), cut to what the user may read (what is sent of it), must equal the found entities
 * plus the entities DataScript's `pull` nests as maps, run over the datoms that user may read — so
 * a scope sends what `pull` shows, and nothing it reaches through a datom the user may not read. Every (sub-)pattern is given to DataScript with a
 * marker attribute each entity has, so an entity `pull` reached is a map holding the marker (a
 * bare `{:db/id}` is a ref it did not follow). `FUZZ_RUNS=n`, `FUZZ_SEED=s`.
 */
import { describe, expect, it } from 'vitest';
import { kw, type GlobalId, type Op } from '@dataloom/core';
import { Interner, MergeState } from '@dataloom/core/internals';
import { mulberry32, pick, replayable, seeds } from '@dataloom/test/gen/prng.js';
import { dsInitDb, dsPull, dsQ } from '@dataloom/test/oracle/datascript.js';
import { ReadEngine } from './readable.js';
import { parsePermissions } from './rules.js';

const SCHEMA = {
  ':n/friend': { ':db/valueType': ':db.type/ref', ':db/cardinality': ':db.cardinality/many' },
  ':n/parent': { ':db/valueType': ':db.type/ref' },
  ':n/part': { ':db/valueType': ':db.type/ref', ':db/cardinality': ':db.cardinality/many', ':db/isComponent': true },
  ':n/box': { ':db/valueType': ':db.type/ref', ':db/isComponent': true },
};
const RULES = '[[(can-read ?u ?e) [?e :n/owner ?u]] [(can-read ?u ?e) [?e :n/public true]]]';
const USERS = ['u0', 'u1'];
const ROOTS = '[:find ?e :where [?e :n/root true]]';
const REFS = ['n/friend', 'n/parent', 'n/part', 'n/box'];

/** A random pull pattern, as given to the scope and (with the marker in every vector) to DataScript. */
function pattern(rnd: () => number, level = 0): { plain: string; marked: string } {
  const entries: Array<{ plain: string; marked: string }> = [];
  const n = 1 + Math.floor(rnd() * 3);
  for (let i = 0; i < n; i++) {
    const a = pick(rnd, REFS);
    const attr = rnd() < 0.3 ? a.replace('/', '/_') : a;
    const k = rnd();
    if (k < 0.15) entries.push({ plain: '*', marked: '*' });
    else if (k < 0.3) entries.push({ plain: ':' + a, marked: ':' + a });
    else if (k < 0.4) entries.push({ plain: ':n/name', marked: ':n/name' });
    else if (k < 0.7 || level >= 2) {
      const depth = pick(rnd, ['...', '1', '2', '3']);
      entries.push({ plain: `{:${attr} ${depth}}`, marked: `{:${attr} ${depth}}` });
    } else {
      const sub = pattern(rnd, level + 1);
      entries.push({ plain: `{:${attr} ${sub.plain}}`, marked: `{:${attr} ${sub.marked}}` });
    }
  }
  return { plain: `[${entries.map((e) => e.plain).join(' ')}]`, marked: `[:n/m ${entries.map((e) => e.marked).join(' ')}]` };
}

/** The entities `pull` reached: the markers (global ids) of the nested maps of its result. */
function nested(x: unknown, out: Set<string>, top = true): void {
  if (x instanceof Map) {
    const marker = x.get(kw('n/m'));
    if (!top && typeof marker === 'string') out.add(marker);
    for (const v of x.values()) nested(v, out, false);
  } else if (Array.isArray(x)) for (const v of x) nested(v, out, false);
}

function run(seed: number): void {
  const rnd = mulberry32(seed);
  const m = new MergeState(SCHEMA);
  let n = 0;
  const tx = (ops: Array<Omit<Op, 'id' | 'tx'>>) => {
    const t = `${(1_900_000_000_000 + n++).toString(36).padStart(12, '0')}-0000-pr`;
    return ops.map((o, i) => ({ ...o, id: `${t}/${i}`, tx: t }) as Op);
  };
  const engine = new ReadEngine(parsePermissions(RULES), () => m);
  const users = USERS.map((u) => engine.acquire(u));
  const pulls = Array.from({ length: 4 }, () => pattern(rnd));
  const watches = users.flatMap((u) => pulls.map((p) => ({ u, p, h: engine.watchEntities(ROOTS, [], () => {}, p.plain, u) })));
  const es: GlobalId[] = [];
  for (let step = 0; step < 40; step++) {
    const id = `pr.x${step}`;
    let ops: Array<Omit<Op, 'id' | 'tx'>>;
    if (es.length < 3 || rnd() < 0.4) {
      ops = [
        { e: id, op: 'add', a: 'n/m', v: id },
        { e: id, op: 'add', a: 'n/name', v: `x${step}` },
      ];
      if (rnd() < 0.8) ops.push({ e: id, op: 'add', a: 'n/owner', v: pick(rnd, USERS) });
      if (rnd() < 0.2) ops.push({ e: id, op: 'add', a: 'n/public', v: true });
      if (rnd() < 0.3) ops.push({ e: id, op: 'add', a: 'n/root', v: true });
      es.push(id);
    } else {
      const e = pick(rnd, es);
      const c = rnd();
      const a = pick(rnd, REFS);
      const target = pick(rnd, es);
      // a component has one holder (pull follows a reverse component attribute to the first only)
      const held = (a === 'n/part' || a === 'n/box') && [...m.datoms()].some((d) => (d.a === 'n/part' || d.a === 'n/box') && (d.v as { ref?: GlobalId }).ref === target && d.e !== e);
      ops =
        c < 0.7
          ? held
            ? []
            : [{ e, op: rnd() < 0.8 ? 'add' : 'retract', a, v: { ref: target } }]
          : c < 0.8
            ? [{ e, op: 'add', a: 'n/owner', v: pick(rnd, USERS) }]
            : c < 0.9
              ? [{ e, op: 'add', a: 'n/root', v: rnd() < 0.6 }]
              : [{ e, op: 'add', a: 'n/public', v: rnd() < 0.5 }];
    }
    engine.apply(m.apply(tx(ops)));
    engine.takeChanges();
    for (const { u, p, h } of watches) {
      const ids = new Interner();
      const datoms = [...m.datoms()].filter((d) => u.reads(m.rep(d.e), d.a)).map((d) => [ids.eid(d.e), ':' + d.a, typeof d.v === 'object' && d.v !== null && 'ref' in d.v ? ids.eid((d.v as { ref: GlobalId }).ref) : d.v]);
      const db = dsInitDb(datoms, SCHEMA);
      const roots = [...(dsQ(ROOTS, db) as Set<unknown[]>)].map((r) => r[0] as number);
      const want = new Set(roots.map((r) => ids.gid(r)!));
      for (const r of roots) nested(dsPull(db, p.marked, r), want);
      const expected = [...want].sort();
      // what is sent of a scope is its entities the user may read (an unreadable target of a step is named, never sent)
      expect([...h.entities].filter((e) => u.reads(e, undefined)).sort(), `seed ${seed} step ${step} ${String(u.user)} ${p.plain}`).toEqual(expected);
    }
  }
  for (const w of watches) w.h.close();
}

describe('pull scopes: seeded property against DataScript pull over what the user may read', () => {
  it('recursion depths, components, * and reverse entries', () => {
    for (const seed of seeds(6, 4200)) replayable(seed, () => run(seed));
  });
});
