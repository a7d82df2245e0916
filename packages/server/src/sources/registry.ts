/**
 * The sources a server runs (`createServer({ sources })`), started after the node, stopped before
 * it; `server.sources()` reports each one's state, lag and last error. Every source writes as its
 * own replica (`src_<name>`), so history can tell its transactions apart; with `as: user` in its
 * configuration the write rules judge them as that user's (otherwise a source is trusted).
 *
 * A configuration with `postgres` is a PostgreSQL source (`postgres/`); one with `txLog` or
 * `datascript` a DataScript/Datomic transaction-log source (`txlog/`).
 */
import { DataloomError } from '@dataloom/core';
import type { EnvelopeLimits } from '@dataloom/protocol';
import type { SyncNode } from '../node/sync-node.js';
import { PostgresSource, type PostgresSourceConfig } from './postgres/source.js';
import type { RunningSource, SourceStatus } from './status.js';
import { TxLogSource, type TxLogSourceConfig } from './txlog/source.js';

export type SourceConfig = PostgresSourceConfig | TxLogSourceConfig;

export class Sources {
  private readonly list: RunningSource[] = [];

  constructor(node: SyncNode, configs: readonly SourceConfig[], limits: EnvelopeLimits, onError: (e: unknown) => void) {
    const names = new Set<string>();
    for (const cfg of configs) {
      let s: RunningSource;
      if ('postgres' in cfg) s = new PostgresSource(node, cfg, limits, onError);
      else if ('txLog' in cfg || 'datascript' in cfg) s = new TxLogSource(node, cfg, limits, onError);
      else throw new DataloomError('source/config', 'a source needs `postgres: <url>`, `txLog: <file>` or `datascript: { conn, api }`', {});
      if (names.has(s.name)) throw new DataloomError('source/config', `two sources named ${s.name}`, { source: s.name });
      names.add(s.name);
      this.list.push(s);
    }
  }

  start(): void {
    for (const s of this.list) s.start();
  }

  statuses(): SourceStatus[] {
    return this.list.map((s) => s.snapshotStatus());
  }

  async stop(): Promise<void> {
    await Promise.all(this.list.map((s) => s.stop()));
  }
}
