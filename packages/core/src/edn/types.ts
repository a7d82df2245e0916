/**
 * EDN value types as Dataloom represents them in JavaScript.
 *
 * | EDN            | JavaScript                                   |
 * |----------------|----------------------------------------------|
 * | nil            | `null` (`undefined` is read as nil too)      |
 * | true / false   | boolean                                      |
 * | 42, 1.5, 42N   | number                                       |
 * | "s"            | string                                       |
 * | :ns/name       | {@link Keyword} (interned: `kw("a") === kw("a")`) |
 * | sym            | {@link Sym} (interned)                       |
 * | [a b]          | `Array`                                      |
 * | (a b)          | {@link List}                                 |
 * | {k v}          | `Map`                                        |
 * | #{a b}         | `Set`                                        |
 * | #inst "…"      | `Date`                                       |
 * | #uuid "…"      | {@link Uuid}                                 |
 * | #tag value     | {@link Tagged}                               |
 *
 * Keywords and symbols are interned so they can be compared with `===` and used as `Map` keys.
 */

const keywords = new Map<string, Keyword>();
const symbols = new Map<string, Sym>();

/** An EDN keyword such as `:person/name`. Obtain one with {@link kw}; never construct directly. */
export class Keyword {
  /** Namespace part (`person` in `:person/name`), or null. */
  readonly ns: string | null;
  /** Name part (`name` in `:person/name`). */
  readonly name: string;
  /** Namespace and name without the colon: `person/name`. */
  readonly fqn: string;
  /** @internal use {@link kw} */
  constructor(fqn: string) {
    this.fqn = fqn;
    const slash = fqn.indexOf('/');
    if (slash > 0 && fqn.length > 1) {
      this.ns = fqn.slice(0, slash);
      this.name = fqn.slice(slash + 1);
    } else {
      this.ns = null;
      this.name = fqn;
    }
  }
  toString(): string {
    return ':' + this.fqn;
  }
  toJSON(): string {
    return ':' + this.fqn;
  }
}

/** An EDN symbol such as `?e` or `count`. Obtain one with {@link sym}. */
export class Sym {
  readonly ns: string | null;
  readonly name: string;
  readonly fqn: string;
  /** @internal use {@link sym} */
  constructor(fqn: string) {
    this.fqn = fqn;
    const slash = fqn.indexOf('/');
    if (slash > 0 && fqn.length > 1) {
      this.ns = fqn.slice(0, slash);
      this.name = fqn.slice(slash + 1);
    } else {
      this.ns = null;
      this.name = fqn;
    }
  }
  toString(): string {
    return this.fqn;
  }
  toJSON(): string {
    return this.fqn;
  }
}

/** An EDN list `(a b c)`. Distinct from a vector (a JS array). */
export class List {
  constructor(readonly items: readonly EdnValue[]) {}
  get length(): number {
    return this.items.length;
  }
  [Symbol.iterator](): Iterator<EdnValue> {
    return this.items[Symbol.iterator]();
  }
}

/** An EDN `#uuid "…"` value. */
export class Uuid {
  readonly value: string;
  constructor(value: string) {
    this.value = value.toLowerCase();
  }
  toString(): string {
    return this.value;
  }
  toJSON(): string {
    return this.value;
  }
}

/** A tagged literal with a tag the reader has no handler for. */
export class Tagged {
  constructor(
    readonly tag: string,
    readonly value: EdnValue,
  ) {}
}

export type EdnValue =
  | null
  | undefined
  | boolean
  | number
  | string
  | Keyword
  | Sym
  | List
  | Uuid
  | Date
  | Tagged
  | EdnValue[]
  | Map<EdnValue, EdnValue>
  | Set<EdnValue>
  // Plain JS objects are accepted as maps with keyword keys in transaction data.
  | { [key: string]: unknown };

/** The interned keyword for `name` (with or without a leading colon): `kw(':a/b') === kw('a/b')`. */
export function kw(name: string): Keyword {
  const fqn = name.charCodeAt(0) === 58 /* : */ ? name.slice(1) : name;
  let k = keywords.get(fqn);
  if (k === undefined) {
    k = new Keyword(fqn);
    keywords.set(fqn, k);
  }
  return k;
}

/** The interned symbol for `name`. */
export function sym(name: string): Sym {
  let s = symbols.get(name);
  if (s === undefined) {
    s = new Sym(name);
    symbols.set(name, s);
  }
  return s;
}

/** Builds an EDN list. */
export function list(...items: EdnValue[]): List {
  return new List(items);
}

export function isKeyword(x: unknown): x is Keyword {
  return x instanceof Keyword;
}
export function isSym(x: unknown): x is Sym {
  return x instanceof Sym;
}
export function isList(x: unknown): x is List {
  return x instanceof List;
}
