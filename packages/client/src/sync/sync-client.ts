/**
 * The sync client: keeps a replica ({@link SyncTarget}) in sync with a Dataloom server.
 *
 * - Connects (token in the subprotocol list), says hello with the replica's cursor, and resumes
 *   after any disconnect with jittered exponential backoff.
 * - Sends the outbox in order (in pushes sized to the server's limits and paced below its rate
 *   limits: `pacing.ts`), again in full after each reconnect: the server deduplicates by tx id /
 *   op id. An envelope over the server's limits is rolled back locally instead of sent.
 * - Applies acknowledgements, rejections (replica rolls back) and streamed remote envelopes
 *   strictly in arrival order (one promise chain), each through the replica; a run of consecutive
 *   acknowledgements (separate `ack`s or one batched `acks`, which it asks for with the
 *   `dataloom.feature.acks` subprotocol entry) is applied in one step (`ackMany` when available).
 *   A streamed envelope the replica cannot apply is quarantined and skipped (`quarantine.ts`).
 * - A `welcome` with `reset` (the replica's cursor names another log) has the replica drop what
 *   came from the old log and put its own acknowledged writes back in the outbox
 *   (`SyncTarget.resetLog`) before anything of the new log is applied.
 * - Exposes {@link SyncStatus} (online, pending count, last error, last synced time),
 *   `whenSynced()` and `waitForTx(tx)` (resolves on ack, rejects with the server's error).
 */
import { DataloomError, type HlcString, type TxEnvelope } from '@dataloom/core';
import type { SyncTarget, WireError } from '../replica/types.js';
import { Backoff } from './backoff.js';
import { Pacer, pushFrames } from './pacing.js';
import { QUARANTINE_MEMORY, applyPage, type QuarantinedTx } from './quarantine.js';
import type { SyncEvent, SyncOptions, SyncStatus } from './types.js';
import { type Scope, type HelloMsg, DEFAULT_LIMITS, MAX_HELD, PROTOCOL_VERSION, clientProtocols, pushBytes, cursorPos, type ClientMsg, type Limits, type ServerMsg } from '@dataloom/protocol';
import { defaultSocketCtor, textOf, type SocketLike } from './socket.js';

/** The most entities a hello lists before the client knows whether the server filters (a later hello: `MAX_HELD`). */
const UNKNOWN_HELD = 2000;

/** How many transaction outcomes `waitForTx` remembers. */
const SETTLED_MEMORY = 1000;

interface TxWaiter {
  resolve: (r: { tx: HlcString; pos: string }) => void;
  reject: (e: DataloomError) => void;
}

export class SyncClient {
  private ws: SocketLike | null = null;
  private st: SyncStatus;
  private readonly backoff: Backoff;
  private stopped = true;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private keepAlive: ReturnType<typeof setInterval> | null = null;
  private lastHeard = 0;
  private pingN = 0;
  private chain: Promise<void> = Promise.resolve();
  /** Tx ids sent on the current connection. */
  private sent = new Set<string>();
  /** The server's limits (from `welcome`; the protocol defaults before). */
  private limits: Limits = { ...DEFAULT_LIMITS };
  private readonly quarantine: QuarantinedTx[] = [];
  /** Server head announced at welcome; synced once the stream reaches it. */
  private targetHead = -1;
  private caughtUp = false;
  private cursorReset = false;
  private readonly listeners = new Set<(e: SyncEvent) => void>();
  private readonly txWaiters = new Map<string, TxWaiter[]>();
  private syncedWaiters: Array<() => void> = [];
  private readonly offChange: () => void;
  private connectSeq = 0;

  constructor(private readonly opts: SyncOptions) {
    this.backoff = new Backoff(opts.backoff, opts.random);
    this.st = { state: 'stopped', online: false, pending: 0, lastError: null, lastSyncedAt: null, cursor: null, quarantined: 0 };
    this.offChange = opts.replica.on('change', (e) => {
      if (e.origin !== 'local') return;
      this.updatePending();
      this.scheduleFlush();
    });
    if (opts.autoStart !== false) this.start();
  }

  /** Current status (a fresh object each time it changes). */
  status(): SyncStatus {
    return this.st;
  }

  /** The last quarantined envelopes (at most 100), oldest first. */
  quarantined(): readonly QuarantinedTx[] {
    return this.quarantine;
  }

  /** Listen to status changes, rejections and errors. */
  subscribe(fn: (e: SyncEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Start (or resume) syncing. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  /** Disconnect and stop retrying. Pending transactions stay in the replica's outbox. */
  stop(): void {
    this.stopped = true;
    this.connectSeq++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.pacedTimer) clearTimeout(this.pacedTimer);
    this.pacedTimer = null;
    this.teardown(1000, 'client stopped');
    this.setStatus({ state: 'stopped', online: false });
  }

  /** Stop and detach from the replica. */
  close(): void {
    this.stop();
    this.offChange();
  }

  /** Drop the connection now and reconnect with backoff (tests, network-change events). */
  reconnect(): void {
    this.teardown(4000, 'client reconnect');
    if (!this.stopped) this.scheduleRetry();
  }

  /**
   * Resolves when the server acknowledged `tx`; rejects with the server's `DataloomError` if it
   * rejected it. Outcomes of the last {@link SETTLED_MEMORY} transactions are remembered, so a
   * late call still gets the right answer; older or unknown transactions resolve at once.
   */
  waitForTx(tx: HlcString): Promise<{ tx: HlcString; pos: string }> {
    const done = this.settled.get(tx);
    if (done) return 'error' in done ? Promise.reject(DataloomError.fromWire(done.error)) : Promise.resolve({ tx, pos: done.pos });
    if (!this.opts.replica.outbox().some((e) => e.tx === tx)) return Promise.resolve({ tx, pos: '' });
    return new Promise((resolve, reject) => {
      const list = this.txWaiters.get(tx) ?? [];
      list.push({ resolve, reject });
      this.txWaiters.set(tx, list);
    });
  }

  /** Resolves when online, the outbox is empty and the replica has caught up with the server. */
  /**
   * Replaces the scopes this client wants checked out (`[]`: everything its user may read). Sent
   * now when connected and again after every reconnect; resolves when the server answered this
   * version (its first results were sent before), rejects with the server's error for a bad query.
   */
  setScopes(scopes: readonly Scope[]): Promise<void> {
    this.scopes = [...scopes];
    const v = ++this.scopeVersion;
    this.send({ t: 'scope', v, scopes: this.scopes });
    return new Promise((resolve, reject) => this.scopeWaiters.push({ v, resolve, reject }));
  }

  private scopes: Scope[] = [];
  private scopeVersion = 0;
  /** Whether the server filters what it sends (its last `welcome`; undefined before one). */
  private serverFilters: boolean | undefined;

  /**
   * The hello: the scopes in effect (so the server filters by them from the first frame) and,
   * resuming where the server filters, the entities held — then the server sends only what
   * changed since the cursor, not everything again. Before any welcome a short list is sent.
   */
  private hello(): HelloMsg {
    const replica = this.opts.replica;
    const cursor = replica.cursor();
    const msg: HelloMsg = { t: 'hello', v: PROTOCOL_VERSION, replica: replica.replicaId, cursor };
    if (this.scopes.length > 0) msg.scopes = this.scopes;
    if (cursor !== null && (this.scopes.length > 0 || this.serverFilters !== false)) {
      const held = replica.held?.(this.serverFilters === undefined && this.scopes.length === 0 ? UNKNOWN_HELD : MAX_HELD) ?? null;
      if (held !== null) msg.held = held;
    }
    return msg;
  }
  private scopeWaiters: Array<{ v: number; resolve: () => void; reject: (e: Error) => void }> = [];

  private scoped(v: number, error?: { code: string; message: string }): void {
    const due = this.scopeWaiters.filter((w) => w.v <= v);
    this.scopeWaiters = this.scopeWaiters.filter((w) => w.v > v);
    for (const w of due) {
      if (error && w.v === v) w.reject(new DataloomError(error.code, error.message, {}));
      else w.resolve();
    }
  }

  whenSynced(): Promise<void> {
    if (this.isSynced()) return Promise.resolve();
    return new Promise((r) => this.syncedWaiters.push(r));
  }

  private flushScheduled = false;
  /**
   * Coalesce local transactions made in one burst (same task) into one push: flush on the next
   * macrotask (setImmediate in Node, a zero timeout elsewhere).
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const run = () => {
      this.flushScheduled = false;
      this.flush();
    };
    const si = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
    if (si) si(run);
    else setTimeout(run, 0);
  }

  /** Send outbox entries not yet sent on this connection (called on local transactions). */
  flush(): void {
    this.updatePending();
    if (!this.st.online || !this.ws) return;
    const fresh: TxEnvelope[] = [];
    for (const e of this.opts.replica.outbox()) {
      if (this.sent.has(e.tx)) continue;
      const bytes = pushBytes(e);
      if (bytes <= this.limits.maxMessageBytes) {
        fresh.push(e);
        continue;
      }
      // Too big for one frame of this server: it could not even be sent, so it is rolled back here
      // and the outbox moves on. (Other limits the server judges itself: it rejects the envelope,
      // or acknowledges it if the log already holds it.)
      this.sent.add(e.tx);
      const error: WireError = {
        code: 'ops/limit',
        message: `envelope: transaction too big for one push frame: got ${bytes} > ${this.limits.maxMessageBytes} (limit maxMessageBytes)`,
        data: { path: 'envelope', limit: 'maxMessageBytes', max: this.limits.maxMessageBytes, actual: bytes },
      };
      this.chain = this.chain.then(() => this.rejected(e.tx, error)).catch((x) => this.fail(toWireError(x)));
    }
    if (fresh.length > 0) this.sendTxs(fresh);
  }

  // ---- connection ----

  private async connect(): Promise<void> {
    const seq = ++this.connectSeq;
    this.setStatus({ state: 'connecting', online: false });
    try {
      await this.opts.replica.ready;
      const Ctor = this.opts.WebSocket ?? (await defaultSocketCtor());
      const tok = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token;
      if (seq !== this.connectSeq || this.stopped) return;
      const ws = new Ctor(this.opts.url, clientProtocols(tok));
      this.ws = ws;
      this.sent = new Set();
      this.openAcks = null;
      this.caughtUp = false;
      ws.onopen = () => {
        if (this.ws !== ws) return;
        this.lastHeard = Date.now();
        this.send(this.hello());
        this.startKeepAlive();
      };
      ws.onmessage = (ev) => {
        if (this.ws !== ws) return;
        this.lastHeard = Date.now();
        let msg: ServerMsg;
        try {
          msg = JSON.parse(textOf(ev.data)) as ServerMsg;
        } catch {
          return this.fail({ code: 'sync/bad-server-message', message: 'server sent invalid JSON' });
        }
        if (msg.t === 'ack' || msg.t === 'acks') {
          // Consecutive acknowledgements (one per message, or batched) are applied in one step.
          const run = msg.t === 'ack' ? [{ tx: msg.tx, pos: msg.pos }] : msg.acks;
          if (this.openAcks) {
            for (const a of run) this.openAcks.push(a);
            return;
          }
          const batch = run.slice();
          this.openAcks = batch;
          this.chain = this.chain
            .then(() => {
              if (this.openAcks === batch) this.openAcks = null;
              return this.onAcks(ws, batch);
            })
            .catch((e) => this.fail(toWireError(e)));
          return;
        }
        // Any other message ends the open run of acknowledgements: arrival order is kept.
        this.openAcks = null;
        this.chain = this.chain.then(() => this.onServerMsg(ws, msg)).catch((e) => this.fail(toWireError(e)));
      };
      ws.onclose = (ev) => {
        if (this.ws !== ws) return;
        this.ws = null;
        this.stopKeepAlive();
        if (ev.code !== 1000 && ev.code !== 4000 && !this.stopped) {
          this.setStatus({ lastError: { code: 'sync/disconnected', message: `connection closed (${ev.code}${ev.reason ? ': ' + ev.reason : ''})` } });
        }
        this.setStatus({ state: this.stopped ? 'stopped' : 'offline', online: false });
        if (!this.stopped) this.scheduleRetry();
      };
      ws.onerror = () => {
        /* followed by onclose */
      };
    } catch (e) {
      if (seq !== this.connectSeq) return;
      this.setStatus({ state: 'offline', online: false, lastError: toWireError(e) });
      if (!this.stopped) this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    this.setStatus({ state: 'offline', online: false });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped && !this.ws) void this.connect();
    }, this.backoff.next());
  }

  private teardown(code: number, reason: string): void {
    const ws = this.ws;
    this.ws = null;
    this.stopKeepAlive();
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      // Keep an error listener: closing a socket that is still connecting makes `ws` emit
      // "closed before the connection was established", which must not become uncaught.
      ws.onerror = () => {};
      try {
        ws.close(code, reason);
      } catch {
        /* already closed */
      }
      this.setStatus({ state: this.stopped ? 'stopped' : 'offline', online: false });
    }
  }

  private startKeepAlive(): void {
    const every = this.opts.keepAliveMs ?? 15_000;
    this.stopKeepAlive();
    this.keepAlive = setInterval(() => {
      const idle = Date.now() - this.lastHeard;
      if (idle > 2 * every) this.reconnect();
      else if (idle > every) this.send({ t: 'ping', n: ++this.pingN });
    }, every / 2);
    (this.keepAlive as { unref?: () => void }).unref?.();
  }

  private stopKeepAlive(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = null;
  }

  private send(msg: ClientMsg): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  /** Push envelopes in order, in frames within the server's limits, paced below its rates (`pacing.ts`); the rest goes with a later flush. */
  private sendTxs(envs: readonly TxEnvelope[]): void {
    for (const f of pushFrames(envs, this.limits)) {
      const wait = this.pace.waitMs(f.bytes);
      if (wait > 0) return this.flushLater(wait);
      this.pace.take(f.bytes);
      const ws = this.ws;
      if (!ws || ws.readyState !== 1) return;
      ws.send(f.text);
      for (const e of f.txs) this.sent.add(e.tx);
    }
  }

  private pacedTimer: ReturnType<typeof setTimeout> | null = null;
  private flushLater(ms: number): void {
    if (this.pacedTimer) return;
    this.pacedTimer = setTimeout(() => {
      this.pacedTimer = null;
      this.flush();
    }, ms);
  }

  /** Pacing of pushes below the server's rate limits (set at `welcome`). */
  private pace = new Pacer(DEFAULT_LIMITS);

  // ---- server messages ----

  /**
   * Acknowledgements received since the last other message and not yet applied: one chain step
   * applies them all (through `ackMany` when the replica has it), still in arrival order.
   */
  private openAcks: Array<{ tx: string; pos: string }> | null = null;

  private async onAcks(_ws: SocketLike, acks: ReadonlyArray<{ tx: string; pos: string }>): Promise<void> {
    // `ackMany` is optional (the Replica has it; other SyncTargets may not)
    const replica = this.opts.replica as SyncTarget & { ackMany?: (acks: ReadonlyArray<{ tx: HlcString; cursor?: string | null }>) => Promise<void> };
    if (replica.ackMany && acks.length > 1) await replica.ackMany(acks.map((a) => ({ tx: a.tx, cursor: a.pos })));
    else for (const a of acks) await replica.ack(a.tx, a.pos);
    for (const a of acks) {
      this.remember(a.tx, { pos: a.pos });
      this.settle(a.tx, (w) => w.resolve({ tx: a.tx, pos: a.pos }));
    }
    // a later transaction went through: an earlier refusal is no longer the state of things
    // (it was reported to its transaction's `confirmed` and as a `rejected` event)
    if (acks.length > 0 && this.st.lastError) this.setStatus({ lastError: null });
    this.backoff.reset();
    this.updatePending();
  }

  /** Parts of a `readable` list received so far (until its last part). */
  private readableParts: { es: Set<string>; attrs: Set<string> } | null = null;

  private async onServerMsg(ws: SocketLike, msg: ServerMsg): Promise<void> {
    const replica = this.opts.replica;
    switch (msg.t) {
      case 'welcome':
        if (this.ws !== ws) return;
        this.readableParts = null;
        this.limits = { ...DEFAULT_LIMITS, ...msg.limits };
        this.pace = new Pacer(this.limits);
        this.opts.replica.serverLimits?.(msg.limits);
        this.targetHead = cursorPos(msg.head);
        this.cursorReset = msg.reset === true;
        // another log: what came from the old one goes, own writes go back to the outbox (`resetLog`)
        if (this.cursorReset && replica.resetLog) {
          await replica.resetLog();
          if (this.ws !== ws) return;
          this.cursorReset = false;
        }
        this.serverFilters = msg.filters === true;
        // a new session: errors of the previous one (a dropped connection, …) are over
        this.setStatus({ state: 'online', online: true, lastError: null });
        this.checkCaughtUp();
        if (this.scopeVersion > 0) this.send({ t: 'scope', v: this.scopeVersion, scopes: this.scopes });
        this.flush();
        return;
      case 'ack':
      case 'acks':
        return this.onAcks(ws, msg.t === 'ack' ? [msg] : msg.acks);
      case 'reject':
        return this.rejected(msg.tx, { code: msg.code, message: msg.message, ...(msg.data ? { data: msg.data } : {}) });
      case 'ops':
        await applyPage(replica, msg.txs, msg.cursor, (x, e) => this.quarantineOne(x, e));
        // progress: the next disconnect starts its backoff afresh
        this.backoff.reset();
        this.cursorReset = false;
        this.setStatus({ cursor: msg.cursor });
        if (!msg.more) this.checkCaughtUp();
        return;
      case 'drop':
        await replica.purge?.(msg.es, msg.attrs ?? []);
        return;
      case 'scoped':
        this.scoped(msg.v, msg.error);
        return;
      case 'readable': {
        const acc = (this.readableParts ??= { es: new Set(), attrs: new Set() });
        for (const e of msg.es) acc.es.add(e);
        for (const [e, a] of msg.attrs) acc.attrs.add(e + '\u0000' + a);
        if (msg.more) return;
        this.readableParts = null;
        await replica.retain?.(acc.es, acc.attrs);
        return;
      }
      case 'pong':
        return;
      case 'error': {
        const error: WireError = { code: msg.code, message: msg.message, ...(msg.data ? { data: msg.data } : {}) };
        this.emit({ type: 'error', error });
        this.setStatus({ lastError: error });
        return;
      }
      default:
        return;
    }
  }

  /** The server (or this client, for its own limits) refused `tx`: roll it back and move on. */
  private async rejected(tx: string, error: WireError): Promise<void> {
    // remembered first: the rollback takes `tx` out of the outbox, and a `waitForTx` called while
    // it runs must not take a transaction that is no longer pending for an accepted one
    this.remember(tx, { error });
    await this.opts.replica.reject(tx, error);
    this.settle(tx, (w) => w.reject(DataloomError.fromWire(error)));
    this.emit({ type: 'rejected', tx, error });
    this.setStatus({ lastError: error });
    this.updatePending();
  }

  private quarantineOne(x: { pos: string; env: unknown }, e: unknown): void {
    const tx = typeof (x.env as { tx?: unknown } | null)?.tx === 'string' ? String((x.env as { tx: string }).tx).slice(0, 200) : '';
    const entry: QuarantinedTx = { pos: String(x.pos), tx, error: toWireError(e), env: x.env };
    this.quarantine.push(entry);
    if (this.quarantine.length > QUARANTINE_MEMORY) this.quarantine.shift();
    const error: WireError = { code: 'sync/quarantined', message: `envelope at position ${entry.pos} cannot be applied and was set aside: ${entry.error.message}`, data: { pos: entry.pos, tx, cause: entry.error.code } };
    this.emit({ type: 'quarantined', entry });
    this.setStatus({ quarantined: this.st.quarantined + 1, lastError: error });
  }

  private checkCaughtUp(): void {
    const c = cursorPos(this.opts.replica.cursor());
    // After a reset (the replica's cursor named another log) its position means nothing until the
    // first ops message of this log replaced it (a replica with `resetLog` cleared it already).
    if (this.st.online && !this.cursorReset && c >= this.targetHead) {
      this.caughtUp = true;
      this.backoff.reset();
      this.setStatus({ lastSyncedAt: Date.now(), cursor: this.opts.replica.cursor() });
    }
  }

  /** Recent outcomes (insertion-ordered, bounded) for late `waitForTx` calls. */
  private readonly settled = new Map<string, { pos: string } | { error: WireError }>();
  private remember(tx: string, outcome: { pos: string } | { error: WireError }): void {
    this.settled.set(tx, outcome);
    if (this.settled.size > SETTLED_MEMORY) this.settled.delete(this.settled.keys().next().value!);
  }

  private settle(tx: string, fn: (w: TxWaiter) => void): void {
    const list = this.txWaiters.get(tx);
    if (!list) return;
    this.txWaiters.delete(tx);
    for (const w of list) fn(w);
  }

  private updatePending(): void {
    const pending = this.opts.replica.outbox().length;
    if (pending !== this.st.pending) this.setStatus({ pending });
    else this.resolveSynced();
  }

  private isSynced(): boolean {
    return this.st.online && this.caughtUp && this.opts.replica.outbox().length === 0;
  }

  private resolveSynced(): void {
    if (this.syncedWaiters.length === 0 || !this.isSynced()) return;
    const ws = this.syncedWaiters;
    this.syncedWaiters = [];
    for (const r of ws) r();
  }

  private fail(error: WireError): void {
    this.emit({ type: 'error', error });
    this.setStatus({ lastError: error });
    this.reconnect();
  }

  private setStatus(patch: Partial<SyncStatus>): void {
    const next = { ...this.st, ...patch };
    const keys = Object.keys(patch) as Array<keyof SyncStatus>;
    if (keys.every((k) => next[k] === this.st[k])) {
      this.resolveSynced();
      return;
    }
    this.st = next;
    this.emit({ type: 'status', status: next });
    this.resolveSynced();
  }

  private emit(e: SyncEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(e);
      } catch {
        /* a listener's error must not break sync */
      }
    }
  }
}

function toWireError(e: unknown): WireError {
  if (e instanceof DataloomError) return e.toWire();
  return { code: 'sync/client', message: e instanceof Error ? e.message : String(e) };
}
