/**
 * Tempids that hold across a whole import file and across re-runs: before a transaction is
 * translated, every tempid in an entity position (`:db/id`, the `e` of `[:db/add e …]` and the other
 * list forms, the values of ref attributes and reverse refs, nested maps) becomes the global id
 * `<replica>.t_<hash of the tempid>`. The same tempid names the same entity in every transaction of
 * the file, and a re-run (or a corrected file under the same import name) writes to the same
 * entities. Lookup refs (`[:attr value]`) and global ids are left as they are.
 */
import { Keyword, isGlobalId, type GlobalId } from '@dataloom/core';
import { type MergeSchema } from '@dataloom/core/internals';
import { createHash } from 'node:crypto';

function attrOf(k: unknown): string | null {
  if (k instanceof Keyword) return k.fqn;
  if (typeof k === 'string' && k.length > 0) return k.startsWith(':') ? k.slice(1) : k;
  return null;
}

function isLookupRef(x: unknown): boolean {
  return Array.isArray(x) && x.length === 2 && (x[0] instanceof Keyword || (typeof x[0] === 'string' && x[0].startsWith(':')));
}

function entriesOf(x: unknown): Array<[unknown, unknown]> | null {
  if (x instanceof Map) return [...x.entries()];
  if (x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Keyword) && !(x instanceof Date) && Object.getPrototypeOf(x) === Object.prototype) {
    return Object.entries(x as Record<string, unknown>);
  }
  return null;
}

export class FileIds {
  /** Tempid (as written, stringified) → global id. */
  readonly assigned = new Map<string, GlobalId>();

  constructor(
    private readonly replica: string,
    private readonly schema: () => MergeSchema,
  ) {}

  /** The global id of tempid `key`. */
  idOf(key: string): GlobalId {
    let id = this.assigned.get(key);
    if (id === undefined) {
      const h = BigInt('0x' + createHash('sha256').update(key).digest('hex').slice(0, 24)).toString(36);
      this.assigned.set(key, (id = `${this.replica}.t_${h}`));
    }
    return id;
  }

  private ref(x: unknown): unknown {
    if (typeof x === 'number' && Number.isInteger(x) && x < 0) return this.idOf(String(x));
    if (typeof x === 'string' && x.length > 0 && !x.startsWith(':') && !isGlobalId(x)) return this.idOf(x);
    const m = entriesOf(x);
    if (m) return this.map(x, m);
    return x;
  }

  /** A value of ref attribute `a` (one value, a collection, a lookup ref or a nested map). */
  private refValue(a: string, v: unknown): unknown {
    if (Array.isArray(v) && !isLookupRef(v) && this.schema().get(a).many) return v.map((x) => this.ref(x));
    if (Array.isArray(v)) return v;
    return this.ref(v);
  }

  private map(orig: unknown, entries: Array<[unknown, unknown]>): unknown {
    const out = new Map<unknown, unknown>();
    for (const [k, v] of entries) {
      const a = attrOf(k);
      if (a === null) out.set(k, v);
      else if (a === 'db/id') out.set(k, this.ref(v));
      else if (a.includes('/_')) out.set(k, Array.isArray(v) && !isLookupRef(v) ? v.map((x) => this.ref(x)) : this.ref(v));
      else if (this.schema().get(a).ref) out.set(k, this.refValue(a, v));
      else out.set(k, v);
    }
    return orig instanceof Map ? out : Object.fromEntries(out as Map<string, unknown>);
  }

  /** The transaction `forms` with tempids replaced (a new structure; the input is not changed). */
  forms(forms: readonly unknown[]): unknown[] {
    return forms.map((f) => {
      const m = entriesOf(f);
      if (m) return this.map(f, m);
      if (!Array.isArray(f) || f.length < 2) return f;
      const op = attrOf(f[0]);
      const out = [...f];
      out[1] = this.ref(f[1]);
      if ((op === 'db/add' || op === 'db/retract' || op === 'db/cas') && f.length >= 4) {
        const a = attrOf(f[2]);
        if (a !== null && this.schema().get(a).ref) for (let i = 3; i < f.length; i++) out[i] = this.ref(f[i]);
      }
      return out;
    });
  }
}
