/**
 * Lazy entity views (DataScript's `d/entity`). Attribute values are read from the indexes on each
 * access (cheap B+tree seeks) and cached per entity object; the db is immutable so caching is safe.
 */
import { Keyword, kw } from '../edn/types.js';
import type { DbImpl } from './database.js';
import * as ix from './indexes.js';
import type { AttrLike, Db, Entity, EntityId } from './types.js';

const K_DB_ID = kw('db/id');

class EntityImpl implements Entity {
  private cache: Map<Keyword, unknown> | null = null;
  constructor(
    readonly db: DbImpl,
    readonly eid: EntityId,
  ) {}

  /** `:db/id` */
  get id(): EntityId {
    return this.eid;
  }

  get(attr: AttrLike): unknown {
    const a = typeof attr === 'string' ? kw(attr) : attr;
    if (a === K_DB_ID) return this.eid;
    if (this.cache === null) this.cache = new Map();
    if (this.cache.has(a)) return this.cache.get(a);
    const v = this.lookup(a);
    this.cache.set(a, v);
    return v;
  }

  private lookup(a: Keyword): unknown {
    const db = this.db;
    const schema = db.schema;
    if (a.name.charCodeAt(0) === 95 /* _ */) {
      const straight = kw(a.ns === null ? a.name.slice(1) : `${a.ns}/${a.name.slice(1)}`);
      if (!schema.isRef(straight)) return undefined;
      const es: Entity[] = [];
      db.vaet.forRange(ix.probeVA(this.eid, straight), (d) => {
        es.push(new EntityImpl(db, d.e));
      });
      if (es.length === 0) return undefined;
      return schema.isComponent(straight) ? es[0] : new Set(es);
    }
    const isRef = schema.isRef(a);
    const vals: unknown[] = [];
    db.eavt.forRange(ix.probeEA(this.eid, a), (d) => {
      vals.push(isRef ? new EntityImpl(db, d.v as EntityId) : d.v);
    });
    if (vals.length === 0) return undefined;
    return schema.isMany(a) ? new Set(vals) : vals[0];
  }

  keys(): Keyword[] {
    const out: Keyword[] = [];
    this.db.eavt.forRange(ix.probeE(this.eid), (d) => {
      if (out[out.length - 1] !== d.a) out.push(d.a);
    });
    return out;
  }

  /** Touched form: `:db/id` plus every attribute; refs as `{:db/id n}`, components expanded, many as `Set`. */
  toEdn(): Map<Keyword, unknown> {
    return touch(this.db, this.eid, new Set());
  }

  equals(other: unknown): boolean {
    return other instanceof EntityImpl && other.eid === this.eid && other.db === this.db;
  }

  toString(): string {
    return `{:db/id ${this.eid}}`;
  }

  toJSON(): unknown {
    return { 'db/id': this.eid };
  }
}

function touch(db: DbImpl, eid: EntityId, seen: Set<EntityId>): Map<Keyword, unknown> {
  const out = new Map<Keyword, unknown>();
  out.set(K_DB_ID, eid);
  seen.add(eid);
  const schema = db.schema;
  db.eavt.forRange(ix.probeE(eid), (d) => {
    let v: unknown = d.v;
    if (schema.isRef(d.a)) {
      const id = d.v as EntityId;
      v = schema.isComponent(d.a) && !seen.has(id) ? touch(db, id, seen) : new Map([[K_DB_ID, id]]);
    }
    if (schema.isMany(d.a)) {
      let s = out.get(d.a) as Set<unknown> | undefined;
      if (s === undefined) out.set(d.a, (s = new Set()));
      s.add(v);
    } else out.set(d.a, v);
  });
  return out;
}

/**
 * DataScript's `d/entity`: a lazy view of `eid` (id, lookup ref or ident), or null when it resolves
 * to nothing. Like DataScript, an id with no datoms still gives an (empty) entity.
 */
export function entity(db: Db, eid: unknown): Entity | null {
  const d = db as DbImpl;
  const e = d.entid(eid);
  return e === null ? null : new EntityImpl(d, e);
}

export function isEntity(x: unknown): x is Entity {
  return x instanceof EntityImpl;
}
