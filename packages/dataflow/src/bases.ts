/**
 * Base relations of one database source: per attribute `(e, v, tx)`, every datom `(e, a, v, tx)`
 * (patterns with a variable attribute), and the entities `(e)` (`[?e]`). The engine keeps one set
 * for the connection's own database (`$`) and one per other database a registered query reads as a
 * source (`:in $ $2`, see DESIGN.md "Other databases as sources"); a base relation belongs to its
 * set (`home`), so the same attribute of `$` and `$2` are two relations.
 */
import { type Datom, Keyword, kw } from '@dataloom/core';
import { Arrangement, clearArrangement } from './arrangement/arrangement.js';
import type { RelSource } from './ir/types.js';
import { freshId } from './operators/operator.js';

/** Where base relations are loaded from. */
export interface DatomSource {
  forEachOfAttr(a: Keyword, fn: (e: number, v: unknown, tx: number) => void): void;
  /** Attributes that have datoms (needed for patterns with a variable attribute). */
  attrs?(): Keyword[];
}

/** The pseudo-attribute under which the all-datoms relation is kept. */
export const ALL = kw('*');
/** The pseudo-attribute under which the entities relation (`[?e]`) is kept. */
const ENTITIES = kw('db/entity');

/** A base relation: the current datoms of one attribute as `(e, v, tx)` tuples keyed by `(e, v)`. */
export class BaseRel implements RelSource {
  readonly id = freshId();
  readonly arr: Arrangement;
  readonly label: string;
  refs = 0;
  /** `arity` 2: one attribute's `(e, v, tx)`; 3: every datom as `(e, a, v, tx)` (attr `*`). */
  constructor(
    readonly attr: Keyword,
    arity = 2,
    /** The source's set this relation belongs to (null: built outside any set, tests). */
    readonly home: Bases | null = null,
  ) {
    this.arr = new Arrangement(arity);
    this.label = home === null || home.name === '$' ? `:${attr.fqn}` : `${home.name}:${attr.fqn}`;
  }
}

/** The base relations of one source. */
export class Bases {
  readonly rels = new Map<Keyword, BaseRel>();
  /** Datoms per entity, kept while the entities relation exists. */
  private entityCounts: Map<number, number> | null = null;

  constructor(
    public source: DatomSource | null,
    /** `$`, or a label of the other source (relation labels, diagnostics). */
    readonly name: string,
    private readonly created: (b: BaseRel) => void,
  ) {}

  private add(b: BaseRel): BaseRel {
    this.rels.set(b.attr, b);
    this.created(b);
    return b;
  }

  /** The base relation of `a` (created and loaded on first use). */
  base(a: Keyword): BaseRel {
    const b = this.rels.get(a);
    if (b !== undefined) return b;
    const nb = new BaseRel(a, 2, this);
    const arr = nb.arr;
    this.source?.forEachOfAttr(a, (e, v, tx) => {
      arr.insert([e, v, tx]);
    });
    return this.add(nb);
  }

  /** Every datom as `(e, a, v, tx)`: a full copy of the source while some query reads it. */
  allDatoms(): BaseRel {
    const b = this.rels.get(ALL);
    if (b !== undefined) return b;
    const nb = new BaseRel(ALL, 3, this);
    const arr = nb.arr;
    const src = this.source;
    if (src !== null) for (const a of src.attrs?.() ?? []) src.forEachOfAttr(a, (e, v, tx) => void arr.insert([e, a, v, tx]));
    return this.add(nb);
  }

  /** Entities with at least one datom, as `(e)`. */
  entities(): BaseRel {
    const b = this.rels.get(ENTITIES);
    if (b !== undefined) return b;
    const nb = new BaseRel(ENTITIES, 1, this);
    const counts = new Map<number, number>();
    const src = this.source;
    if (src !== null) for (const a of src.attrs?.() ?? []) src.forEachOfAttr(a, (e) => void counts.set(e, (counts.get(e) ?? 0) + 1));
    for (const e of counts.keys()) nb.arr.insert([e]);
    this.entityCounts = counts;
    return this.add(nb);
  }

  /** Brings the entities relation up to date with a transaction; returns it when it changed. */
  applyEntities(datoms: Iterable<Datom>): Arrangement | null {
    const b = this.rels.get(ENTITIES);
    const counts = this.entityCounts;
    if (b === undefined || counts === null) return null;
    const before = new Map<number, boolean>();
    for (const d of datoms) {
      const c = counts.get(d.e) ?? 0;
      if (!before.has(d.e)) before.set(d.e, c > 0);
      const n = c + (d.added ? 1 : -1);
      if (n > 0) counts.set(d.e, n);
      else counts.delete(d.e);
    }
    for (const [e, was] of before) {
      const now = counts.has(e);
      if (was === now) continue;
      const t = [e];
      if (now) {
        b.arr.insert(t, e);
        b.arr.pushDelta(t, 1, e);
      } else {
        b.arr.remove(e);
        b.arr.pushDelta(t, -1, e);
      }
    }
    return b.arr.delta.length > 0 ? b.arr : null;
  }

  /** Forgets `b` (no operator reads it any more). */
  drop(b: BaseRel): void {
    if (this.rels.get(b.attr) !== b) return;
    this.rels.delete(b.attr);
    if (b.attr === ENTITIES) this.entityCounts = null;
  }

  clear(): void {
    for (const b of this.rels.values()) clearArrangement(b.arr);
    this.rels.clear();
    this.entityCounts = null;
  }
}
