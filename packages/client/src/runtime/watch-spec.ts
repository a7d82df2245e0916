/**
 * `client.watch({ query, name, asOf, since })`: a watch with options, in place of the query.
 *
 * - `name`: the watch is also the named view `name` (see `registrations.ts`): other queries use
 *   its rows as a relation while it is open; closing the watch unregisters it.
 * - `asOf: t` / `since: t`: the watch runs over the database as of `t` (the merge of every op
 *   with a stamp ≤ `t`) or over the datoms decided after `t`. `t` is an HLC string, a `Date` or
 *   ms — fixed (the view still moves when ops stamped before `t` arrive late, e.g. from a client
 *   that was offline) — or `{ ago: ms }`: "now minus a window", moved forward every `tick` ms
 *   (default 1000) and on every change.
 *
 * A time view keeps its own dataflow connection over the time database, so the query is
 * maintained incrementally. A `since` view is fed the replica's visible changes directly (and
 * drops what falls out of a moving window): O(change). An `asOf` view keeps its own merge of the
 * ops at or before its time; when it moves (a late op at or before its time, a rollback, each tick
 * of a window) it merges in only the ops that came within its time: a scan of the op ids plus
 * merge work in proportion to the change.
 */
import { Datom, type DatomChange, DataloomError, type HlcString, type VisibleDatom, valueKey } from '@dataloom/core';
import { MergeState } from '@dataloom/core/internals';
import { createConn, type Conn, type View } from '@dataloom/dataflow';
import type { Replica } from '../replica/replica.js';
import { hlcBound } from '../replica/history.js';

/** A point in time: an HLC string, a `Date`, ms, or `{ ago: ms }` (now minus a window, moving). */
export type TimePoint = HlcString | Date | number | { ago: number };

/** The options form of a watched query (see module docs). */
export interface WatchSpec {
  query: unknown;
  name?: string;
  asOf?: TimePoint;
  since?: TimePoint;
  /** How often a moving (`{ ago }`) time view moves forward, in ms (default 1000, at least 50). */
  tick?: number;
}

/** Whether `x` is a {@link WatchSpec} rather than a query (EDN text, data, or a `{:find …}` map). */
export function isWatchSpec(x: unknown): x is WatchSpec {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Map) && Object.getPrototypeOf(x) === Object.prototype && 'query' in x;
}

/** Checks a spec's options; a typed `client/watch-options` error names the bad one. */
export function checkSpec(s: WatchSpec): WatchSpec {
  const bad = (what: string) => new DataloomError('client/watch-options', `watch options: ${what}`, { options: Object.keys(s).join(',') });
  for (const k of Object.keys(s)) if (!['query', 'name', 'asOf', 'since', 'tick'].includes(k)) throw bad(`unknown option ${k}`);
  if (s.asOf !== undefined && s.since !== undefined) throw bad('asOf and since together');
  if ((s.asOf !== undefined || s.since !== undefined) && s.name !== undefined) throw bad('a time view cannot be named');
  const t = s.asOf ?? s.since;
  if (t !== undefined && !isPoint(t)) throw bad('asOf/since must be an HLC string, a Date, ms, or { ago: ms }');
  if (s.tick !== undefined && !(typeof s.tick === 'number' && s.tick >= 50)) throw bad('tick must be a number ≥ 50 (ms)');
  return s;
}

function isPoint(t: unknown): t is TimePoint {
  if (typeof t === 'string' || t instanceof Date) return true;
  if (typeof t === 'number') return Number.isFinite(t);
  return typeof t === 'object' && t !== null && typeof (t as { ago?: unknown }).ago === 'number' && (t as { ago: number }).ago >= 0;
}

/** A watch over `asOf(t)` or `since(t)` (see module docs). */
export class TimeView {
  readonly view: View;
  private readonly conn: Conn;
  private readonly kind: 'asOf' | 'since';
  private readonly at: TimePoint;
  private bound: string;
  /** `asOf` views: the merge of the ops at or before the bound, and their ids. */
  private readonly merge: MergeState | null = null;
  private readonly held = new Set<string>();
  /** `since` views: the datoms in the view's database with the stamp that decided each. */
  private readonly decided = new Map<string, { d: Datom; tx: HlcString }>();
  private readonly offBatch: () => void;
  private readonly timer: ReturnType<typeof setInterval> | null;
  private closed = false;
  private moves = 0;

  constructor(
    private readonly replica: Replica,
    spec: WatchSpec,
    inputs: readonly unknown[],
  ) {
    this.kind = spec.asOf !== undefined ? 'asOf' : 'since';
    this.at = (spec.asOf ?? spec.since)!;
    this.bound = this.boundNow();
    if (this.kind === 'since') {
      const visible: VisibleDatom[] = [];
      for (const v of replica.merged().datoms()) {
        if (v.tx <= this.bound) continue;
        visible.push(v);
        const d = replica.datomOf({ ...v, added: true }, 0);
        this.decided.set(keyOf(d), { d, tx: v.tx });
      }
      this.conn = createConn(replica.dbOf(visible));
    } else {
      this.merge = new MergeState(replica.merged().schema);
      const ops = [...replica.merged().allOps()].filter((o) => o.tx <= this.bound);
      this.merge.apply(ops);
      for (const o of ops) this.held.add(o.id);
      this.conn = createConn(replica.dbOf(this.merge.datoms()));
    }
    this.view = this.conn.register('dataloom/time', spec.query as never, ...inputs);
    this.offBatch = replica.onBatch((b) => {
      if (this.kind === 'since') return this.sinceChanges(b.changes);
      // An as-of view changes only when an op at or before its time arrives (or is rolled back);
      // a moving one takes newer ops in at its next tick.
      if (b.txs.every((tx) => tx > this.bound)) return;
      this.move();
    });
    this.timer = moving(this.at) ? setInterval(() => this.move(), spec.tick ?? 1000) : null;
  }

  /** The HLC bound the view is at now (its diffs carry it as their tx). */
  get time(): string {
    return this.bound;
  }

  private boundNow(): string {
    const t = this.at;
    return hlcBound(typeof t === 'object' && !(t instanceof Date) ? Date.now() - t.ago : t);
  }

  /**
   * A `since` view follows the visible changes themselves: a datom decided after the bound comes
   * in, one that disappears goes out (a datom restored by a rollback, decided before the bound,
   * stays out) — O(changes), no rebuild.
   */
  private sinceChanges(changes: readonly DatomChange[]): void {
    const out: Datom[] = [];
    for (const c of changes) {
      const d = this.replica.datomOf(c, 0);
      const k = keyOf(d);
      if (!c.added) {
        if (this.decided.delete(k)) out.push(d);
      } else if (c.tx > this.bound) {
        this.decided.set(k, { d, tx: c.tx });
        out.push(d);
      }
    }
    if (out.length > 0) this.conn.applyDatoms(out, ++this.moves);
  }

  /**
   * Moves to the current bound. `since`: the datoms decided at or before the new bound leave
   * (O(datoms in the view)). `asOf`: the view's own merge takes in the ops now at or before the
   * bound and gives up those the replica no longer holds (rolled back); only the visible changes
   * reach the query (a scan of the op ids, O(ops), plus merge work in proportion to the change).
   */
  move(): void {
    if (this.closed) return;
    this.bound = this.boundNow();
    if (this.kind === 'since') {
      const out: Datom[] = [];
      for (const [k, { d, tx }] of this.decided) {
        if (tx > this.bound) continue;
        this.decided.delete(k);
        out.push(new Datom(d.e, d.a, d.v, d.tx, false));
      }
      if (out.length > 0) this.conn.applyDatoms(out, ++this.moves);
      return;
    }
    // asOf: merge in the ops now at or before the bound, take out those no longer held (a rollback).
    const merged = this.replica.merged();
    const add = [];
    for (const o of merged.allOps()) if (o.tx <= this.bound && !this.held.has(o.id)) add.push(o);
    const gone: string[] = [];
    for (const id of this.held) if (!merged.has(id)) gone.push(id);
    if (add.length === 0 && gone.length === 0) return;
    const changes = gone.length > 0 ? this.merge!.remove(gone) : [];
    if (add.length > 0) changes.push(...this.merge!.apply(add));
    for (const id of gone) this.held.delete(id);
    for (const o of add) this.held.add(o.id);
    if (changes.length > 0) this.conn.applyDatoms(changes.map((c) => this.replica.datomOf(c, 0)), ++this.moves);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.offBatch();
    if (this.timer !== null) clearInterval(this.timer);
    this.view.close();
  }
}

const keyOf = (d: Datom) => `${d.e}\u0000${d.a.fqn}\u0000${valueKey(d.v)}`;
const moving = (t: TimePoint) => typeof t === 'object' && !(t instanceof Date);
