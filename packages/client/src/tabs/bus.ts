/**
 * Multi-tab coherence over `BroadcastChannel`.
 *
 * All tabs of an app open the same store (one IndexedDB database) with per-session replica ids.
 * A tab persists its own local transactions (shared outbox) and then announces them; the tab
 * that syncs with the server (the leader, see `leader.ts`) announces what it persisted from the
 * server, the acknowledgements/rejections it recorded and the ops it dropped (a purge, a reset to
 * another log). Receivers only merge in memory — the
 * data is already durable — so a write in one tab reaches the others' watched queries without a
 * server, and every tab's state stays a function of the same op set.
 */
import type { HlcString, TxEnvelope } from '@dataloom/core';
import type { Replica } from '../replica/replica.js';
import type { ServerCursor, WireError } from '../replica/types.js';
import type { SyncStatus } from '../sync/index.js';


/** Messages between tabs. */
export type TabMessage =
  | { t: 'local'; from: string; env: TxEnvelope }
  | { t: 'remote'; from: string; envs: TxEnvelope[]; cursor: ServerCursor | null }
  | { t: 'ack'; from: string; tx: HlcString }
  | { t: 'reject'; from: string; tx: HlcString; error: WireError }
  /** The syncing tab dropped ops from the store (a purge; `reset`: another log, the cursor cleared). */
  | { t: 'dropped'; from: string; ops: string[]; drafts: Array<[string, HlcString]>; reset: boolean }
  /** The leader's sync status (the other tabs sync through it), on each change and on request. */
  | { t: 'status'; from: string; status: SyncStatus }
  | { t: 'status?'; from: string }
  /** A tab switched the replica offline / back online (`client.setOffline`): every tab follows. */
  | { t: 'offline'; from: string; offline: boolean };

interface ChannelLike {
  postMessage(m: unknown): void;
  close(): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

export class TabBus {
  private readonly ch: ChannelLike;
  private readonly offs: Array<() => void> = [];
  private readonly statusFns = new Set<(s: SyncStatus) => void>();
  private readonly requestFns = new Set<() => void>();
  private readonly offlineFns = new Set<(offline: boolean) => void>();

  constructor(
    channelName: string,
    private readonly replica: Replica,
  ) {
    const BC = (globalThis as { BroadcastChannel?: new (n: string) => ChannelLike }).BroadcastChannel;
    if (!BC) throw new Error('BroadcastChannel is not available');
    this.ch = new BC(channelName);
    this.ch.onmessage = (ev) => void this.receive(ev.data as TabMessage);
    const from = () => replica.replicaId;
    this.offs.push(
      replica.onPersisted((e) => {
        if (e.kind === 'local') this.post({ t: 'local', from: from(), env: e.envelope });
        else if (e.kind === 'remote') this.post({ t: 'remote', from: from(), envs: e.envelopes, cursor: e.cursor });
        else if (e.kind === 'dropped') this.post({ t: 'dropped', from: from(), ops: e.ops, drafts: e.drafts, reset: e.reset });
        else this.post({ t: 'reject', from: from(), tx: e.tx, error: e.error });
      }),
      replica.on('acked', (e) => this.post({ t: 'ack', from: from(), tx: e.tx })),
    );
  }

  /** Publishes this tab's sync status (the leader does). */
  postStatus(status: SyncStatus): void {
    this.post({ t: 'status', from: this.replica.replicaId, status });
  }

  /** Asks the leader for its sync status. */
  requestStatus(): void {
    this.post({ t: 'status?', from: this.replica.replicaId });
  }

  /** Tells the other tabs that this replica works offline (or online again). */
  postOffline(offline: boolean): void {
    this.post({ t: 'offline', from: this.replica.replicaId, offline });
  }

  onOffline(fn: (offline: boolean) => void): () => void {
    this.offlineFns.add(fn);
    return () => this.offlineFns.delete(fn);
  }

  onStatus(fn: (s: SyncStatus) => void): () => void {
    this.statusFns.add(fn);
    return () => this.statusFns.delete(fn);
  }

  onStatusRequest(fn: () => void): () => void {
    this.requestFns.add(fn);
    return () => this.requestFns.delete(fn);
  }

  private post(m: TabMessage): void {
    try {
      this.ch.postMessage(m);
    } catch {
      /* closed */
    }
  }

  private async receive(m: TabMessage): Promise<void> {
    if (!m || typeof m !== 'object' || m.from === this.replica.replicaId) return;
    try {
      switch (m.t) {
        case 'local':
          await this.replica.applyPeerLocal(m.env);
          break;
        case 'remote':
          await this.replica.applyPeerRemote(m.envs, m.cursor);
          break;
        case 'dropped':
          if (Array.isArray(m.ops) && Array.isArray(m.drafts)) await this.replica.applyPeerDropped(m.ops, m.drafts, m.reset === true);
          break;
        case 'ack':
          await this.replica.applyPeerAck(m.tx);
          break;
        case 'reject':
          await this.replica.applyPeerReject(m.tx, m.error);
          break;
        case 'status':
          if (isStatus(m.status)) for (const fn of this.statusFns) fn(m.status);
          break;
        case 'status?':
          for (const fn of this.requestFns) fn();
          break;
        case 'offline':
          if (typeof m.offline === 'boolean') for (const fn of this.offlineFns) fn(m.offline);
          break;
      }
    } catch {
      /* a malformed message from another tab is ignored */
    }
  }

  close(): void {
    for (const off of this.offs) off();
    this.statusFns.clear();
    this.requestFns.clear();
    this.offlineFns.clear();
    this.ch.onmessage = null;
    this.ch.close();
  }
}

function isStatus(s: unknown): s is SyncStatus {
  const x = s as SyncStatus | null;
  return typeof x === 'object' && x !== null && typeof x.online === 'boolean' && typeof x.pending === 'number' && typeof x.state === 'string';
}
