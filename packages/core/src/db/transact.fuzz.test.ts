/**
 * Differential fuzz: random transactions (test/gen/transactions.ts) run on Dataloom and on the
 * datascript npm package; after every transaction both must agree on success/failure, tempids,
 * tx-data (as a set) and, periodically, the whole EAVT index. FUZZ_RUNS widens, FUZZ_SEED replays.
 */
import { describe, expect, it } from 'vitest';
import { canonical, dsCreateDb, dsDatoms, dsTry, dsWith, type DsDb } from '@dataloom/test/oracle/datascript.js';
import { DS_GEN_SCHEMA, GEN_SCHEMA, genTx, mulberry32 } from '@dataloom/test/gen/transactions.js';
import { createDb } from './database.js';
import type { Db } from './types.js';

function seeds(n: number): number[] {
  if (process.env.FUZZ_SEED) return [Number(process.env.FUZZ_SEED)];
  const runs = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : n;
  return Array.from({ length: runs }, (_, i) => 1000 + i);
}

const datomKey = (d: { e: number; a: unknown; v: unknown; tx: number; added: boolean }): string =>
  canonical([d.e, d.a, d.v, d.tx, d.added]);

function ours(db: Db): string[] {
  return db.datoms('eavt').map(datomKey);
}
function theirs(db: DsDb): string[] {
  return dsDatoms(db, 'eavt').map(datomKey);
}

describe('transactions vs DataScript (random)', () => {
  for (const seed of seeds(25)) {
    it(`seed ${seed}`, () => {
      try {
        const rnd = mulberry32(seed);
        let db = createDb(GEN_SCHEMA);
        let dsdb = dsCreateDb(DS_GEN_SCHEMA);
        let okCount = 0;
        for (let i = 0; i < 40; i++) {
          const tx = genTx(rnd, { maxEid: db.maxEid, maxForms: 5 });
          const theirsR = dsTry(() => dsWith(dsdb, tx));
          let oursR: ReturnType<Db['with']> | null = null;
          let oursErr: unknown = null;
          try {
            oursR = db.with(tx);
          } catch (e) {
            oursErr = e;
          }
          const ctx = `tx #${i}: ${canonical(tx)}`;
          if (!theirsR.ok) {
            expect(oursErr, `${ctx}\nDataScript threw ${theirsR.message} but we did not`).not.toBeNull();
            expect((oursErr as { code?: string }).code, ctx).toBeTypeOf('string');
            continue;
          }
          if (oursErr !== null) throw new Error(`${ctx}\nwe threw ${String(oursErr)} but DataScript did not`);
          const r = oursR!;
          const t = theirsR.value;
          expect(canonical(r.tempids), ctx).toBe(canonical(t.tempids));
          expect(canonical(new Set(r.txData.map(datomKey))), ctx).toBe(canonical(new Set(t.txData.map(datomKey))));
          db = r.dbAfter;
          dsdb = t.db;
          okCount++;
          if (i % 10 === 9) expect(ours(db), ctx).toEqual(theirs(dsdb));
        }
        expect(ours(db)).toEqual(theirs(dsdb));
        expect(db.maxEid).toBeGreaterThanOrEqual(0);
        expect(okCount).toBeGreaterThan(5);
      } catch (e) {
        console.error(`replay with FUZZ_SEED=${seed}`);
        throw e;
      }
    });
  }
});
