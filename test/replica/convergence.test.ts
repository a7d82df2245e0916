/**
 * Seeded convergence: many replicas apply random op sets in random orders, in random batches,
 * with duplicates and with some ops removed and re-added; every encoded snapshot is byte-identical
 * to the one built from the op set in a single batch, and the emitted changes integrate to the
 * visible state. `FUZZ_RUNS=500` for a longer hunt, `FUZZ_SEED=n` to replay one case.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { formatHlc, type DatomChange, type Op } from '@dataloom/core';
import { MergeState, bytesToBase64, wireValueKey } from '@dataloom/core/internals';
import { mulberry32, pick, replayable, seeds, shuffle } from '../gen/prng.js';

const schema = {
  'p/name': {},
  'p/email': { ':db/unique': ':db.unique/identity' },
  'p/handle': { ':db/unique': ':db.unique/identity' },
  'p/tags': { ':db/cardinality': ':db.cardinality/many' },
  'p/friend': { ':db/valueType': ':db.type/ref', ':db/cardinality': ':db.cardinality/many' },
  'p/best': { ':db/valueType': ':db.type/ref' },
  'p/part': { ':db/valueType': ':db.type/ref', ':db/isComponent': true, ':db/cardinality': ':db.cardinality/many' },
  'p/note': { ':db/valueType': ':db.type/text' },
};

function genOps(rnd: () => number, nOps: number): Op[] {
  const replicas = ['ra', 'rb', 'rc', 'rd'];
  const ents = Array.from({ length: 8 }, (_, i) => `${pick(rnd, replicas)}.e${i}`);
  const docs = new Map<string, Y.Doc>();
  const ops: Op[] = [];
  let ms = 1000;
  for (let i = 0; i < nOps; i++) {
    const replica = pick(rnd, replicas);
    if (rnd() < 0.7) ms += Math.floor(rnd() * 3);
    const tx = formatHlc({ ms, counter: Math.floor(rnd() * 3), replica });
    const n = 1 + Math.floor(rnd() * 3);
    for (let j = 0; j < n; j++) {
      const e = pick(rnd, ents);
      const id = `${tx}/${j}`;
      const r = rnd();
      if (ops.some((o) => o.id === id)) continue;
      if (r < 0.06) {
        ops.push({ id, tx, e, op: 'retractEntity' });
      } else if (r < 0.12) {
        const key = `${replica}|${e}`;
        let doc = docs.get(key);
        if (!doc) docs.set(key, (doc = new Y.Doc()));
        const sv = Y.encodeStateVector(doc);
        const t = doc.getText('text');
        if (t.length > 2 && rnd() < 0.3) t.delete(Math.floor(rnd() * t.length), 1);
        else t.insert(Math.floor(rnd() * (t.length + 1)), pick(rnd, ['a', 'b', 'xy', 'z']));
        ops.push({ id, tx, e, op: 'text', a: 'p/note', v: bytesToBase64(Y.encodeStateAsUpdate(doc, sv)) });
      } else {
        const a = pick(rnd, ['p/name', 'p/email', 'p/handle', 'p/tags', 'p/friend', 'p/best', 'p/part', 'p/part', 'p/note']);
        const isRef = a === 'p/friend' || a === 'p/best' || a === 'p/part';
        const v = isRef ? { ref: pick(rnd, ents) } : a === 'p/note' ? undefined : pick(rnd, ['x', 'y', 'z', 1, 2, true]);
        const retract = rnd() < 0.25 || v === undefined;
        const op: Op = { id, tx, e, op: retract ? 'retract' : 'add', a };
        if (v !== undefined && (!retract || a === 'p/tags' || a === 'p/friend' || a === 'p/part')) op.v = v;
        ops.push(op);
      }
    }
  }
  return ops;
}

function integrate(acc: Set<string>, changes: DatomChange[]): void {
  for (const c of changes) {
    const k = `${c.e}|${c.a}|${wireValueKey(c.v)}`;
    if (c.added) {
      expect(acc.has(k), `double add ${k}`).toBe(false);
      acc.add(k);
    } else {
      expect(acc.has(k), `retract of absent ${k}`).toBe(true);
      acc.delete(k);
    }
  }
}

function visibleKeys(s: MergeState): Set<string> {
  return new Set([...s.datoms()].map((d) => `${d.e}|${d.a}|${wireValueKey(d.v)}`));
}

const hex = (b: Uint8Array) => new TextDecoder().decode(b);

describe('merge state convergence', () => {
  for (const seed of seeds(60)) {
    it(`seed ${seed}`, () =>
      replayable(seed, () => {
        const rnd = mulberry32(seed);
        const ops = genOps(rnd, 10 + Math.floor(rnd() * 50));
        const ref = new MergeState(schema);
        ref.apply(ops);
        const expected = hex(ref.encodeSnapshot());
        for (let r = 0; r < 5; r++) {
          const s = new MergeState(schema);
          const acc = new Set<string>();
          const order = shuffle(rnd, [...ops, ...ops.filter(() => rnd() < 0.2)]);
          let i = 0;
          let rollbacks = 0;
          while (i < order.length) {
            const n = 1 + Math.floor(rnd() * 4);
            integrate(acc, s.apply(order.slice(i, i + n)));
            i = Math.min(i + n, order.length);
            if (rollbacks < 3 && rnd() < 0.1) {
              rollbacks++;
              // roll some ops back and re-apply them later (reject path, reloads)
              const victims = [...new Set(order.slice(0, i).filter(() => rnd() < 0.1).map((o) => o.id))];
              integrate(acc, s.remove(victims));
              for (const id of victims) order.push(ops.find((o) => o.id === id)!);
            }
          }
          expect(visibleKeys(s)).toEqual(acc);
          expect(hex(s.encodeSnapshot())).toBe(expected);
        }
      }));
  }
});

describe('compaction below a stable frontier', () => {
  for (const seed of seeds(40, 1000)) {
    it(`seed ${seed}`, () =>
      replayable(seed, () => {
        const rnd = mulberry32(seed);
        const ops = genOps(rnd, 20 + Math.floor(rnd() * 60)).sort((x, y) => (x.tx < y.tx ? -1 : x.tx > y.tx ? 1 : 0));
        const cut = Math.floor(ops.length * (0.3 + rnd() * 0.5));
        const frontier = ops[cut]!.tx;
        const before = ops.filter((o) => o.tx < frontier);
        const after = ops.filter((o) => o.tx >= frontier);
        const full = new MergeState(schema);
        full.apply(before);
        const compacted = new MergeState(schema);
        compacted.apply(before);
        const ids = compacted.supersededBelow(frontier);
        expect(compacted.remove(ids)).toEqual([]);
        expect(visibleKeys(compacted)).toEqual(visibleKeys(full));
        // later ops (at or above the frontier), in any order, keep them equal
        for (const o of shuffle(rnd, after.slice())) {
          full.apply([o]);
          compacted.apply([o]);
        }
        expect(visibleKeys(compacted)).toEqual(visibleKeys(full));
        expect([...compacted.datoms()].map((d) => d.tx).sort()).toEqual([...full.datoms()].map((d) => d.tx).sort());
      }));
  }
});
