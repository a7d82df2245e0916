/**
 * Collection sources of registered queries (`:in $ $c` with `$c` a collection of tuples): a pattern
 * naming the source (`[$c ?e ?v]`) reads a constant relation of the collection's tuples, matched
 * positionally like DataScript (a tuple shorter than the pattern reads `nil` at the missing
 * positions; a tuple longer than the pattern matches on its prefix). The collection is fixed at
 * registration; only the database changes afterwards.
 */
import { DataloomError, List } from '@dataloom/core';
import { tupleKey } from '@dataloom/core/internals';
import { DerivedRel } from '../operators/derived.js';

/** The tuples of a collection input, or null when `x` is not a collection (e.g. a database). */
export function collectionTuples(x: unknown): readonly unknown[] | null {
  if (Array.isArray(x)) return x;
  if (x instanceof Set) return [...x];
  if (x instanceof List) return x.items;
  return null;
}

/** The constant relations of a query's collection sources, one per (source, pattern length). */
export class CollectionSources {
  private readonly tuples = new Map<string, readonly unknown[]>();
  private readonly rels = new Map<string, DerivedRel>();

  constructor(private readonly label: string) {}

  add(name: string, tuples: readonly unknown[]): void {
    this.tuples.set(name, tuples);
  }

  has(name: string): boolean {
    return this.tuples.has(name);
  }

  /** The relation of source `name` read by a pattern of `arity` terms. */
  relation(name: string, arity: number): DerivedRel {
    const key = name + '/' + arity;
    let rel = this.rels.get(key);
    if (rel) return rel;
    rel = new DerivedRel(`${this.label}:${name}`, arity, true);
    const seen = new Set<unknown>();
    for (const t of this.tuples.get(name) ?? []) {
      const tup = Array.isArray(t) ? t : t instanceof List ? t.items : [];
      const row: unknown[] = [];
      for (let i = 0; i < arity; i++) row.push(i < tup.length ? tup[i] : null);
      const k = tupleKey(row);
      if (seen.has(k)) continue;
      seen.add(k);
      rel.arr.insert(row);
    }
    this.rels.set(key, rel);
    return rel;
  }

  /**
   * Refuses a clause that makes a collection the default source of its body (`($c not …)`,
   * `($c or …)`, `($c rule …)`) or passes it to a database function: registered queries read a
   * collection only through patterns that name it.
   */
  refuse(name: string, what: string, form: unknown): never {
    throw new DataloomError('dataflow/unsupported', `${what} over the collection source ${name} is not supported by registered queries (name it in patterns: [${name} …])`, { form, source: name });
  }
}
