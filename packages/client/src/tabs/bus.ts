/**
 * Multi-tab coherence over `BroadcastChannel`.
 *
 * All tabs of an app open the same store (one IndexedDB database) with per-session replica ids.
 * A tab persists its own local transactions (shared outbox) and then announces them; the tab
 * that syncs with the server (the leader, see `leader.ts`) announces what it persisted from the
 * server and the acknowledgements/rejections it recorded. Receivers only merge in memory — the
 * data is already durable — so a write in one tab reaches the others' watched queries without a
 * server, and every tab's state stays a function of the same op set.
 */
import type { HlcString, TxEnvelope } from '@dataloom/core';
import type { Replica } from '../replica/replica.js';
import type { ServerCursor, WireError } from '../replica/types.js';


/** Messages between tabs. */
export type TabMessage =
  | { t: 'local'; from: string; env: TxEnvelope }
  | { t: 'remote'; from: string; envs: TxEnvelope[]; cursor: ServerCursor | null }
  | { t: 'ack'; from: string; tx: HlcString }
  | { t: 'reject'; from: string; tx: HlcString; error: WireError };

interface ChannelLike {
  postMessage(m: unknown): void;
  close(): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

export class TabBus {
  private readonly ch: ChannelLike;
  private readonly offs: Array<() => void> = [];

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
        else this.post({ t: 'reject', from: from(), tx: e.tx, error: e.error });
      }),
      replica.on('acked', (e) => this.post({ t: 'ack', from: from(), tx: e.tx })),
    );
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
        case 'ack':
          await this.replica.applyPeerAck(m.tx);
          break;
        case 'reject':
          await this.replica.applyPeerReject(m.tx, m.error);
          break;
      }
    } catch {
      /* a malformed message from another tab is ignored */
    }
  }

  close(): void {
    for (const off of this.offs) off();
    this.ch.onmessage = null;
    this.ch.close();
  }
}
