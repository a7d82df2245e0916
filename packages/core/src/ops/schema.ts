/**
 * The slice of the schema the merge rules need, keyed by attribute fqn (no colon).
 * Built from the same schema input the database takes (plain object, `Map`, or EDN string map).
 */
import { DataloomError } from '../errors.js';
import { parseEdn } from '../edn/index.js';
import { Keyword } from '../edn/types.js';

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
}

function nameOf(x: unknown): string | null {
  if (x instanceof Keyword) return x.fqn;
  if (typeof x === 'string') return x.startsWith(':') ? x.slice(1) : x;
  return null;
}

function entriesOf(x: unknown): Array<[unknown, unknown]> | null {
  if (x instanceof Map) return [...x.entries()];
  if (x !== null && typeof x === 'object' && !Array.isArray(x)) return Object.entries(x as Record<string, unknown>);
  return null;
}

/**
 * Reads a DataScript-style schema (`{":person/friend": {":db/valueType": ":db.type/ref", …}}`, a
 * `Map`, or an EDN string). Throws `schema/syntax` on malformed input.
 */
export function mergeSchemaOf(input: unknown): MergeSchema {
  if (input instanceof MergeSchema) return input;
  if (input === null || input === undefined) return new MergeSchema();
  const src = typeof input === 'string' ? parseEdn(input) : input;
  const top = entriesOf(src);
  if (top === null) throw new DataloomError('schema/syntax', 'schema must be a map of attribute → properties', { form: String(input) });
  const out: Array<[string, MergeAttr]> = [];
  for (const [k, props] of top) {
    const a = nameOf(k);
    const ps = entriesOf(props);
    if (a === null || ps === null) throw new DataloomError('schema/syntax', `bad schema entry for ${String(k)}`, { attribute: String(k) });
    const p = new Map<string, string | boolean | null>();
    for (const [pk, pv] of ps) p.set(nameOf(pk) ?? '', typeof pv === 'boolean' ? pv : nameOf(pv));
    const vt = p.get('db/valueType');
    const valueType = typeof vt === 'string' ? vt.replace(/^db\.type\//, '') : null;
    const unique = p.get('db/unique');
    out.push([
      a,
      {
        many: p.get('db/cardinality') === 'db.cardinality/many',
        ref: valueType === 'ref',
        component: p.get('db/isComponent') === true,
        identity: unique === 'db.unique/identity',
        uniqueValue: unique === 'db.unique/value',
        text: valueType === 'text',
        valueType,
      },
    ]);
  }
  return new MergeSchema(out);
}
