/**
 * `createConn(schema)`: a database connection whose registered queries are maintained
 * incrementally.
 *
 * ```ts
 * const conn = createConn({ 'thug/boss': { ':db/valueType': ':db.type/ref' } });
 * const view = conn.register('chic/rats', '[:find ?t ?n :where [?t :thug/rat? true] [?t :thug/name ?n]]');
 * view.subscribe((diffs) => console.log(diffs)); // [[row, tx, +1|-1], …] per transaction
 * conn.transact([{ ':db/id': -1, 'thug/name': 'carlo', 'thug/rat?': true }]);
 * view.result(); // Set { [1, 'carlo'] }
 * ```
 *
 * Transactions run one at a time; each is applied to the database, then to every registered query
 * (operators in topological order), then listeners and subscribers are called. A business rule's
 * callback may transact: its transaction is queued and processed after the current one, until no
 * rule fires any more or the cascade bound is hit (`dataflow/runaway-rules`).
 */
import {
  type Datom,
  type Db,
  type Diff,
  type SchemaInput,
  type TxData,
  type TxReport,
  DataloomError,
  createDb,
  parseEdn,
} from '@dataloom/core';
import { applyDatoms, initDb } from '@dataloom/core/internals';
import { type Query, parseQuery } from '@dataloom/query';
import type { Bases } from './bases.js';
import { type CompileEnv, Compiler } from './compile/compile.js';
import { Engine } from './engine.js';
import { View, touchedEntities } from './view.js';

export interface ConnOptions {
  /**
   * Most transactions a business-rule cascade may add to one transaction before
   * `dataflow/runaway-rules` is thrown (default 100).
   */
  maxCascade?: number;
}

/** What a business rule's callback receives besides the diffs. */
export interface RuleContext {
  /** Queues a transaction (processed after the current one; returns its report). */
  transact(tx: TxData): TxReport;
  db(): Db;
}

interface Pending {
  readonly datoms: readonly Datom[];
  readonly tx: unknown;
  readonly report: TxReport | null;
  /** A transaction of another database read as a source (absent: this connection's own). */
  readonly from?: Follow;
  /** That database after the transaction. */
  readonly dbAfter?: Db;
}

/**
 * Another database read as a source by registered queries (`:in $ $2` with a connection or a
 * database value as `$2`): its base relations in the engine, its current value, and for a
 * connection the listener that feeds its transactions to this connection's views.
 */
interface Follow {
  readonly bases: Bases;
  db: Db;
  /** Registered views reading it. */
  refs: number;
  readonly stop: (() => void) | null;
  readonly env: CompileEnv;
}

export class Conn {
  private current: Db;
  readonly engine: Engine;
  private readonly views = new Map<string, View>();
  private readonly listeners = new Set<(report: TxReport | { txData: readonly Datom[]; tx: unknown }) => void>();
  private readonly queue: Pending[] = [];
  private draining = false;
  readonly maxCascade: number;
  /** Other databases read as sources, by the connection or database value given as input. */
  private readonly follows = new Map<object, Follow>();

  constructor(schemaOrDb?: SchemaInput | Db, opts: ConnOptions = {}) {
    this.current = isDb(schemaOrDb) ? schemaOrDb : createDb(schemaOrDb as SchemaInput);
    this.maxCascade = opts.maxCascade ?? 100;
    this.engine = new Engine({ forEachOfAttr: (a, fn) => this.current.forEachOfAttr(a, fn as never), attrs: () => this.current.attrs() });
  }

  /** The current database value. */
  db(): Db {
    return this.current;
  }

  /**
   * Applies a transaction (DataScript's transaction language, EDN string or JS data) and brings
   * every registered query up to date, business-rule cascades included. Returns the report.
   * A bad transaction throws and changes nothing.
   */
  transact(tx: TxData, txMeta?: unknown): TxReport {
    const report = this.current.with(tx, txMeta);
    this.current = report.dbAfter;
    this.enqueue({ datoms: report.txData, tx: report.dbAfter.maxTx, report });
    return report;
  }

  /**
   * Applies raw datoms (the replica's materialized operations: `added` asserts, otherwise retracts)
   * as one transaction tagged `txId` in the diffs.
   */
  applyDatoms(datoms: Iterable<Datom>, txId?: unknown): readonly Datom[] {
    const { db, changes } = applyDatoms(this.current, datoms, typeof txId === 'number' ? txId : undefined);
    this.current = db;
    this.enqueue({ datoms: changes, tx: txId ?? db.maxTx, report: null });
    return changes;
  }

  /**
   * Puts the same datoms under another schema (a replica learned schema as data): the database is
   * rebuilt with `schema`; registered views stay (their contents do not change, the datoms being
   * the same).
   */
  replaceSchema(schema: SchemaInput): void {
    this.current = initDb(this.current.datoms('eavt'), schema);
  }

  /** Calls `fn` after every transaction with its report (or `{txData, tx}` for raw datoms). */
  listen(fn: (report: TxReport | { txData: readonly Datom[]; tx: unknown }) => void): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  /**
   * Registers `query` (EDN string or data) under `name` with its `inputs` (values for `:in`
   * after `$`; rules for `%`). The name can then be used as a relation by other queries:
   * `[name ?a ?b]`. Throws `dataflow/name-taken` if the name is in use.
   */
  register(name: string, query: string | Query | unknown, ...inputs: unknown[]): View {
    if (this.views.has(name)) throw new DataloomError('dataflow/name-taken', `A query named ${name} is already registered`, { name });
    const q = isParsed(query) ? query : parseQuery(query as never);
    const used: Follow[] = [];
    const compiler = new Compiler(
      {
        base: (a) => this.engine.base(a),
        allDatoms: () => this.engine.allDatoms(),
        entities: () => this.engine.entities(),
        named: (n) => this.views.get(n)?.out.out,
        isRef: (a) => this.current.isRef(a),
        isMany: (a) => this.current.isMany(a),
        entid: (x) => this.current.entidStrict(x),
        other: (x) => {
          const f = this.follow(x);
          if (f !== undefined && !used.includes(f)) used.push(f);
          return f?.env;
        },
      },
      name,
    );
    let out;
    let compiled;
    try {
      compiled = compiler.compile(q, inputs);
      out = this.engine.materialize(compiled, name);
      for (const f of used) f.refs++;
    } finally {
      this.engine.sweep();
      for (const f of used) this.unfollowIfUnused(f);
    }
    const view = new View(
      name,
      out,
      {
        find: q.find,
        returnMap: q.returnMap,
        // A pull pattern given as an input (`(pull ?e ?pat)`) is the compiler's (EDN text is read).
        pulls: compiled.pulls.map((p) => (typeof p === 'string' ? parseEdn(p) : p)),
        hasWith: q.with.length > 0,
        hasAgg: q.find.elements.some((e) => e.kind === 'aggregate'),
      },
      () => this.current,
      (v) => {
        this.views.delete(v.name);
        this.engine.release(v.out.out);
        this.engine.sweep();
        for (const f of used) {
          f.refs--;
          this.unfollowIfUnused(f);
        }
      },
    );
    this.views.set(name, view);
    return view;
  }

  /**
   * Registers a business rule: `fn` receives the query's diffs (first the current rows as `+1`,
   * then each transaction's changes) and may transact through `ctx.transact` (or the conn).
   */
  businessRule(name: string, query: string | unknown, inputs: readonly unknown[], fn: (diffs: Diff[], ctx: RuleContext) => void): View {
    const view = this.register(name, query, ...inputs);
    const ctx: RuleContext = { transact: (tx) => this.transact(tx), db: () => this.current };
    view.subscribe((diffs) => fn(diffs, ctx));
    const initial = view.initialDiffs(this.current.maxTx);
    if (initial.length > 0) {
      this.draining = true;
      try {
        fn(initial, ctx);
      } finally {
        this.draining = false;
      }
      this.drain();
    }
    return view;
  }

  /** The registered query `name`, if any. */
  view(name: string): View | undefined {
    return this.views.get(name);
  }

  /**
   * The source state of another database given as a query input: a `Conn` (followed: each of its
   * transactions is applied to this connection's views as it happens) or a database value (fixed).
   * Undefined when `x` is neither.
   */
  private follow(x: unknown): Follow | undefined {
    if (!(x instanceof Conn) && !isDb(x)) return undefined;
    let f = this.follows.get(x);
    if (f !== undefined) return f;
    const db0 = x instanceof Conn ? x.db() : x;
    const bases = this.engine.addSource(null, `$<${this.follows.size + 1}>`);
    let stop: (() => void) | null = null;
    const env: CompileEnv = {
      base: (a) => bases.base(a),
      allDatoms: () => bases.allDatoms(),
      entities: () => bases.entities(),
      named: () => undefined,
      isRef: (a) => f!.db.isRef(a),
      isMany: (a) => f!.db.isMany(a),
      entid: (e) => f!.db.entidStrict(e),
    };
    if (x instanceof Conn) {
      stop = x.listen((r) => {
        const after = 'dbAfter' in r ? r.dbAfter : x.db();
        this.enqueue({ datoms: r.txData, tx: 'dbAfter' in r ? after.maxTx : r.tx, report: null, from: f, dbAfter: after });
      });
    }
    f = { bases, db: db0, refs: 0, stop, env };
    bases.source = { forEachOfAttr: (a, fn) => f!.db.forEachOfAttr(a, fn as never), attrs: () => f!.db.attrs() };
    this.follows.set(x, f);
    return f;
  }

  private unfollowIfUnused(f: Follow): void {
    if (f.refs > 0) return;
    for (const [k, g] of this.follows) if (g === f) this.follows.delete(k);
    f.stop?.();
    this.engine.removeSource(f.bases);
  }

  private enqueue(p: Pending): void {
    this.queue.push(p);
    if (!this.draining) this.drain();
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    let n = 0;
    const errors: unknown[] = [];
    try {
      while (this.queue.length > 0) {
        if (++n > this.maxCascade + 1) {
          this.queue.length = 0;
          throw new DataloomError('dataflow/runaway-rules', `Business rules kept transacting: more than ${this.maxCascade} cascaded transactions`, {
            bound: this.maxCascade,
          });
        }
        const p = this.queue.shift()!;
        if (p.from !== undefined) {
          // Another database's transaction: only the views reading it can change (no pulls of `$`
          // move, no listener of this connection hears of it).
          if (p.from.refs <= 0) continue; // no view reads it any more
          p.from.db = p.dbAfter!;
          const changedFrom = this.engine.apply(p.datoms, p.from.bases);
          const out: [View, Diff[]][] = [];
          for (const v of this.views.values()) {
            if (!changedFrom.includes(v.out)) continue;
            const d = v.collect(p.tx, true, null);
            if (d.length > 0) out.push([v, d]);
          }
          this.engine.settle();
          for (const [v, d] of out) errors.push(...v.deliver(d));
          continue;
        }
        const changedList = this.engine.apply(p.datoms);
        // Few changed outputs (the common case): a linear scan beats building a Set.
        const changed = changedList.length > 8 ? new Set(changedList) : null;
        let touched: Set<string | number> | null = null;
        const batches: [View, Diff[]][] = [];
        for (const v of this.views.values()) {
          const isChanged = changed !== null ? changed.has(v.out) : changedList.length > 0 && changedList.includes(v.out);
          if (!isChanged && !v.hasPull) continue;
          if (v.hasPull && touched === null) touched = touchedEntities(p.datoms);
          const d = v.collect(p.tx, isChanged, touched);
          if (d.length > 0) batches.push([v, d]);
        }
        this.engine.settle();
        for (const fn of this.listeners) {
          try {
            fn(p.report ?? { txData: p.datoms, tx: p.tx });
          } catch (e) {
            errors.push(e);
          }
        }
        for (const [v, d] of batches) errors.push(...v.deliver(d));
      }
    } finally {
      this.draining = false;
    }
    if (errors.length > 0) throw errors[0];
  }
}

function isDb(x: unknown): x is Db {
  return typeof x === 'object' && x !== null && typeof (x as Db).with === 'function' && typeof (x as Db).datoms === 'function';
}

function isParsed(x: unknown): x is Query {
  return typeof x === 'object' && x !== null && 'find' in x && 'where' in x && 'form' in x && typeof (x as Query).find === 'object' && 'kind' in ((x as Query).find as object);
}

/** A new connection on an empty database with `schema` (or on an existing database value). */
export function createConn(schema?: SchemaInput | Db, opts?: ConnOptions): Conn {
  return new Conn(schema, opts);
}
