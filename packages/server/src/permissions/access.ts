/**
 * What each connection may receive and push: one {@link NodeAccess} per server node follows the
 * committed log (drafts now, permission rules in `rules.ts`); each connection gets a
 * {@link ConnectionAccess} bound to its user, which the connection asks three things:
 *
 * - `filter(entry)`: the envelope JSON this connection may receive for a log entry, or null;
 * - `checkPush(env)`: why the user may not push this envelope, or null;
 * - `start(sentPos, send)`: after `welcome`, frames outside the stream — what the user gained
 *   sight of while away (at hello) or just now (a draft's collaborators changed), sent as `ops`
 *   frames at the connection's current cursor (envelopes apply idempotently on the client).
 *
 * Decisions are taken against the node's *current* committed state, whatever position the
 * connection's stream has reached: a connection never receives what its user may not read now.
 */
import type { GlobalId, TxEnvelope } from '@dataloom/core';
import type { SyncNode } from '../node/sync-node.js';
import type { TailEntry } from '../node/log-tail.js';
import type { LogEntry } from '../storage/types.js';
import { DraftDirectory, type DraftEntry, type DraftRefusal } from '../drafts/directory.js';
import { userIdOf, type DraftRules } from '../drafts/visibility.js';

/** A refusal of a pushed envelope (a `reject` with this code, message and data). */
export type PushRefusal = DraftRefusal;

export interface ConnectionAccess {
  filter(entry: TailEntry): string | null;
  checkPush(env: TxEnvelope): PushRefusal | null;
  start(sentPos: () => number, send: (frame: string) => void): void;
  close(): void;
}

export interface NodeAccessOptions {
  drafts?: DraftRules;
}

export class NodeAccess {
  readonly drafts: DraftDirectory;
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly node: SyncNode,
    opts: NodeAccessOptions = {},
  ) {
    this.drafts = new DraftDirectory((e, a) => node.state.merged.values(e, a), opts.drafts);
    this.offs.push(
      node.onCommitted((c) => this.drafts.note(c.pos, c.env, undefined, c.changes)),
      node.onReset((_state, entries) => this.refeed(entries)),
    );
  }

  /** The node rebuilt its state from `entries` (the whole log): follow it again. */
  private refeed(entries: readonly LogEntry[]): void {
    this.drafts.clear();
    for (const e of entries) this.drafts.note(e.pos, e.env, undefined, []);
  }

  /** The access of a connection authenticated as `user`. */
  forUser(user: unknown): ConnectionAccess {
    return new UserAccess(this, user, this.node.logId);
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
  }
}

class UserAccess implements ConnectionAccess {
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly access: NodeAccess,
    private readonly user: unknown,
    private readonly logId: string,
  ) {}

  filter(entry: TailEntry): string | null {
    return this.access.drafts.mayStream(this.user, entry.json) ? entry.json : null;
  }

  checkPush(env: TxEnvelope): PushRefusal | null {
    return this.access.drafts.checkPush(this.user, env);
  }

  start(sentPos: () => number, send: (frame: string) => void): void {
    const drafts = this.access.drafts;
    const catchUp = (only?: ReadonlySet<GlobalId>) => {
      const upTo = sentPos();
      const entries = drafts.catchUp(this.user, upTo, only);
      if (entries.length > 0) send(opsFrame(entries, `${this.logId}:${upTo}`));
    };
    // An anonymous user sees open drafts only, which are never left out of a stream.
    if (userIdOf(this.user) === null) return;
    catchUp();
    this.offs.push(drafts.onVisibility((ds) => catchUp(ds)));
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
  }
}

/** An `ops` message of stored entries, leaving the client's cursor at `cursor`. */
export function opsFrame(entries: readonly DraftEntry[], cursor: string): string {
  return `{"t":"ops","txs":[${entries.map((e) => `{"pos":"${e.pos}","env":${e.json}}`).join(',')}],"cursor":"${cursor}","more":false}`;
}
