/**
 * The sources a server runs (`createServer({ sources })`), started after the node, stopped before
 * it; `server.sources()` reports each one's state, lag and last error. Every source writes as its
 * own replica (`src_<name>`), so history and write rules can tell its transactions apart.
 */
import { DataloomError } from '@dataloom/core';
import type { EnvelopeLimits } from '@dataloom/protocol';
import type { SyncNode } from '../node/sync-node.js';
import { PostgresSource, type PostgresSourceConfig, type SourceStatus } from './postgres/source.js';

export type SourceConfig = PostgresSourceConfig;

export class Sources {
  private readonly list: PostgresSource[] = [];

  constructor(node: SyncNode, configs: readonly SourceConfig[], limits: EnvelopeLimits, onError: (e: unknown) => void) {
    const names = new Set<string>();
    for (const cfg of configs) {
      if (typeof (cfg as { postgres?: unknown }).postgres !== 'string') throw new DataloomError('source/config', 'a source needs `postgres: <url>`', {});
      const s = new PostgresSource(node, cfg, limits, onError);
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
