/**
 * Data patterns `[e a v tx added]` joined against the current relation, using the database
 * indexes:
 *
 * - entity known (constant or bound) and attribute constant → `values(e, a)` / `has(e, a, v)` per
 *   row (star joins on one entity cost one index probe per row);
 * - value known, attribute constant → AVET `entitiesWith(a, v)`;
 * - attribute constant only → one scan of the attribute (`forEachOfAttr`), then a hash join;
 * - otherwise a scan of EAVT (or of the entity's datoms).
 *
 * When both a per-row probe and a scan are possible the cheaper one is chosen from the relation
 * size and the attribute's datom count. Lookup refs and idents in entity positions (and in value
 * positions of ref attributes) are resolved with `entidStrict` (a ref that matches nothing throws,
 * like DataScript); rows keep the value as given.
 *
 * A source that is not a database is a collection of tuples, matched positionally.
 */
import { type Datom, type Db, Keyword, valueKey, valueEquals } from '@dataloom/core';
import type { Pattern, PatternTerm } from '../ast.js';
import { join, type Relation } from './relation.js';

export type Source = Db | readonly unknown[];

export function isDb(x: unknown): x is Db {
  return x !== null && typeof x === 'object' && typeof (x as Db).values === 'function' && typeof (x as Db).datoms === 'function';
}

/** How one pattern position is matched, given the current relation's columns. */
type Slot =
  | { t: 'const'; v: unknown }
  | { t: 'bound'; col: number }
  | { t: 'new'; out: number } // first occurrence of an unbound var: output column (offset past the row)
  | { t: 'same'; out: number } // repeated unbound var: must equal the earlier new slot
  | { t: 'blank' };

interface Compiled {
  slots: Slot[]; // always 5
  newVars: string[];
}

function compile(p: Pattern, vars: readonly string[]): Compiled {
  const slots: Slot[] = [];
  const newVars: string[] = [];
  for (let i = 0; i < 5; i++) {
    const term: PatternTerm | undefined = p.terms[i];
    if (!term || term.kind === 'blank') slots.push({ t: 'blank' });
    else if (term.kind === 'const') slots.push({ t: 'const', v: term.value });
    else {
      const col = vars.indexOf(term.name);
      if (col >= 0) slots.push({ t: 'bound', col });
      else {
        const out = newVars.indexOf(term.name);
        if (out >= 0) slots.push({ t: 'same', out });
        else {
          slots.push({ t: 'new', out: newVars.length });
          newVars.push(term.name);
        }
      }
    }
  }
  return { slots, newVars };
}

/** Resolves an entity reference (id, lookup ref, ident) — throws when a ref matches nothing. */
function eidOf(db: Db, x: unknown): unknown {
  if (typeof x === 'number') return x;
  if (Array.isArray(x) || x instanceof Keyword) return db.entidStrict(x);
  return x;
}

/** Per-database one-entry memo of the last AVET lookup: the planner's estimate and the join share it. */
const lastLookup = new WeakMap<Db, { attr: Keyword; key: unknown; es: readonly number[] }>();
function entitiesWith(db: Db, attr: Keyword, v: unknown): readonly number[] {
  const key = valueKey(v);
  const m = lastLookup.get(db);
  if (m && m.attr === attr && m.key === key) return m.es;
  const es = db.entitiesWith(attr, v);
  lastLookup.set(db, { attr, key, es });
  return es;
}

/** Estimated number of output rows and work for joining `p` into a relation of `n` rows over `vars`. */
export function estimatePattern(
  src: Source | undefined,
  p: Pattern,
  vars: readonly string[],
  n: number,
  cache: Map<string, number>,
  rows?: readonly (readonly unknown[])[],
): { rows: number; cost: number } {
  if (src === undefined) return { rows: 0, cost: 0 };
  const c = compile(p, vars);
  const known = (i: number) => c.slots[i]!.t === 'const' || c.slots[i]!.t === 'bound';
  if (!isDb(src)) return { rows: n * (known(0) || known(1) || known(2) ? Math.max(1, src.length / 10) : src.length), cost: src.length };
  const a = c.slots[1]!;
  const db = src;
  if (a.t === 'const' && a.v instanceof Keyword) {
    const attr = a.v;
    const many = db.isMany(attr);
    if (known(0) && known(2)) return { rows: n * 0.5, cost: n };
    if (known(0)) return { rows: n * (many ? 3 : 1), cost: n };
    const v = c.slots[2]!;
    if (v.t === 'const') {
      const key = 'v|' + attr.fqn + '|' + String(valueKey(v.v));
      let cnt = cache.get(key);
      if (cnt === undefined) {
        try {
          const vv = db.isRef(attr) ? eidOf(db, v.v) : v.v;
          cnt = entitiesWith(db, attr, vv).length;
        } catch {
          cnt = 0;
        }
        cache.set(key, cnt);
      }
      return { rows: n * cnt, cost: Math.min(cnt, n * 4) };
    }
    if (v.t === 'bound') {
      if (db.isUnique(attr)) return { rows: n, cost: n * 2 };
      // Sample a few rows' AVET fan-out.
      let fan = 2;
      if (rows && rows.length > 0) {
        let sum = 0;
        const k = Math.min(3, rows.length);
        for (let i = 0; i < k; i++) {
          const x = rows[Math.floor((i * rows.length) / k)]![v.col];
          try {
            sum += entitiesWith(db, attr, db.isRef(attr) ? eidOf(db, x) : x).length;
          } catch {
            /* unresolvable lookup ref: the join will report it */
          }
        }
        fan = sum / k;
      }
      return { rows: n * fan, cost: n * 2 };
    }
    const key = 'a|' + attr.fqn;
    let cnt = cache.get(key);
    if (cnt === undefined) {
      cnt = db.countAttr(attr);
      cache.set(key, cnt);
    }
    // A scan whose vars are all new is a cross product with the relation.
    return { rows: n * cnt, cost: cnt + n };
  }
  if (known(0)) return { rows: n * 5, cost: n * 5 };
  return { rows: n * db.size, cost: db.size };
}

/**
 * Value bounds (inclusive, in DataScript's value order) a scan of the pattern's value may be
 * limited to, derived from comparison predicates on the value variable. The predicates still run
 * afterwards (strictness), so the bounds only need to be safe.
 */
export interface ValueRange {
  lo?: unknown;
  hi?: unknown;
}

/** Joins pattern `p` into `rel` (output columns: rel's, then the pattern's new variables). */
export function joinPattern(src: Source | undefined, p: Pattern, rel: Relation, range?: ValueRange): Relation {
  const c = compile(p, rel.vars);
  const outVars = [...rel.vars, ...c.newVars];
  if (src === undefined || rel.rows.length === 0) return { vars: outVars, rows: [] };
  if (!isDb(src)) return joinCollection(src, c, rel, outVars);
  const db = src;
  const [se, sa, sv, stx, sadded] = c.slots as [Slot, Slot, Slot, Slot, Slot];
  // `added` is always true for the datoms of a database value.
  if (sadded.t === 'const' && sadded.v !== true) return { vars: outVars, rows: [] };
  if (sa.t === 'const' && !(sa.v instanceof Keyword)) return { vars: outVars, rows: [] };
  const attr = sa.t === 'const' ? (sa.v as Keyword) : null;
  const isRefAttr = attr !== null && db.isRef(attr);
  // Resolve constants once.
  let eConst: unknown = undefined;
  if (se.t === 'const') eConst = eidOf(db, se.v);
  let vConst: unknown = undefined;
  if (sv.t === 'const') vConst = isRefAttr ? eidOf(db, sv.v) : sv.v;
  const eKnown = se.t === 'const' || se.t === 'bound';
  const vKnown = sv.t === 'const' || sv.t === 'bound';
  const needTx = stx.t !== 'blank';
  const rows: unknown[][] = [];
  const N = rel.rows.length;
  // Distinct inputs stay distinct when every datom match adds (or fixes) e, a and v.
  const patDistinct = rel.distinct === true && se.t !== 'blank' && sa.t !== 'blank' && sv.t !== 'blank' && !c.slots.some((x) => x.t === 'same');

  if (attr !== null) {
    const attrCount = eKnown || vKnown ? db.countAttr(attr) : 0;
    const probe = (eKnown || vKnown) && (N <= 64 || N * 2 <= attrCount || !scanJoinable(c, rel, isRefAttr));
    if (probe && eKnown) {
      // Star-join fast paths.
      for (const row of rel.rows) {
        const e = se.t === 'const' ? eConst : eidOf(db, row[(se as { col: number }).col]);
        if (typeof e !== 'number') continue;
        if (!needTx && sv.t !== 'blank' && vKnown) {
          const v = sv.t === 'const' ? vConst : isRefAttr ? eidOf(db, row[sv.col]) : row[sv.col];
          if (db.has(e, attr, v)) pushMatch(rows, row, c.newVars.length, sadded);
          continue;
        }
        if (!needTx) {
          const vs = db.values(e, attr);
          for (let i = 0; i < vs.length; i++) {
            if (sv.t === 'new') {
              const out = row.slice();
              out.push(vs[i]);
              if (sadded.t === 'new') out.push(true);
              rows.push(out);
            } else if (sv.t === 'blank') {
              if (i > 0) break;
              const out = row.slice();
              if (sadded.t === 'new') out.push(true);
              rows.push(out);
            } else matchDatom(rows, row, c, db, e, attr, vs[i], 0, isRefAttr);
          }
          continue;
        }
        for (const d of db.datoms('eavt', e, attr)) matchDatom(rows, row, c, db, d.e, d.a, d.v, d.tx, isRefAttr);
      }
      return { vars: outVars, rows, distinct: patDistinct || (rel.distinct === true && !needTx && (vKnown || sv.t === 'blank')) };
    }
    if (probe && vKnown) {
      for (const row of rel.rows) {
        const v = sv.t === 'const' ? vConst : isRefAttr ? eidOf(db, row[(sv as { col: number }).col]) : row[(sv as { col: number }).col];
        if (!needTx && se.t === 'new' && sadded.t !== 'new') {
          for (const e of entitiesWith(db, attr, v)) {
            const out = row.slice();
            out.push(e);
            rows.push(out);
          }
          continue;
        }
        for (const d of db.datoms('avet', attr, v)) matchDatom(rows, row, c, db, d.e, d.a, d.v, d.tx, isRefAttr);
      }
      return { vars: outVars, rows, distinct: patDistinct || (rel.distinct === true && se.t === 'new' && !needTx) };
    }
    // Scan the attribute (or the AVET range the predicates allow), then hash join on shared variables.
    if (range && se.t === 'new' && sv.t === 'new' && !needTx && sadded.t === 'blank') {
      const rrows: unknown[][] = [];
      for (const d of db.indexRange(attr, range.lo, range.hi)) rrows.push([d.e, d.v]);
      return join(rel, { vars: c.newVars, rows: rrows, distinct: true });
    }
    const scanned = scanAttr(db, p, attr, eConst, vConst, isRefAttr);
    return join(rel, scanned);
  }
  // Attribute not constant.
  if (eKnown) {
    for (const row of rel.rows) {
      const e = se.t === 'const' ? eConst : eidOf(db, row[(se as { col: number }).col]);
      if (typeof e !== 'number') continue;
      for (const d of db.entityDatoms(e)) matchDatom(rows, row, c, db, d.e, d.a, d.v, d.tx, db.isRef(d.a));
    }
    return { vars: outVars, rows, distinct: patDistinct };
  }
  // Full scan.
  const all: Datom[] = db.datoms('eavt');
  for (const row of rel.rows) {
    for (const d of all) matchDatom(rows, row, c, db, d.e, d.a, d.v, d.tx, db.isRef(d.a));
  }
  return { vars: outVars, rows, distinct: patDistinct };
}

/** Whether a scan + hash join gives the same rows as probing (bound entity columns hold plain ids). */
function scanJoinable(c: Compiled, rel: Relation, isRefAttr: boolean): boolean {
  const check = (s: Slot) => {
    if (s.t !== 'bound') return true;
    for (const r of rel.rows) if (typeof r[s.col] !== 'number') return false;
    return true;
  };
  return check(c.slots[0]!) && (!isRefAttr || check(c.slots[2]!)) && c.slots[3]!.t !== 'bound';
}

/** Scans attribute `attr` into a relation over the pattern's variables (constants filtered). */
function scanAttr(db: Db, p: Pattern, attr: Keyword, eConst: unknown, vConst: unknown, isRefAttr: boolean): Relation {
  const pc = compile(p, []);
  const rows: unknown[][] = [];
  const [e0, , v0, tx0, added0] = pc.slots as [Slot, Slot, Slot, Slot, Slot];
  const simple = tx0.t === 'blank' && added0.t === 'blank';
  if (simple && e0.t === 'new' && v0.t === 'new') {
    db.forEachOfAttr(attr, (e, v) => {
      rows.push([e, v]);
    });
    return { vars: pc.newVars, rows, distinct: true };
  }
  if (simple && e0.t === 'new' && v0.t === 'blank') {
    for (const e of db.entitiesWithAttr(attr)) rows.push([e]);
    return { vars: pc.newVars, rows, distinct: true };
  }
  const unit = [] as unknown[];
  db.forEachOfAttr(attr, (e, v, tx) => {
    if (eConst !== undefined && e !== eConst) return;
    if (vConst !== undefined && !(isRefAttr ? v === vConst : valueEquals(v, vConst))) return;
    matchDatom(rows, unit, pc, db, e, attr, v, tx, isRefAttr);
  });
  const [pe, , pv] = pc.slots as [Slot, Slot, Slot];
  return { vars: pc.newVars, rows, distinct: pe.t !== 'blank' && pv.t !== 'blank' && !pc.slots.some((x) => x.t === 'same') };
}

/** Pushes `row` for a filter match (extended with `added` = true when the pattern binds it). */
function pushMatch(rows: unknown[][], row: readonly unknown[], nNew: number, sadded: Slot): void {
  if (nNew === 0) rows.push(row as unknown[]);
  else {
    const out = row.slice();
    if (sadded.t === 'new') out.push(true);
    rows.push(out);
  }
}

/** Generic match of one datom against the compiled slots; pushes the extended row on success. */
function matchDatom(rows: unknown[][], row: readonly unknown[], c: Compiled, db: Db, e: number, a: Keyword, v: unknown, tx: number, isRef: boolean): void {
  const vals = [e, a, v, tx, true];
  const out: unknown[] = c.newVars.length ? new Array(c.newVars.length) : [];
  for (let i = 0; i < 5; i++) {
    const s = c.slots[i]!;
    const x = vals[i];
    switch (s.t) {
      case 'blank':
        break;
      case 'const': {
        const want = i === 0 || (i === 2 && isRef) ? eidOf(db, s.v) : s.v;
        if (!valueEquals(x, want)) return;
        break;
      }
      case 'bound': {
        let want = row[s.col];
        if (i === 0 || (i === 2 && isRef)) want = eidOf(db, want);
        if (!valueEquals(x, want)) return;
        break;
      }
      case 'new':
        out[s.out] = x;
        break;
      case 'same':
        if (!valueEquals(out[s.out], x)) return;
        break;
    }
  }
  rows.push(out.length ? [...row, ...out] : (row as unknown[]));
}

/** A collection source: each element is a tuple matched positionally. */
function joinCollection(src: readonly unknown[], c: Compiled, rel: Relation, outVars: string[]): Relation {
  const rows: unknown[][] = [];
  for (const row of rel.rows) {
    for (const t of src) {
      const tup = Array.isArray(t) ? t : [];
      const out: unknown[] = [];
      let ok = true;
      for (let i = 0; i < 5 && ok; i++) {
        const s = c.slots[i]!;
        if (s.t === 'blank') continue;
        // DataScript reads missing positions of a short tuple as nil.
        const x = i < tup.length ? tup[i] : null;
        if (s.t === 'const') ok = valueEquals(x, s.v);
        else if (s.t === 'bound') ok = valueEquals(x, row[s.col]);
        else if (s.t === 'new') out[s.out] = x;
        else ok = valueEquals(out[s.out], x);
      }
      if (ok) rows.push([...row, ...out]);
    }
  }
  return { vars: outVars, rows };
}
