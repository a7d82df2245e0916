/**
 * A DataScript / Datomic transaction-log source (the datsync use case): transaction reports from
 * an EDN file (one a line, replayed at start) or from a live `datascript` connection in this
 * process (`listen!`), written to the log as replica `src_<name>` with entity ids translated by
 * `datoms.ts`.
 *
 * **Replaying changes nothing.** The cursor (`source:<name>` in the store's meta table) holds the
 * highest external transaction id written; reports at or below it are skipped. Before a batch is
 * written its first transaction id and base stamp are saved as an *intent*; after a crash the
 * same batch is made again with the same stamps and the log reports it as already present.
 *
 * **A live connection** is first reconciled: the connection's current datoms are compared with
 * what the log holds for this source's entities, and the difference (values added or changed,
 * values retracted while the server was away) is written as one transaction; then every
 * `listen!` report follows, in order. DataScript entity ids are stable only within one database
 * lineage: follow a connection whose database persists (or replays) across restarts.
 */
import { DataloomError, formatHlc, type Op, type TxEnvelope } from '@dataloom/core';
import { datomKey, MAX_COUNTER } from '@dataloom/core/internals';
import { checkEnvelope, type EnvelopeLimits } from '@dataloom/protocol';
import { readFileSync } from 'node:fs';
import type { SyncNode } from '../../node/sync-node.js';
import type { RunningSource, SourceStatus } from '../status.js';
import { readTxReport, txOps, type ExtTx } from './datoms.js';

/** The parts of the `datascript` npm package's API the follower uses (pass the module itself). */
export interface DataScriptApi {
  listen(conn: unknown, key: string, callback: (report: unknown) => void): unknown;
  unlisten(conn: unknown, key: string): unknown;
  db(conn: unknown): unknown;
  datoms(db: unknown, index: string): Iterable<{ e: number; a: string; v: unknown; tx: number }>;
}

export interface TxLogSourceConfig {
  /** Source name (`[0-9A-Za-z_]`): replica `src_<name>`, cursor `source:<name>`. */
  name: string;
  /** An EDN file of transaction reports, one a line, replayed at start. */
  txLog?: string;
  /**
   * The user the source writes as (as `authenticate` would return it): its transactions are then
   * judged by the write rules like that user's. Default: trusted (no rules apply).
   */
  as?: unknown;
  /** A live DataScript connection to follow: `{ conn, api }` with `api` the `datascript` module. */
  datascript?: { conn: unknown; api: DataScriptApi };
}

interface Cursor {
  logId: string;
  lastTx: number;
  ms: number;
  intent?: { fromTx: number; ms: number };
}

const SPAN = MAX_COUNTER + 1;

export class TxLogSource implements RunningSource {
  readonly name: string;
  readonly replica: string;
  private readonly status: SourceStatus;
  private cursor: Cursor | null = null;
  private queue: ExtTx[] = [];
  /** When each queued report arrived (for `lagMs`). */
  private received: number[] = [];
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly listenKey: string;

  constructor(
    private readonly node: SyncNode,
    private readonly cfg: TxLogSourceConfig,
    private readonly limits: EnvelopeLimits,
    private readonly onError: (e: unknown) => void,
  ) {
    this.name = cfg.name;
    if (typeof this.name !== 'string' || !/^[0-9A-Za-z_]{1,50}$/.test(this.name)) throw new DataloomError('source/config', `source name ${JSON.stringify(this.name)}: use 1-50 of [0-9A-Za-z_]`, { source: this.name });
    if ((cfg.txLog === undefined) === (cfg.datascript === undefined)) throw new DataloomError('source/config', `source ${this.name}: give exactly one of txLog or datascript`, { source: this.name });
    this.replica = 'src_' + this.name;
    this.listenKey = 'dataloom/' + this.name;
    this.status = { name: this.name, kind: 'txlog', state: 'starting', transactions: 0, rows: 0, lagMs: null, caughtUp: false, error: null, errors: 0 };
  }

  snapshotStatus(): SourceStatus {
    return { ...this.status, error: this.status.error && { ...this.status.error } };
  }

  start(): void {
    this.run(async () => {
      this.cursor = await this.loadCursor();
      if (this.cfg.txLog !== undefined) {
        const lines = readFileSync(this.cfg.txLog, 'utf8').split('\n');
        const txs: ExtTx[] = [];
        lines.forEach((line, i) => {
          if (line.trim() === '') return;
          try {
            txs.push(readTxReport(line));
          } catch (e) {
            throw new DataloomError('source/txlog', `${this.cfg.txLog}:${i + 1}: ${(e as Error).message}`, { file: this.cfg.txLog, line: i + 1 });
          }
        });
        await this.ingest(txs);
      } else {
        const { conn, api } = this.cfg.datascript!;
        // Listen first (reports queue up), then reconcile with the connection's current state.
        api.listen(conn, this.listenKey, (report) => {
          try {
            this.queue.push(readTxReport(report));
            this.received.push(Date.now());
          } catch (e) {
            this.fail(e);
            return;
          }
          this.run(() => this.drain());
        });
        await this.reconcile([...api.datoms(api.db(conn), ':eavt')]);
        await this.drain();
      }
      this.status.state = 'following';
      this.status.caughtUp = true;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.cfg.datascript) this.cfg.datascript.api.unlisten(this.cfg.datascript.conn, this.listenKey);
    await this.chain.catch(() => {});
    this.status.state = 'stopped';
  }

  /** Runs `fn` after everything before it (one writer per source). */
  private run(fn: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.stopped) return;
      try {
        this.status.caughtUp = false;
        await fn();
        this.status.caughtUp = this.queue.length === 0;
        this.status.error = null;
        if (this.status.state === 'error') this.status.state = 'following';
      } catch (e) {
        this.fail(e);
      }
    });
  }

  private fail(e: unknown): void {
    const err = e as { code?: string; message?: string };
    this.status.state = 'error';
    this.status.errors++;
    this.status.error = { code: err.code ?? 'source/error', message: `source ${this.name}: ${err.message ?? String(e)}`, at: Date.now() };
    this.onError(new DataloomError(this.status.error.code, this.status.error.message, { source: this.name }));
  }

  private async drain(): Promise<void> {
    const batch = this.queue.splice(0);
    const first = this.received.splice(0)[0];
    if (batch.length === 0) return;
    try {
      await this.ingest(batch);
    } catch (e) {
      // Keep the reports: the next report (or a restart) tries them again, in order.
      this.queue.unshift(...batch);
      if (first !== undefined) this.received.unshift(first);
      throw e;
    }
    if (first !== undefined) this.status.lagMs = Date.now() - first;
  }

  private async loadCursor(): Promise<Cursor> {
    const saved = await this.node.store.getMeta(`source:${this.name}`);
    if (saved !== null) {
      const c = JSON.parse(saved) as Cursor;
      if (c.logId === this.node.logId) return c;
    }
    return { logId: this.node.logId, lastTx: 0, ms: 0 };
  }

  private async save(c: Cursor): Promise<void> {
    this.cursor = c;
    await this.node.store.setMeta(`source:${this.name}`, JSON.stringify(c));
  }

  /** Stamps, appends and acknowledges `pieces` (op lists) at `base`; throws on a refusal. */
  private async append(base: number, pieces: Array<Array<Omit<Op, 'id' | 'tx'>>>): Promise<number> {
    const outcomes = await Promise.all(
      pieces.map((ops, k) => {
        const tx = formatHlc({ ms: base + Math.floor(k / SPAN), counter: k % SPAN, replica: this.replica });
        const env: TxEnvelope = checkEnvelope({ tx, replica: this.replica, ops: ops.map((o, i) => ({ id: `${tx}/${i}`, tx, ...o })) }, this.limits);
        return this.node.submit(env, this.cfg.as);
      }),
    );
    for (const o of outcomes) {
      if (o.status === 'rejected' && o.code !== 'sync/tx-conflict') throw new DataloomError('source/rejected', `the log refused ${o.tx}: ${o.code}: ${o.message}`, { source: this.name, cause: o.code });
      if (o.status === 'appended') this.status.transactions++;
    }
    return base + Math.floor(Math.max(0, pieces.length - 1) / SPAN);
  }

  /** Splits ops into envelopes within the op limit. */
  private chunks(ops: Array<Omit<Op, 'id' | 'tx'>>): Array<Array<Omit<Op, 'id' | 'tx'>>> {
    const out: Array<Array<Omit<Op, 'id' | 'tx'>>> = [];
    for (let i = 0; i < ops.length; i += this.limits.maxOpsPerTx) out.push(ops.slice(i, i + this.limits.maxOpsPerTx));
    return out;
  }

  /** Writes the transactions after the cursor, in order (see the file comment). */
  async ingest(all: readonly ExtTx[]): Promise<void> {
    const cur = this.cursor!;
    // Only transactions after the cursor, each after the one before (a log replayed within itself too).
    const txs: ExtTx[] = [];
    let upTo = cur.lastTx;
    for (const t of all) {
      if (t.tx <= upTo) continue;
      txs.push(t);
      upTo = t.tx;
    }
    if (txs.length === 0) return;
    const base = cur.intent && cur.intent.fromTx === txs[0]!.tx ? cur.intent.ms : Math.max(Date.now(), cur.ms + 1, this.node.state.maxMs + 1);
    await this.save({ ...cur, intent: { fromTx: txs[0]!.tx, ms: base } });
    const schema = this.node.state.schema;
    const pieces: Array<Array<Omit<Op, 'id' | 'tx'>>> = [];
    for (const t of txs) {
      this.status.rows += t.datoms.length;
      for (const c of this.chunks(txOps(this.replica, schema, t))) pieces.push(c);
    }
    const last = await this.append(base, pieces);
    await this.save({ logId: cur.logId, lastTx: txs[txs.length - 1]!.tx, ms: last });
  }

  /** Writes the difference between a connection's datoms and what the log holds for this source. */
  private async reconcile(datoms: Array<{ e: number; a: string; v: unknown; tx: number }>): Promise<void> {
    const schema = this.node.state.schema;
    const want = txOps(this.replica, schema, { tx: 0, datoms: datoms.map((d) => ({ e: d.e, a: d.a.startsWith(':') ? d.a.slice(1) : d.a, v: d.v, added: true })) });
    const wanted = new Set(want.map((o) => datomKey(o.e, o.a!, o.v!)));
    const have = new Set<string>();
    const ops: Array<Omit<Op, 'id' | 'tx'>> = [];
    const prefix = this.replica + '.';
    const assertedOne = new Set(want.filter((o) => !schema.get(o.a!).many).map((o) => o.e + '\u0000' + o.a));
    for (const d of this.node.state.merged.datoms()) {
      if (!d.e.startsWith(prefix)) continue;
      const k = datomKey(d.e, d.a, d.v);
      have.add(k);
      if (wanted.has(k)) continue;
      if (schema.get(d.a).many) ops.push({ e: d.e, op: 'retract', a: d.a, v: d.v });
      else if (!assertedOne.has(d.e + '\u0000' + d.a)) ops.push({ e: d.e, op: 'retract', a: d.a });
    }
    for (const o of want) if (!have.has(datomKey(o.e, o.a!, o.v!))) ops.push(o);
    const maxTx = datoms.reduce((m, d) => Math.max(m, d.tx), 0);
    const cur = this.cursor!;
    if (ops.length > 0) {
      const base = Math.max(Date.now(), cur.ms + 1, this.node.state.maxMs + 1);
      const last = await this.append(base, this.chunks(ops));
      this.status.rows += ops.length;
      await this.save({ logId: cur.logId, lastTx: Math.max(cur.lastTx, maxTx), ms: last });
    } else if (maxTx > cur.lastTx) await this.save({ ...cur, lastTx: maxTx });
  }
}
