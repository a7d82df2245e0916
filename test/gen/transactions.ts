/**
 * Seeded random transaction generator for differential tests against DataScript (core) and for
 * incremental-maintenance tests (dataflow). Generates DataScript transaction data in Dataloom's
 * EDN-in-JS form (interned `Keyword`s for attributes and ops), exercising entity maps (nested
 * component maps, reverse refs, card-many arrays, lookup refs), `:db/add`, `:db/retract` with and
 * without value, `:db/retractEntity`, `:db.fn/retractAttribute`, `:db/cas`, tempids (strings and
 * negative numbers, as entities and as values) and upserts on unique identity. Some generated
 * transactions are invalid on purpose (unique conflicts, tempids used only as values, missing lookup
 * refs, failing cas): both engines must reject them.
 *
 * Values always match the declared types, so the Dataloom-only `:db.type/*` checks never fire.
 *
 * ```ts
 * const rnd = mulberry32(seed);
 * let db = createDb(GEN_SCHEMA);
 * for (let i = 0; i < 50; i++) db = db.with(genTx(rnd, { maxEid: db.maxEid })).dbAfter;
 * ```
 */
import { Keyword, kw } from '@dataloom/core';
export { mulberry32 } from './prng.js';
import { mulberry32 } from './prng.js';

/** The schema the generator writes against (EDN). `DS_GEN_SCHEMA` is the same without value types DataScript rejects. */
export const GEN_SCHEMA = `{:person/name   {:db/unique :db.unique/identity :db/valueType :db.type/string}
 :person/email  {:db/unique :db.unique/value :db/valueType :db.type/string}
 :person/age    {:db/valueType :db.type/long}
 :person/tag    {:db/cardinality :db.cardinality/many :db/valueType :db.type/string}
 :person/friend {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 :person/boss   {:db/valueType :db.type/ref}
 :person/pet    {:db/valueType :db.type/ref :db/isComponent true}
 :person/likes  {:db/valueType :db.type/ref :db/isComponent true :db/cardinality :db.cardinality/many}
 :pet/name      {:db/valueType :db.type/string}
 :person/status {:db/valueType :db.type/keyword}
 :person/alias  {:db/unique :db.unique/identity :db/cardinality :db.cardinality/many :db/valueType :db.type/string}}`;

/** {@link GEN_SCHEMA} as DataScript accepts it (only `ref`/`tuple` value types). */
export const DS_GEN_SCHEMA = `{:person/name   {:db/unique :db.unique/identity}
 :person/email  {:db/unique :db.unique/value}
 :person/tag    {:db/cardinality :db.cardinality/many}
 :person/friend {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 :person/boss   {:db/valueType :db.type/ref}
 :person/pet    {:db/valueType :db.type/ref :db/isComponent true}
 :person/likes  {:db/valueType :db.type/ref :db/isComponent true :db/cardinality :db.cardinality/many}
 :person/alias  {:db/unique :db.unique/identity :db/cardinality :db.cardinality/many}}`;

const A = {
  name: kw('person/name'),
  email: kw('person/email'),
  age: kw('person/age'),
  tag: kw('person/tag'),
  friend: kw('person/friend'),
  revFriend: kw('person/_friend'),
  boss: kw('person/boss'),
  revBoss: kw('person/_boss'),
  pet: kw('person/pet'),
  likes: kw('person/likes'),
  petName: kw('pet/name'),
  status: kw('person/status'),
  nick: kw('person/nick'), // not in the schema: untyped, cardinality one
  alias: kw('person/alias'),
  id: kw('db/id'),
};
const OP = {
  add: kw('db/add'),
  retract: kw('db/retract'),
  retractEntity: kw('db/retractEntity'),
  retractAttribute: kw('db.fn/retractAttribute'),
  cas: kw('db/cas'),
};

const NAMES = ['ivan', 'petr', 'oleg', 'anna', 'maria', 'sergey', 'olga', 'boris', 'vera', 'igor', 'nina', 'yuri'];
const TAGS = ['a', 'b', 'c', 'd', 'e'];
const STATUS = [kw('status/active'), kw('status/away'), kw('archived'), kw('status.old/x')];

export interface GenOptions {
  /** Highest entity id currently in the db (ids 1..maxEid are picked for existing entities). */
  maxEid: number;
  /** Forms per transaction: 1..maxForms (default 4). */
  maxForms?: number;
  /** Probability of destructive forms (retract, retractEntity, …), default 0.3. */
  retractRate?: number;
  /** Probability a form is deliberately risky (unique clash, value-only tempid, missing lookup ref), default 0.1. */
  errorRate?: number;
}

/** Generates one transaction (an array of forms). */
export function genTx(rnd: () => number, opts: GenOptions): unknown[] {
  const g = new Gen(rnd, opts);
  const n = 1 + Math.floor(rnd() * (opts.maxForms ?? 4));
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(g.form());
  // make value tempids resolvable unless we want an error
  for (const t of g.valueTempids) {
    if (!g.entityTempids.has(t) && rnd() > (opts.errorRate ?? 0.1)) out.push([OP.add, t, A.age, g.int(0, 90)]);
  }
  return out;
}

/** Generates `count` transactions applied in order by the caller (maxEid estimated, not exact). */
export function genTxs(rnd: () => number, count: number, opts: Partial<GenOptions> = {}): unknown[][] {
  const out: unknown[][] = [];
  let maxEid = opts.maxEid ?? 0;
  for (let i = 0; i < count; i++) {
    const tx = genTx(rnd, { ...opts, maxEid });
    out.push(tx);
    maxEid += 2;
  }
  return out;
}

class Gen {
  readonly valueTempids = new Set<string | number>();
  readonly entityTempids = new Set<string | number>();
  private tempSeq = 0;
  constructor(
    readonly rnd: () => number,
    readonly opts: GenOptions,
  ) {}

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }

  existing(): number {
    return this.int(1, Math.max(1, this.opts.maxEid));
  }

  tempid(): string | number {
    this.tempSeq++;
    if (this.chance(0.3) && this.tempSeq > 1) {
      // reuse an earlier tempid of this tx
      const k = this.int(1, this.tempSeq - 1);
      return this.chance(0.5) ? -k : `t${k}`;
    }
    return this.chance(0.5) ? -this.tempSeq : `t${this.tempSeq}`;
  }

  name(): string {
    return this.pick(NAMES) + (this.chance(0.5) ? '' : String(this.int(1, 3)));
  }

  /** An entity reference for a ref value. */
  ref(): unknown {
    const r = this.rnd();
    if (r < 0.55) return this.existing();
    if (r < 0.75) {
      const t = this.tempid();
      this.valueTempids.add(t);
      return t;
    }
    // lookup ref: may miss (error) — mostly names that likely exist
    return [A.name, this.name()];
  }

  entityId(): unknown {
    const r = this.rnd();
    if (r < 0.35) return undefined; // no :db/id
    if (r < 0.7) {
      const t = this.tempid();
      this.entityTempids.add(t);
      return t;
    }
    if (r < 0.9 || this.opts.maxEid === 0) return this.existing();
    return [A.name, this.name()];
  }

  entityMap(depth = 0): Map<unknown, unknown> {
    const m = new Map<unknown, unknown>();
    const id = this.entityId();
    if (id !== undefined) m.set(A.id, id);
    const n = this.int(1, 4);
    for (let i = 0; i < n; i++) {
      const r = this.rnd();
      if (r < 0.3) m.set(A.name, this.name());
      else if (r < 0.4) m.set(A.email, `${this.pick(NAMES)}@x`);
      else if (r < 0.5) m.set(A.age, this.int(0, 90));
      else if (r < 0.6) m.set(A.tag, this.chance(0.5) ? this.pick(TAGS) : [this.pick(TAGS), this.pick(TAGS)]);
      else if (r < 0.68) m.set(A.friend, this.chance(0.5) ? this.ref() : [this.ref(), this.ref()]);
      else if (r < 0.74) m.set(A.boss, this.ref());
      else if (r < 0.8 && depth < 2) m.set(A.pet, this.petMap());
      else if (r < 0.84 && depth < 2) m.set(A.likes, [this.petMap(), this.petMap()]);
      else if (r < 0.88) m.set(A.revFriend, this.chance(0.5) ? this.existing() : [this.existing()]);
      else if (r < 0.92 && depth < 1) m.set(A.friend, this.entityMap(depth + 1));
      else if (r < 0.94) m.set(A.status, this.pick(STATUS));
      else if (r < 0.97) m.set(A.alias, this.chance(0.5) ? this.alias() : [this.alias(), this.alias()]);
      else m.set(A.nick, this.pick(NAMES));
    }
    if (m.size === 0 || (m.size === 1 && m.has(A.id))) m.set(A.age, this.int(0, 90));
    return m;
  }

  alias(): string {
    return 'al' + this.int(1, 8);
  }

  petMap(): Map<unknown, unknown> {
    return new Map<unknown, unknown>([[A.petName, this.pick(NAMES)]]);
  }

  form(): unknown {
    const retractRate = this.opts.retractRate ?? 0.3;
    if (this.opts.maxEid > 0 && this.chance(retractRate)) {
      const r = this.rnd();
      const e = this.chance(0.85) ? this.existing() : [A.name, this.name()];
      if (r < 0.3) {
        const [a, v] = this.attrValue();
        return [OP.retract, e, a, v];
      }
      if (r < 0.45) return [OP.retract, e, this.pick([A.tag, A.age, A.friend, A.name, A.pet])];
      if (r < 0.7) return [OP.retractEntity, e];
      if (r < 0.8) return [OP.retractAttribute, e, this.pick([A.tag, A.friend, A.pet, A.likes, A.age])];
      const old = this.chance(0.5) ? this.int(0, 90) : null;
      return [OP.cas, e, A.age, old, this.int(0, 90)];
    }
    if (this.chance(0.55)) return this.entityMap();
    const e = this.chance(0.5) || this.opts.maxEid === 0 ? this.entityTempidForAdd() : this.existing();
    const [a, v] = this.attrValue();
    return [OP.add, e, a, v];
  }

  entityTempidForAdd(): string | number {
    const t = this.tempid();
    this.entityTempids.add(t);
    return t;
  }

  attrValue(): [Keyword, unknown] {
    const r = this.rnd();
    if (r < 0.2) return [A.name, this.name()];
    if (r < 0.3) return [A.email, `${this.pick(NAMES)}@x`];
    if (r < 0.45) return [A.age, this.int(0, 90)];
    if (r < 0.6) return [A.tag, this.pick(TAGS)];
    if (r < 0.75) return [A.friend, this.ref()];
    if (r < 0.85) return [A.boss, this.ref()];
    if (r < 0.9) return [A.status, this.pick(STATUS)];
    if (r < 0.94) return [A.alias, this.alias()];
    return [A.nick, this.pick(NAMES)];
  }
}
