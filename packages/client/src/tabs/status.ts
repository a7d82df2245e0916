/**
 * The sync status a client reports, whichever tab it is and whether it syncs at all:
 *
 * - the tab that syncs with the server (the leader, `leader.ts`) reports its sync client's status
 *   and publishes each change to the other tabs over the tab bus;
 * - the other tabs of a syncing app (followers) report the leader's status — they sync through it —
 *   and ask for it when they open; until a leader answers they report `connecting`;
 * - a client without a server URL reports `stopped` with the transactions waiting in its outbox
 *   (they are sent the next time the app opens it with a URL);
 * - a replica switched offline (`client.setOffline(true)`, in any tab) reports `stopped` in every
 *   tab: the leader's sync client is stopped, and a follower says so before the leader answers.
 */
import type { Replica } from '../replica/replica.js';
import type { SyncClient, SyncStatus } from '../sync/index.js';
import type { TabBus } from './bus.js';

export class StatusRelay {
  private sync: SyncClient | null = null;
  private peer: SyncStatus | null = null;
  private last: SyncStatus | null = null;
  private offline = false;
  /** Whether the replica's offline choice is known yet (nothing is reported before). */
  private settled = false;
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly replica: Replica,
    private readonly bus: TabBus | null,
    private readonly syncing: boolean,
    private readonly fire: (status: SyncStatus) => void,
  ) {
    const refresh = () => this.refresh();
    this.offs.push(replica.on('change', refresh), replica.on('acked', refresh), replica.on('rejected', refresh));
    if (bus) {
      this.offs.push(
        bus.onStatus((status) => {
          if (this.sync || !this.syncing) return;
          this.peer = status;
          this.refresh();
        }),
        bus.onStatusRequest(() => {
          if (this.sync) bus.postStatus(this.sync.status());
        }),
      );
      if (syncing) bus.requestStatus();
    }
    void replica.ready.then(refresh, () => {});
  }

  /** This tab became the leader: from now on its own sync client's status is the status. */
  attach(sync: SyncClient): void {
    this.sync = sync;
    this.peer = null;
    this.offs.push(
      sync.subscribe((e) => {
        if (e.type !== 'status') return;
        this.bus?.postStatus(e.status);
        this.refresh();
      }),
    );
    this.bus?.postStatus(sync.status());
  }

  /** The replica works offline (or online again): see the module docs. */
  setOffline(offline: boolean): void {
    this.offline = offline;
    this.settled = true;
    this.refresh();
  }

  /** The current status (see the module docs). */
  current(): SyncStatus {
    if (this.sync) return this.sync.status();
    if (this.peer) return this.offline ? { ...this.peer, state: 'stopped', online: false } : this.peer;
    let pending = 0;
    try {
      pending = this.replica.outbox().length;
    } catch {
      /* not loaded yet */
    }
    return { state: this.syncing && !this.offline ? 'connecting' : 'stopped', online: false, pending, lastError: null, lastSyncedAt: null, cursor: this.replica.cursor(), quarantined: 0 };
  }

  private refresh(): void {
    if (!this.settled) return;
    const next = this.current();
    const prev = this.last;
    if (prev && prev.state === next.state && prev.online === next.online && prev.pending === next.pending && prev.lastError === next.lastError && prev.lastSyncedAt === next.lastSyncedAt) return;
    this.last = next;
    this.fire(next);
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
  }
}
