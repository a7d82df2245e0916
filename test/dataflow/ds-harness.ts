/**
 * Test harness: DataScript (the `datascript` npm package) processes transactions and answers
 * one-shot queries (the oracle); its tx-data feeds the incremental engine directly. This lets the
 * engine be checked against DataScript independently of `@dataloom/core`'s transactor.
 */
import { ds } from '../oracle/datascript.js';
import { Datom, kw, parseEdn } from '@dataloom/core';
import { tupleKey } from '@dataloom/core/internals';
import { parseQuery } from '@dataloom/query';
import { Engine } from '../../packages/dataflow/src/engine.js';
import { Compiler } from '../../packages/dataflow/src/compile/compile.js';
import type { OutputOperator } from '../../packages/dataflow/src/operators/reduce.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export class DsHarness {
  db: Any;
  readonly engine = new Engine(null);
  private readonly named = new Map<string, OutputOperator>();
  constructor(schema: Record<string, Record<string, string>> = {}) {
    this.db = (ds as Any).empty_db(schema);
  }

  transact(tx: unknown[]): { datoms: Datom[]; changed: OutputOperator[] } {
    const conn = (ds as Any).conn_from_db(this.db);
    const report = (ds as Any).transact(conn, tx);
    this.db = report.db_after;
    // DataScript's JS datoms carry `added` as the sign of `tx`.
    const datoms: Datom[] = report.tx_data.map((d: Any) => new Datom(d.e, kw(d.a), d.v, Math.abs(d.tx), d.tx > 0));
    const changed = this.engine.apply(datoms);
    return { datoms, changed };
  }

  settle(): void {
    this.engine.settle();
  }

  register(name: string, query: string, ...inputs: unknown[]): OutputOperator {
    const q = parseQuery(query);
    const c = new Compiler(
      {
        base: (a) => {
          const b = this.engine.base(a);
          if (b.arr.size === 0) {
            for (const d of (ds as Any).datoms(this.db, ':aevt', a.fqn)) b.arr.insert([d.e, d.v, d.tx]);
          }
          return b;
        },
        named: (n) => this.named.get(n)?.out,
        allDatoms: () => this.engine.allDatoms(),
        entities: () => this.engine.entities(),
        isRef: () => false,
        isMany: () => false,
      },
      name,
    );
    const out = this.engine.materialize(c.compile(q, inputs), name);
    this.named.set(name, out);
    return out;
  }

  /** DataScript's answer as a sorted multiset of row keys. */
  oracle(query: string, ...inputs: unknown[]): string[] {
    const dsInputs = inputs.map((x) => (typeof x === "string" && x.trim().startsWith("[") ? toDsQuery(x) : x));
    const r = (ds as Any).q(toDsQuery(query), this.db, ...dsInputs);
    const rows: unknown[][] = Array.isArray(r) ? r : [...r];
    return rows.map((t) => String(tupleKey(t.map(normalize)))).sort();
  }
}

const QUERY_KEYWORDS = new Set(['find', 'where', 'in', 'with', 'keys', 'strs', 'syms']);

/**
 * DataScript's JS API stores attributes as strings, so an EDN query's `:attr` keywords are written
 * as `"attr"` for the oracle (tests avoid keyword values for this reason).
 */
export function toDsQuery(q: string): string {
  return q.replace(/(^|[\s\[({])(:[A-Za-z_][\w./?*+!-]*)/g, (m, pre: string, k: string) => (QUERY_KEYWORDS.has(k.slice(1)) ? m : `${pre}"${k.slice(1)}"`));
}

function normalize(v: unknown): unknown {
  return v;
}

/** An output operator's rows as a sorted multiset of row keys. */
export function rowsOf(out: OutputOperator): string[] {
  const keys: string[] = [];
  for (const [t, n] of out.rows()) for (let i = 0; i < n; i++) keys.push(String(tupleKey(t)));
  return keys.sort();
}

export { parseEdn };
