/**
 * The slice of the schema the merge rules need, keyed by attribute fqn (no colon). Read by the one
 * schema reader of `@dataloom/core` (`db/schema.ts`, `parseSchema`: validates and throws
 * `schema/validation`), so the database, the merge rules and the server read a schema alike.
 * Accepted forms: a DataScript-style map (plain object, `Map`, or EDN string) and a Datomic-style
 * vector of attribute maps with `:db/ident`.
 */
import { DataloomError } from '../errors.js';
import { parseEdn } from '../edn/index.js';
import { Keyword } from '../edn/types.js';
import { parseSchema } from '../db/schema.js';
import type { AttrSchema, SchemaInput } from '../db/types.js';

/** Merge-relevant facts about one attribute. */
export interface MergeAttr {
  readonly many: boolean;
  readonly ref: boolean;
  readonly component: boolean;
  /** `:db.unique/identity`: two entities claiming one value are merged (see `state.ts`). */
  readonly identity: boolean;
  /** `:db.unique/value`. */
  readonly uniqueValue: boolean;
  /** `:db.type/text`: a Yjs document. */
  readonly text: boolean;
  /** The declared value type without namespace (`string`, `ref`, `long`, …) or null. */
  readonly valueType: string | null;
}

const PLAIN: MergeAttr = Object.freeze({
  many: false,
  ref: false,
  component: false,
  identity: false,
  uniqueValue: false,
  text: false,
  valueType: null,
});

/** Attribute fqn → facts; unknown attributes are untyped cardinality-one. */
export class MergeSchema {
  private readonly attrs = new Map<string, MergeAttr>();
  constructor(entries: Iterable<[string, MergeAttr]> = []) {
    // `:db/ident` names entities (schema as data, enum values): an identity attribute.
    this.attrs.set('db/ident', { ...PLAIN, identity: true, valueType: 'keyword' });
    for (const [k, v] of entries) this.attrs.set(k, v);
  }
  get(a: string): MergeAttr {
    return this.attrs.get(a) ?? PLAIN;
  }
  /** Attributes declared with a schema entry. */
  entries(): IterableIterator<[string, MergeAttr]> {
    return this.attrs.entries();
  }
  /** Attributes declared `:db.unique/identity`. */
  identityAttrs(): string[] {
    return [...this.attrs].filter(([, v]) => v.identity).map(([k]) => k);
  }
  /** Whether both schemas give every attribute the same merge-relevant facts. */
  sameAs(other: MergeSchema): boolean {
    if (other.attrs.size !== this.attrs.size) return false;
    for (const [k, a] of this.attrs) {
      const b = other.attrs.get(k);
      if (b === undefined || !sameAttr(a, b)) return false;
    }
    return true;
  }
}

function sameAttr(a: MergeAttr, b: MergeAttr): boolean {
  return a.many === b.many && a.ref === b.ref && a.component === b.component && a.identity === b.identity && a.uniqueValue === b.uniqueValue && a.text === b.text && a.valueType === b.valueType;
}

/** The merge facts of a parsed attribute. */
export function mergeAttrOf(s: AttrSchema): MergeAttr {
  return {
    many: s.cardinality === 'many',
    ref: s.valueType === 'ref',
    component: s.isComponent,
    identity: s.unique === 'identity',
    uniqueValue: s.unique === 'value',
    text: s.valueType === 'text',
    valueType: s.valueType,
  };
}

function nameOf(x: unknown): string | null {
  if (x instanceof Keyword) return x.fqn;
  if (typeof x === 'string') return x.startsWith(':') ? x.slice(1) : x;
  return null;
}

function entriesOf(x: unknown): Array<[unknown, unknown]> | null {
  if (x instanceof Map) return [...x.entries()];
  if (x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Keyword)) return Object.entries(x as Record<string, unknown>);
  return null;
}

/**
 * A schema input in map form: EDN strings are read, and a Datomic-style vector of attribute maps
 * (`[{:db/ident :person/name :db/valueType :db.type/string} …]`) becomes `{ident: props}`.
 * Throws `schema/validation` for a vector entry without `:db/ident`.
 */
export function schemaMapOf(input: unknown): SchemaInput {
  const src = typeof input === 'string' ? parseEdn(input) : input;
  if (!Array.isArray(src)) return src as SchemaInput;
  const out = new Map<unknown, unknown>();
  for (const m of src) {
    const e = entriesOf(m);
    const ident = e?.find(([k]) => nameOf(k) === 'db/ident')?.[1];
    const name = ident === undefined ? null : nameOf(ident);
    if (e === null || name === null) throw new DataloomError('schema/validation', 'a schema vector entry must be a map with :db/ident', { form: String(m) });
    out.set(name, new Map(e.filter(([k]) => nameOf(k) !== 'db/ident')));
  }
  return out;
}

/** Reads and validates a schema (see the file comment); throws `schema/validation`. */
export function mergeSchemaOf(input: unknown): MergeSchema {
  if (input instanceof MergeSchema) return input;
  if (input === null || input === undefined) return new MergeSchema();
  const parsed = parseSchema(schemaMapOf(input));
  const out: Array<[string, MergeAttr]> = [];
  for (const [k, s] of parsed.attrs) if (k.fqn !== 'db/ident') out.push([k.fqn, mergeAttrOf(s)]);
  return new MergeSchema(out);
}
