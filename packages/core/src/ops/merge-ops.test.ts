/**
 * Op records (`merge-ops.ts`): `idCmp` orders records exactly as their id strings compare, and the
 * table finds, refuses and forgets ops by id as a Map keyed by id would — over random stamps whose
 * replica ids are prefixes of one another, indexes of different lengths and ids of no canonical
 * form (seeded; replay with FUZZ_SEED).
 */
import { describe, expect, it } from 'vitest';
import { mulberry32, pick, replayable, seeds } from '@dataloom/test/gen/prng.js';
import { OpTable, idCmp, type OpRec } from './merge-ops.js';
import type { Op } from './types.js';

const REPLICAS = ['a', 'ab', 'abc', 'b', 'a-b', 'a.b', 'a/b', 'z'];
const KINDS: Array<Op['op']> = ['add', 'retract', 'retractEntity', 'text'];

function randomOp(rnd: () => number): Op {
  const tx = `0000loyw3v2${Math.floor(rnd() * 3)}-000${Math.floor(rnd() * 2)}-${pick(rnd, REPLICAS)}`;
  const index = pick(rnd, [0, 1, 2, 9, 10, 11, 100, Math.floor(rnd() * 1000)]);
  const form = rnd();
  // mostly canonical ids; some with a leading zero, a sign, another stamp, or no slash at all
  const id =
    form < 0.8 ? `${tx}/${index}` : form < 0.85 ? `${tx}/0${index}` : form < 0.9 ? `${tx}/-${index}` : form < 0.95 ? `x${tx}/${index}` : `odd-${index}`;
  const op = pick(rnd, KINDS);
  return op === 'retractEntity' ? { id, tx, e: 'a.e1', op } : { id, tx, e: 'a.e1', op, a: 'name', v: index };
}

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

describe('op records', () => {
  for (const seed of seeds(5)) {
    it(`idCmp is the id string order; the table answers as a Map by id (seed ${seed})`, () => {
      replayable(seed, () => {
        const rnd = mulberry32(seed);
        const table = new OpTable();
        const byId = new Map<string, OpRec>();
        for (let i = 0; i < 600; i++) {
          const op = randomOp(rnd);
          const r = table.add(op, op.e);
          expect(r === null, `duplicate ${op.id}`).toBe(byId.has(op.id));
          if (r !== null) {
            expect(r.toOp()).toEqual(op);
            byId.set(op.id, r);
          }
          if (rnd() < 0.2 && byId.size > 0) {
            const gone = pick(rnd, [...byId.keys()]);
            table.delete(byId.get(gone)!);
            byId.delete(gone);
          }
        }
        expect(table.size).toBe(byId.size);
        for (const [id, r] of byId) expect(table.get(id)).toBe(r);
        expect(new Set(table.values())).toEqual(new Set(byId.values()));
        const recs = [...byId.values()];
        for (let i = 0; i < 3000; i++) {
          const x = pick(rnd, recs), y = pick(rnd, recs);
          expect(sign(idCmp(x, y)), `${x.id} vs ${y.id}`).toBe(x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
        }
      });
    });
  }
});
