/**
 * One client connection: handshake, push → group commit → ack/reject, and streaming of the log
 * from the client's cursor. All input goes through `decodeClientMessage` first.
 *
 * Ordering: messages of a connection are handled in arrival order (one promise chain); a push's
 * envelopes are queued for commit in order and answered in order. Commits are pipelined: the
 * chain does not wait for one push to be durable before queueing the next.
 */
import { DataloomError, type TxEnvelope } from '@dataloom/core';
import { isUtf8 } from 'node:buffer';
import type { WebSocket } from 'ws';
import {
  CloseCode,
  PROTOCOL_VERSION,
  ProtocolError,
  TokenBucket,
  decodeClientMessage,
  formatCursor,
  parseCursor,
  replicaFamily,
  type DecodedClientMsg,
  type ErrorMsg,
  type HelloMsg,
  type Limits,
  type ServerMsg,
} from '@dataloom/protocol';
import type { AppendOutcome, Verdict } from './storage/types.js';
import type { ConnectionAccess, PushRefusal } from './permissions/access.js';
import type { ServerDbView, SyncNode } from './node/sync-node.js';

/** `authorizeWrite(user, tx, db)`: may the authenticated `user` write `tx`? Throw a DataloomError for a custom reason. */
export type AuthorizeWrite = (user: unknown, tx: TxEnvelope, db: ServerDbView) => boolean | Promise<boolean>;

/**
 * The checks a write of `user` gets before it is judged, for a client's push and for a back-end
 * write made as the user alike (`sources/transact.ts`): the permission layer's (`check`: replica
 * binding, `cas` on what the user may not read, drafts), then the app's `authorizeWrite` hook.
 */
export async function writeRefusal(
  user: unknown,
  env: TxEnvelope,
  check: ((env: TxEnvelope) => PushRefusal | null | Promise<PushRefusal | null>) | null,
  ctx: { node: SyncNode; authorizeWrite?: AuthorizeWrite | undefined },
  onError?: (err: unknown) => void,
): Promise<Extract<Verdict, { ok: false }> | null> {
  const no = (code: string, message: string, data?: Record<string, unknown>): Extract<Verdict, { ok: false }> => ({ ok: false, code, message, ...(data ? { data } : {}) });
  const refused = check ? await check(env) : null;
  if (refused) return no(refused.code, refused.message, refused.data);
  const hook = ctx.authorizeWrite;
  if (!hook) return null;
  try {
    if (await hook(user, env, ctx.node.view)) return null;
    return no('sync/forbidden', 'write not permitted');
  } catch (e) {
    if (e instanceof DataloomError) return no(e.code, e.message, e.toWire().data);
    onError?.(e);
    return no('sync/forbidden', 'write permission check failed');
  }
}

export interface ConnectionContext {
  node: SyncNode;
  limits: Limits;
  authorizeWrite?: AuthorizeWrite;
  /** What this connection's user may receive and push (drafts, permission rules); without it, everything. */
  access?: ConnectionAccess;
  /** Let clients transact schema attributes (`db/ident`, `db/valueType`, …). Default false. */
  allowClientSchemaChanges?: boolean;
  /** The client offered `ACKS_FEATURE`: answer consecutive acknowledgements of a push with one `acks` message. */
  batchAcks?: boolean;
  onError?: (err: unknown) => void;
}

/** One `ops` page: at most this many entries and about this many bytes of envelope JSON. */
const PAGE_ENTRIES = 500;
const PAGE_BYTES = 256 * 1024;
/** How long output may stay above the high-water mark before the client is closed as too slow. */
const SLOW_MS = 30_000;

export class Connection {
  private replica: string | null = null;
  /** Log position the client is known to hold (-1 before hello). */
  private sentPos = -1;
  private pumping = false;
  private pumpAgain = false;
  /** Tx ids pushed on this connection that the stream should not echo back. */
  private readonly pushed = new Set<string>();
  private readonly msgBucket: TokenBucket;
  private readonly byteBucket: TokenBucket;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly helloTimer: ReturnType<typeof setTimeout>;
  private readonly offNew: () => void;

  constructor(private readonly ws: WebSocket, readonly user: unknown, private readonly ctx: ConnectionContext) {
    const l = ctx.limits;
    this.msgBucket = new TokenBucket(l.messagesPerSecond, l.messageBurst);
    this.byteBucket = new TokenBucket(l.bytesPerSecond, l.bytesBurst);
    this.helloTimer = setTimeout(() => {
      if (this.replica === null) this.fatal(new ProtocolError('protocol/no-hello', `no hello within ${l.helloTimeoutMs} ms`));
    }, l.helloTimeoutMs);
    this.offNew = ctx.node.onNew(() => void this.pump());
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer | Buffer[] | ArrayBuffer, isBinary));
    ws.on('close', () => this.dispose());
    ws.on('error', () => this.dispose());
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private disposed = false;
  private dispose(): void {
    this.closed = true;
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.helloTimer);
    this.offNew();
    this.ctx.access?.close();
    this.pushed.clear();
    this.backlog.length = 0;
  }

  private onMessage(data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): void {
    if (this.closed) return;
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (!this.msgBucket.take(1) || !this.byteBucket.take(buf.length)) {
      this.fatal(new ProtocolError('protocol/rate-limit', 'rate limit exceeded', { messagesPerSecond: this.ctx.limits.messagesPerSecond }));
      return;
    }
    if (isBinary) {
      this.fatal(new ProtocolError('protocol/binary', 'binary frames are not part of the protocol; send JSON text'));
      return;
    }
    if (!isUtf8(buf)) {
      this.fatal(new ProtocolError('protocol/invalid-utf8', 'text frame is not valid UTF-8', {}, CloseCode.invalidData));
      return;
    }
    let msg: DecodedClientMsg;
    try {
      msg = decodeClientMessage(buf.toString('utf8'), buf.length, this.ctx.limits);
    } catch (e) {
      this.fatal(e instanceof ProtocolError ? e : new ProtocolError('protocol/invalid-message', String(e)));
      return;
    }
    this.chain = this.chain.then(() => this.handle(msg)).catch((e) => this.internal(e));
  }

  private async handle(msg: DecodedClientMsg): Promise<void> {
    if (this.closed) return;
    switch (msg.t) {
      case 'hello':
        return this.hello(msg);
      case 'push':
        return this.push(msg);
      case 'scope':
        if (this.replica === null) throw new ProtocolError('protocol/no-hello', 'scope before hello');
        this.ctx.access?.setScope(msg.v, msg.scopes);
        return;
      case 'ping':
        this.send({ t: 'pong', n: msg.n });
        return;
    }
  }

  private async hello(msg: HelloMsg): Promise<void> {
    if (this.replica !== null) throw new ProtocolError('protocol/duplicate-hello', 'hello sent twice');
    if (msg.v !== PROTOCOL_VERSION) {
      throw new ProtocolError('protocol/version', `protocol version ${msg.v} is not supported (server speaks ${PROTOCOL_VERSION})`, { supported: [PROTOCOL_VERSION] });
    }
    const node = this.ctx.node;
    const parsed = parseCursor(msg.cursor);
    // A cursor of another log (deleted and recreated, another server) means nothing here: start over.
    let reset = parsed.log !== null && parsed.log !== node.logId;
    let cursor = reset ? 0 : parsed.pos;
    if (cursor > node.head) await node.refresh();
    // Ahead of this log: it lost entries the client saw (a restore from a backup), or a bare
    // position of another server's log. What the client holds past the head is another history: the same reset.
    if (cursor > node.head) {
      reset = true;
      cursor = 0;
    }
    // another node may have compacted the shared log
    if (cursor > 0 && node.store.kind !== 'sqlite') await node.refreshHorizon();
    clearTimeout(this.helloTimer);
    this.replica = msg.replica;
    this.sentPos = cursor;
    const l = this.ctx.limits;
    this.send({
      t: 'welcome',
      v: PROTOCOL_VERSION,
      node: node.serverReplica,
      head: formatCursor(node.logId, node.head),
      ...(reset ? { reset: true } : {}),
      ...(this.ctx.access?.filters ? { filters: true } : {}),
      limits: {
        maxMessageBytes: l.maxMessageBytes,
        maxTxsPerPush: l.maxTxsPerPush,
        maxOpsPerTx: l.maxOpsPerTx,
        maxChecksPerTx: l.maxChecksPerTx,
        maxStringLength: l.maxStringLength,
        maxIdLength: l.maxIdLength,
        maxAttrLength: l.maxAttrLength,
        messagesPerSecond: l.messagesPerSecond,
        messageBurst: l.messageBurst,
        bytesPerSecond: l.bytesPerSecond,
        bytesBurst: l.bytesBurst,
      },
    });
    // what start sends (a bootstrap can be large) waits in the backlog the pump drains at the pace of the socket
    this.holding = true;
    let from: number | undefined;
    try {
      from = this.ctx.access?.start(() => this.sentPos, (frame) => this.sendRaw(frame), { scopes: msg.scopes, held: msg.held });
    } finally {
      this.holding = false;
    }
    if (from !== undefined) this.sentPos = from;
    else if (cursor < node.horizon) throw new ProtocolError('sync/compacted', `cursor ${cursor} is below the retention horizon ${node.horizon}`, { cursor, horizon: node.horizon });
    void this.pump();
  }

  private async push(msg: Extract<DecodedClientMsg, { t: 'push' }>): Promise<void> {
    if (this.replica === null) throw new ProtocolError('protocol/no-hello', 'push before hello');
    const pending: Array<Promise<AppendOutcome>> = [];
    for (const item of msg.txs) {
      const env = 'refused' in item ? item.env : item;
      // An envelope breaking the rules (not even well-formed) is refused on its own; the connection stays.
      if (!env) {
        const r = item as Extract<typeof item, { refused: true }>;
        pending.push(Promise.resolve({ tx: r.tx, status: 'rejected', code: r.code, message: r.message, data: r.data }));
        continue;
      }
      const foreign = this.foreign(env);
      if (foreign) {
        pending.push(Promise.resolve(foreign));
        continue;
      }
      // Refused over a limit or by a permission check, a well-formed envelope still goes to the log's
      // append loop: a stored duplicate (a re-push after a lost ack, from before the refusal applied)
      // is acknowledged, and a refusal is recorded like the judge's, so every copy gets one verdict.
      const refusal: Verdict | null = 'refused' in item ? { ok: false, code: item.code, message: item.message, data: item.data } : await this.refusal(env);
      if (!refusal) this.pushed.add(env.tx);
      pending.push(this.ctx.node.submit(env, this.user, refusal ?? undefined));
    }
    // Answer when durable, without holding up the next message.
    const envs = new Map<string, TxEnvelope>();
    for (const item of msg.txs) {
      const env = 'refused' in item ? item.env : item;
      if (env) envs.set(env.tx, env);
    }
    void Promise.all(pending).then(
      (outcomes) => {
        // Answers keep push order; with batchAcks, a run of acknowledgements is one `acks` message.
        let run: Array<{ tx: string; pos: string }> = [];
        const flushRun = () => {
          if (run.length === 1) this.send({ t: 'ack', tx: run[0]!.tx, pos: run[0]!.pos });
          else if (run.length > 1) this.send({ t: 'acks', acks: run });
          run = [];
        };
        for (const o of outcomes) {
          if (o.status === 'rejected') {
            flushRun();
            this.pushed.delete(o.tx);
            const r = this.ctx.access?.redact(o) ?? o;
            this.send({ t: 'reject', tx: r.tx, code: r.code, message: r.message, ...(r.data ? { data: r.data } : {}) });
          } else {
            if (o.pos <= this.sentPos) this.pushed.delete(o.tx);
            run.push({ tx: o.tx, pos: String(o.pos) });
            if (!this.ctx.batchAcks) flushRun();
          }
        }
        flushRun();
        // what the client wrote outside what it may hold now leaves it, like everything else there
        const accepted = outcomes.flatMap((o) => (o.status === 'rejected' ? [] : [envs.get(o.tx)!].filter(Boolean)));
        if (accepted.length) this.ctx.access?.acknowledged(accepted);
        void this.pump();
      },
      (err) => {
        this.ctx.onError?.(err);
        this.fatal(new ProtocolError('sync/unavailable', 'storage is unavailable; retry later', {}, CloseCode.tryAgainLater));
      },
    );
  }

  /** A transaction of another replica (not of this replica's family): refused at once. */
  private foreign(env: TxEnvelope): AppendOutcome | null {
    if (env.replica === this.replica || (this.replica !== null && replicaFamily(env.replica) === replicaFamily(this.replica))) return null;
    return { tx: env.tx, status: 'rejected', code: 'sync/replica-mismatch', message: `transaction of replica ${env.replica} pushed by replica ${this.replica}` };
  }

  /** Checks before judging: schema changes, the connection's access rules and the app's write permission. */
  private async refusal(env: TxEnvelope): Promise<Verdict | null> {
    const no = (code: string, message: string, data?: Record<string, unknown>): Verdict => ({ ok: false, code, message, ...(data ? { data } : {}) });
    if (!this.ctx.allowClientSchemaChanges) {
      // Every op form: schema attributes, and retractEntity of an attribute's entity.
      const op = env.ops.find((o) => this.ctx.node.state.touchesSchema(o));
      if (op) {
        const what = op.a !== undefined ? `:${op.a}` : `retractEntity of schema entity ${op.e}`;
        return no('sync/schema-forbidden', `clients may not change the schema (${what}); start the server with the new schema`, { op: op.id });
      }
    }
    const access = this.ctx.access;
    return writeRefusal(this.user, env, access ? (e) => access.checkPush(e) : null, this.ctx, this.ctx.onError);
  }

  /** Stream log entries after `sentPos` until caught up. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    let slowSince = 0;
    const reader = { buffered: () => this.ws.bufferedAmount };
    this.ctx.node.readers.add(reader);
    try {
      do {
        this.pumpAgain = false;
        while (!this.closed && this.sentPos >= 0 && (this.backlog.length > 0 || this.sentPos < this.ctx.node.head)) {
          const own = this.ws.bufferedAmount;
          // this client is slow: wait (and close it if it stays so); the server is crowded: wait
          // while this connection still has output queued (someone always makes progress)
          const slow = own > this.ctx.limits.maxBufferedBytes / 4;
          if (slow || (own > 0 && this.ctx.node.readersBuffered() > this.ctx.limits.maxCatchupBytes)) {
            if (slow) {
              slowSince ||= Date.now();
              if (Date.now() - slowSince > SLOW_MS) return this.slow();
            } else slowSince = 0;
            await new Promise((r) => setTimeout(r, 10));
            continue;
          }
          slowSince = 0;
          if (this.backlog.length > 0) {
            const next = this.backlog[0]!;
            if (typeof next === 'string') {
              this.backlog.shift();
              this.ws.send(next);
            } else {
              // a lazily made frame reads the state: only what is committed (SyncNode.whenCommitted)
              const uncommitted = this.ctx.node.whenCommitted();
              if (uncommitted) {
                await uncommitted;
                continue;
              }
              const r = next.next();
              if (r.done) this.backlog.shift();
              else this.ws.send(r.value);
            }
            await new Promise<void>((r) => setImmediate(r));
            continue;
          }
          if (this.sentPos < this.ctx.node.horizon) {
            // the log was compacted past this connection while it caught up: never a gap — the
            // client reconnects and is bootstrapped from a snapshot (bootstrap.ts)
            this.fatal(new ProtocolError('sync/compacted', `the log below ${this.ctx.node.horizon} was compacted while this connection read it; reconnect`, { horizon: this.ctx.node.horizon }, CloseCode.tryAgainLater));
            return;
          }
          const entries = await this.ctx.node.read(this.sentPos, PAGE_ENTRIES, PAGE_BYTES);
          if (entries.length === 0 || this.closed) break;
          const parts: string[] = [];
          let last = this.sentPos;
          for (const e of entries) {
            last = e.pos;
            if (this.pushed.delete(e.tx)) continue;
            const json = this.ctx.access ? this.ctx.access.filter(e) : e.json;
            if (json === null) continue;
            parts.push(`{"pos":"${e.pos}","env":${json}}`);
          }
          this.sentPos = last;
          this.sendRaw(`{"t":"ops","txs":[${parts.join(',')}],"cursor":"${this.ctx.node.logId}:${last}","more":${last < this.ctx.node.head}}`);
          // One page at a time: other connections (pushes, acks, their pages) run in between.
          if (last < this.ctx.node.head) await new Promise<void>((r) => setImmediate(r));
        }
      } while (this.pumpAgain && !this.closed);
    } catch (e) {
      this.internal(e);
    } finally {
      this.ctx.node.readers.delete(reader);
      this.pumping = false;
    }
  }

  private send(msg: ServerMsg): void {
    this.sendRaw(JSON.stringify(msg));
  }

  /**
   * Frames waiting for the pump, sent before anything else, in order: what `hello` sends, and
   * lazily made frames (a bootstrap, `permissions/bootstrap.ts`) taken one at a time as the socket
   * drains.
   */
  private readonly backlog: Array<string | Iterator<string>> = [];
  private holding = false;

  private sendRaw(s: string | Iterable<string>): void {
    if (this.closed) return;
    if (typeof s !== 'string') {
      this.backlog.push(s[Symbol.iterator]());
      if (!this.holding) void this.pump();
      return;
    }
    if (this.holding || this.backlog.length > 0) {
      this.backlog.push(s);
      return;
    }
    this.ws.send(s);
    if (this.ws.bufferedAmount > this.ctx.limits.maxBufferedBytes) this.slow();
  }

  private slow(): void {
    this.fatal(new ProtocolError('protocol/slow-consumer', 'client does not read fast enough: output buffer full', { maxBufferedBytes: this.ctx.limits.maxBufferedBytes }, CloseCode.tryAgainLater));
    // A client that does not read will not read the close frame either.
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }

  private internal(e: unknown): void {
    if (e instanceof ProtocolError) return this.fatal(e);
    this.ctx.onError?.(e);
    this.fatal(new ProtocolError('sync/internal', 'internal server error', {}, CloseCode.internal));
  }

  /** Send an error message and close with the error's close code. */
  fatal(err: ProtocolError): void {
    if (this.closed) return;
    const m: ErrorMsg = { t: 'error', code: err.code, message: err.message, data: err.toWire().data, fatal: true };
    try {
      this.ws.send(JSON.stringify(m));
      this.ws.close(err.close, truncateReason(`${err.code}: ${err.message}`));
    } catch {
      this.ws.terminate();
    }
    this.dispose();
  }
}

/** Close reasons are limited to 123 bytes of UTF-8. */
function truncateReason(s: string): string {
  let out = s;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}
