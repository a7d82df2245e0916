/**
 * DataScript's Pull API over a {@link Db}: `pull(db, pattern, eid)` / `pullMany`.
 *
 * Grammar (patterns as EDN strings or data; attribute names as keywords or strings):
 * ```
 * pattern        = [attr-spec+]
 * attr-spec      = attr | '*' | map-spec | attr-expr
 * attr-expr      = [attr option+] | (attr option+) | (limit attr n) | (default attr v)
 * option         = :as any | :limit (pos-int | nil) | :default any | :xform fn
 * map-spec       = {(attr | attr-expr) (pattern | recursion-limit)}
 * recursion-limit= pos-int | '...'
 * ```
 * Results match DataScript 1.8.1: `Map`s keyed by the attribute keyword (or `:as`), `null` when
 * nothing matched, `:db/id` present whenever the pattern asks for it or uses `*` (even for an id
 * with no datoms), cardinality-many and reverse refs as arrays in index order (default limit 1000),
 * refs as `{:db/id n}` maps, components expanded recursively (`[*]`), a reverse component ref as a
 * single map, nested pulls that match nothing dropped, recursion stopping at the depth limit and
 * at entities already on the current path (returned as `{:db/id n}`).
 */
import { DataloomError } from '../errors.js';
import { Keyword, List, Sym, kw, sym } from '../edn/types.js';
import { parseEdn } from '../edn/reader.js';
import { printEdn } from '../edn/printer.js';
import type { DbImpl } from './database.js';
import * as ix from './indexes.js';
import type { Datom, Db, EntityId } from './types.js';

const K_DB_ID = kw('db/id');
const K_AS = kw('as');
const K_LIMIT = kw('limit');
const K_DEFAULT = kw('default');
const K_XFORM = kw('xform');
const S_STAR = sym('*');
const S_DOTS = sym('...');
const S_LIMIT = sym('limit');
const S_DEFAULT = sym('default');
const DEFAULT_LIMIT = 1000;

/** One compiled attribute spec. */
interface AttrSpec {
  /** attribute as stored (reverse refs: the forward attribute) */
  attr: Keyword;
  reverse: boolean;
  /** output key */
  key: unknown;
  limit: number | null;
  hasDefault: boolean;
  default: unknown;
  xform: ((x: unknown) => unknown) | null;
  sub: Pattern | null;
  /** recursion limit (Infinity for `...`) or null */
  recursion: number | null;
}

/** A compiled pull pattern. */
export interface Pattern {
  wildcard: boolean;
  dbId: boolean;
  attrs: AttrSpec[];
  /** forward attributes named explicitly (wildcard skips them) */
  explicit: Set<Keyword>;
  /** true when one EAVT scan of the entity beats a seek per attribute (≥ 3 forward attributes) */
  scan: boolean;
}

/** Placeholder spec for wildcard values (never read by the Value/Ref/Component conversions). */
const NO_SPEC = {} as AttrSpec;

const WILDCARD: Pattern = { wildcard: true, dbId: true, attrs: [], explicit: new Set(), scan: false };

function syntax(message: string, form: unknown): never {
  throw new DataloomError('pull/syntax', message, { form });
}

function toAttr(x: unknown, form: unknown): Keyword {
  if (x instanceof Keyword) return x;
  if (typeof x === 'string' && x.length > 0 && x !== '*' && x !== '...') return kw(x);
  return syntax(`Expected attribute name in pull pattern, got ${printEdn(x)}`, form);
}

function isStar(x: unknown): boolean {
  return x === S_STAR || x === '*';
}

function baseSpec(attr: Keyword): AttrSpec {
  const reverse = attr.name.charCodeAt(0) === 95;
  const straight = reverse ? kw(attr.ns === null ? attr.name.slice(1) : `${attr.ns}/${attr.name.slice(1)}`) : attr;
  return {
    attr: straight,
    reverse,
    key: attr,
    limit: DEFAULT_LIMIT,
    hasDefault: false,
    default: undefined,
    xform: null,
    sub: null,
    recursion: null,
  };
}

function parseAttrExpr(x: unknown): AttrSpec {
  if (x instanceof Keyword || typeof x === 'string') return baseSpec(toAttr(x, x));
  let items: readonly unknown[] | null = null;
  if (x instanceof List) {
    const head = x.items[0];
    if (head === S_LIMIT || head === S_DEFAULT) {
      if (x.items.length !== 3) syntax(`Expected (${String(head)} attr value), got ${printEdn(x)}`, x);
      const spec = baseSpec(toAttr(x.items[1], x));
      if (head === S_LIMIT) spec.limit = limitOf(x.items[2], x);
      else {
        spec.hasDefault = true;
        spec.default = x.items[2];
      }
      return spec;
    }
    items = x.items;
  } else if (Array.isArray(x)) items = x;
  if (items === null || items.length < 1) return syntax(`Expected attribute spec in pull pattern, got ${printEdn(x)}`, x);
  const spec = baseSpec(toAttr(items[0], x));
  if (items.length % 2 !== 1) syntax(`Expected attribute options as pairs, got ${printEdn(x)}`, x);
  for (let i = 1; i < items.length; i += 2) {
    const k = items[i] instanceof Keyword ? items[i] : typeof items[i] === 'string' ? kw(items[i] as string) : null;
    const v = items[i + 1];
    if (k === K_AS) spec.key = v;
    else if (k === K_LIMIT) spec.limit = limitOf(v, x);
    else if (k === K_DEFAULT) {
      spec.hasDefault = true;
      spec.default = v;
    } else if (k === K_XFORM) {
      if (typeof v !== 'function') syntax(`:xform expects a function, got ${printEdn(v)}`, x);
      spec.xform = v as (x: unknown) => unknown;
    } else syntax(`Unknown pull attribute option ${printEdn(items[i])} in ${printEdn(x)}`, x);
  }
  return spec;
}

function limitOf(v: unknown, form: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  return syntax(`Expected positive integer or nil as :limit, got ${printEdn(v)}`, form);
}

function entriesOf(x: unknown): Array<[unknown, unknown]> | null {
  if (x instanceof Map) return [...x.entries()];
  if (typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype) return Object.entries(x);
  return null;
}

/** Compiles a pull pattern (EDN string or data); throws `pull/syntax`. */
export function parsePattern(pattern: unknown): Pattern {
  let p = pattern;
  if (typeof p === 'string') p = parseEdn(p);
  const items: readonly unknown[] | null = Array.isArray(p) ? p : p instanceof List ? p.items : null;
  if (items === null) return syntax(`Expected pull pattern to be a vector, got ${printEdn(p)}`, p);
  const out: Pattern = { wildcard: false, dbId: false, attrs: [], explicit: new Set(), scan: false };
  const add = (spec: AttrSpec): void => {
    if (spec.attr === K_DB_ID && !spec.reverse && spec.key === K_DB_ID && spec.xform === null) {
      out.dbId = true;
      return;
    }
    // Like DataScript: one spec per result key, a later spec replacing an earlier one in place.
    // Several specs may read the same attribute under different keys (see Puller.attr).
    const at = out.attrs.findIndex((x) => x.key === spec.key || (typeof x.key === 'string' && x.key === spec.key));
    if (at >= 0) out.attrs[at] = spec;
    else out.attrs.push(spec);
  };
  for (const x of items) {
    if (isStar(x)) {
      out.wildcard = true;
      out.dbId = true;
      continue;
    }
    const entries = entriesOf(x);
    if (entries !== null) {
      for (const [k, v] of entries) {
        const spec = parseAttrExpr(k);
        if (v === S_DOTS || v === '...') spec.recursion = Infinity;
        else if (typeof v === 'number') {
          if (!Number.isInteger(v) || v <= 0) syntax(`Expected (positive-num | ...), got ${printEdn(x)}`, x);
          spec.recursion = v;
        } else spec.sub = parsePattern(v);
        add(spec);
      }
      continue;
    }
    add(parseAttrExpr(x));
  }
  for (const spec of out.attrs) if (!spec.reverse && spec.attr !== K_DB_ID) out.explicit.add(spec.attr);
  out.scan = out.explicit.size >= 3;
  return out;
}

const stringCache = new Map<string, Pattern>();
const objectCache = new WeakMap<object, Pattern>();

function compiled(pattern: unknown): Pattern {
  if (typeof pattern === 'string') {
    let c = stringCache.get(pattern);
    if (c === undefined) {
      c = parsePattern(pattern);
      if (stringCache.size > 1000) stringCache.clear();
      stringCache.set(pattern, c);
    }
    return c;
  }
  if (typeof pattern === 'object' && pattern !== null) {
    let c = objectCache.get(pattern);
    if (c === undefined) {
      c = parsePattern(pattern);
      objectCache.set(pattern, c);
    }
    return c;
  }
  return parsePattern(pattern);
}

type PullMap = Map<unknown, unknown>;

class Puller {
  constructor(readonly db: DbImpl) {}

  /**
   * `seen` (entities on the current recursion path) and `depth` (recursion depth per spec) are
   * mutated on the way down and restored on the way up: no copies per child.
   */
  entity(eid: EntityId, pattern: Pattern, seen: Set<EntityId>, depth: Map<AttrSpec, number>): PullMap | null {
    const db = this.db;
    const res: PullMap = new Map();
    if (pattern.dbId) res.set(K_DB_ID, eid);
    let byAttr: Map<Keyword, unknown[]> | null = null;
    if (pattern.scan) {
      byAttr = new Map();
      db.eavt.forRange(ix.probeE(eid), (d: Datom) => {
        const vs = byAttr!.get(d.a);
        if (vs === undefined) byAttr!.set(d.a, [d.v]);
        else vs.push(d.v);
      });
    }
    if (pattern.wildcard) {
      let i = 0;
      const datoms = db.eavt.range(ix.probeE(eid));
      while (i < datoms.length) {
        const a = datoms[i]!.a;
        let j = i;
        while (j < datoms.length && datoms[j]!.a === a) j++;
        if (!pattern.explicit.has(a)) {
          const isRef = db.schema.isRef(a);
          const mode = !isRef ? Conv.Value : db.schema.isComponent(a) ? Conv.Component : Conv.Ref;
          if (db.schema.isMany(a)) {
            const arr: unknown[] = [];
            for (let k = i; k < j; k++) {
              const c = this.conv(mode, datoms[k]!.v, NO_SPEC, pattern, seen, depth, 0);
              if (c !== null) arr.push(c);
            }
            if (arr.length > 0) res.set(a, arr);
          } else {
            const c = this.conv(mode, datoms[i]!.v, NO_SPEC, pattern, seen, depth, 0);
            if (c !== null) res.set(a, c);
          }
        }
        i = j;
      }
    }
    // a forward attribute's values go to the first spec that reads it (DataScript's merge of the
    // pattern with the entity's datoms); later specs of the same attribute see no value
    const consumed = pattern.attrs.length > 1 ? new Set<Keyword>() : null;
    for (const spec of pattern.attrs) this.attr(eid, spec, pattern, res, seen, depth, byAttr, consumed);
    return res.size === 0 ? null : res;
  }

  private component(v: EntityId, seen: Set<EntityId>): unknown {
    if (seen.has(v)) return new Map([[K_DB_ID, v]]);
    seen.add(v);
    try {
      return this.entity(v, WILDCARD, seen, new Map());
    } finally {
      seen.delete(v);
    }
  }

  private attr(
    eid: EntityId,
    spec: AttrSpec,
    parent: Pattern,
    res: PullMap,
    seen: Set<EntityId>,
    depth: Map<AttrSpec, number>,
    byAttr: Map<Keyword, unknown[]> | null,
    consumed: Set<Keyword> | null,
  ): void {
    const db = this.db;
    const schema = db.schema;
    const a = spec.attr;
    if (a === K_DB_ID && !spec.reverse) {
      res.set(spec.key, spec.xform ? spec.xform(eid) : eid);
      return;
    }
    let values: unknown[];
    let many: boolean;
    const isRef = spec.reverse || schema.isRef(a);
    if (spec.reverse) {
      if (!schema.isRef(a)) {
        values = [];
        many = true;
      } else {
        values = [];
        db.vaet.forRange(ix.probeVA(eid, a), (d: Datom) => {
          values.push(d.e);
        });
        many = !schema.isComponent(a);
      }
    } else if (consumed !== null && consumed.has(a)) {
      values = [];
      many = schema.isMany(a);
    } else if (byAttr !== null) {
      values = byAttr.get(a) ?? [];
      many = schema.isMany(a);
    } else {
      values = [];
      db.eavt.forRange(ix.probeEA(eid, a), (d: Datom) => {
        values.push(d.v);
      });
      many = schema.isMany(a);
    }
    if (!spec.reverse) consumed?.add(a);
    if (values.length === 0) {
      if (spec.hasDefault && spec.default !== null && spec.default !== undefined) res.set(spec.key, spec.default);
      else if (spec.xform !== null) {
        const x = spec.xform(null);
        if (x !== null && x !== undefined) res.set(spec.key, x);
      }
      return;
    }
    if (many && spec.limit !== null && values.length > spec.limit) values = values.slice(0, spec.limit);
    if (!many && values.length > 1) values = values.slice(0, 1);
    // how to turn one value into output (a switch, not closures: this is the hot loop of pull)
    const mode: Conv = !isRef
      ? Conv.Value
      : spec.recursion !== null
        ? Conv.Recurse
        : spec.sub !== null
          ? !schema.isComponent(a)
            ? Conv.Sub
            : spec.reverse
              ? Conv.Sub
              : Conv.ComponentSub
          : !spec.reverse && schema.isComponent(a)
            ? Conv.Component
            : Conv.Ref;
    const d = mode === Conv.Recurse ? (depth.get(spec) ?? 0) : 0;
    let out: unknown;
    if (many) {
      const arr: unknown[] = [];
      for (let i = 0; i < values.length; i++) {
        const c = this.conv(mode, values[i], spec, parent, seen, depth, d);
        if (c !== null) arr.push(c);
      }
      if (arr.length === 0) return;
      out = arr;
    } else {
      out = this.conv(mode, values[0], spec, parent, seen, depth, d);
      if (out === null) return;
    }
    res.set(spec.key, spec.xform ? spec.xform(out) : out);
  }

  private conv(
    mode: Conv,
    v: unknown,
    spec: AttrSpec,
    parent: Pattern,
    seen: Set<EntityId>,
    depth: Map<AttrSpec, number>,
    d: number,
  ): unknown {
    switch (mode) {
      case Conv.Value:
        return v;
      case Conv.Ref:
        return new Map([[K_DB_ID, v]]);
      case Conv.Component:
        return this.component(v as EntityId, seen);
      case Conv.Sub:
        return this.entity(v as EntityId, spec.sub!, seen, depth);
      case Conv.ComponentSub: {
        // DataScript 1.8.1 (observed): a component reached through an explicit subpattern stops
        // at entities already on the recursion path, but does not itself join the path
        const id = v as EntityId;
        if (seen.has(id)) return new Map([[K_DB_ID, id]]);
        return this.entity(id, spec.sub!, seen, depth);
      }
      default: {
        const id = v as EntityId;
        if (seen.has(id)) return new Map([[K_DB_ID, id]]);
        if (d >= spec.recursion!) return null;
        const prev = depth.get(spec);
        seen.add(id);
        depth.set(spec, d + 1);
        try {
          return this.entity(id, parent, seen, depth);
        } finally {
          seen.delete(id);
          if (prev === undefined) depth.delete(spec);
          else depth.set(spec, prev);
        }
      }
    }
  }
}

const enum Conv {
  Value,
  Ref,
  /** forward component without subpattern: stops at the path, joins it, expands with `[*]` */
  Component,
  Sub,
  /** forward component with subpattern: stops at the path, does not join it */
  ComponentSub,
  Recurse,
}


/**
 * DataScript's `d/pull`: the entity `eid` (id, lookup ref or ident) shaped by `pattern`, or null
 * when nothing matched. Throws `pull/syntax` for a bad pattern.
 */
export function pull(db: Db, pattern: unknown, eid: unknown): Map<unknown, unknown> | null {
  const d = db as DbImpl;
  const p = compiled(pattern);
  const e = d.entid(eid);
  if (e === null) return null;
  return new Puller(d).entity(e, p, new Set(), new Map());
}

/** DataScript's `d/pull-many`: one pull per id, in order (nulls kept). */
export function pullMany(db: Db, pattern: unknown, eids: Iterable<unknown>): Array<Map<unknown, unknown> | null> {
  const d = db as DbImpl;
  const p = compiled(pattern);
  const puller = new Puller(d);
  const out: Array<Map<unknown, unknown> | null> = [];
  for (const eid of eids) {
    const e = d.entid(eid);
    out.push(e === null ? null : puller.entity(e, p, new Set(), new Map()));
  }
  return out;
}
