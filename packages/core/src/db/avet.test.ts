/**
 * AVET for attributes without `:db/index` is built on a database value's first value lookup and
 * kept up to date by the values transactions derive from it (types.ts). Whatever the order of
 * writes and lookups, on new and old values alike, AVET must answer as if it held every attribute.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32, seeds } from '@dataloom/test/gen/prng.js';
import { kw } from '../edn/index.js';
import { applyDatoms, createDb, initDb } from './index.js';
import { compareKeywords } from './compare.js';
import { cmpAVET } from './indexes.js';
import { Datom, type Db } from './types.js';

const SCHEMA = `{:idx {:db/index true}
 :uniq {:db/unique :db.unique/identity}
 :ref {:db/valueType :db.type/ref}
 :many {:db/cardinality :db.cardinality/many}}`;
const ATTRS = ['idx', 'uniq', 'ref', 'many', 'plain', 'other'].map((a) => kw(a));
const show = (ds: readonly Datom[]) => ds.map((d) => `${d.e} ${d.a} ${String(d.v)}`);

/** AVET of `db` computed from EAVT, restricted to attribute `a` (and value `v`). */
function expected(db: Db, a: (typeof ATTRS)[number], v?: unknown): Datom[] {
  return db
    .datoms('eavt')
    .filter((d) => d.a === a && (v === undefined || d.v === v))
    .sort(cmpAVET);
}

function check(db: Db, rnd: () => number): void {
  const a = ATTRS[Math.floor(rnd() * ATTRS.length)]!;
  const v = Math.floor(rnd() * 6);
  switch (Math.floor(rnd() * 4)) {
    case 0:
      expect(show(db.datoms('avet', a, v))).toEqual(show(expected(db, a, v)));
      break;
    case 1:
      expect(show(db.datoms('avet', a))).toEqual(show(expected(db, a)));
      break;
    case 2:
      expect(db.entitiesWith(a, v)).toEqual(expected(db, a, v).map((d) => d.e));
      break;
    default:
      expect(show(db.indexRange(a, 1, 4))).toEqual(show(expected(db, a).filter((d) => (d.v as number) >= 1 && (d.v as number) <= 4)));
  }
}

describe('AVET built on first lookup for attributes without :db/index', () => {
  it('answers like a full AVET through writes and lookups in any order, on old values too (seeded)', () => {
    for (const seed of seeds(30)) {
      const rnd = mulberry32(seed);
      let db: Db = createDb(SCHEMA);
      const history: Db[] = [db];
      for (let step = 0; step < 40; step++) {
        const tx: unknown[] = [];
        for (let i = 0; i < 1 + Math.floor(rnd() * 4); i++) {
          const e = 1 + Math.floor(rnd() * 8);
          const a = ATTRS[Math.floor(rnd() * ATTRS.length)]!;
          const v = a.name === 'uniq' ? 100 * e + Math.floor(rnd() * 3) : a.name === 'ref' ? 1 + Math.floor(rnd() * 8) : Math.floor(rnd() * 6);
          tx.push([rnd() < 0.3 ? kw('db/retract') : kw('db/add'), e, a, v]);
        }
        if (rnd() < 0.2) {
          // the replica's path: datoms applied as they are
          const e = 1 + Math.floor(rnd() * 8);
          const a = ATTRS[4]!;
          const v = Math.floor(rnd() * 6);
          const added = rnd() < 0.6;
          db = applyDatoms(db, [new Datom(e, a, v, db.maxTx + 1, added)]).db;
        } else db = db.with(tx).dbAfter;
        history.push(db);
        // Look up on the newest value or on an older one (which builds its own AVET part).
        for (let k = 0; k < 2; k++) check(rnd() < 0.7 ? db : history[Math.floor(rnd() * history.length)]!, rnd);
      }
      for (const old of history) for (const a of ATTRS) expect(show(old.datoms('avet', a))).toEqual(show(expected(old, a)));
      expect(show(db.datoms('avet'))).toEqual(show(db.datoms('eavt').slice().sort(cmpAVET)));
      // A value built in one go (cold start) answers the same.
      const cold = initDb(db.datoms('eavt'), SCHEMA);
      for (const a of ATTRS) expect(show(cold.datoms('avet', a))).toEqual(show(expected(db, a)));
      const full = db.datoms('eavt').slice().sort(cmpAVET);
      const fromOther = full.filter((d) => compareKeywords(d.a, kw('other')) >= 0).slice(0, 5);
      expect(show([...cold.seekDatoms('avet', kw('other'))].slice(0, 5))).toEqual(show(fromOther));
    }
  });
});
