/**
 * `createServer(options)`: the Dataloom sync server — a `ws` WebSocket endpoint (any path) plus
 * HTTP `GET /health` and an optional static directory, over one storage backend.
 *
 * Connection set-up (`upgrade`), in order:
 * 1. **Host and Origin** (`http/guard.ts`): a loopback-bound server answers only a loopback
 *    `Host` (DNS rebinding). An `Origin` header must be in `origins` (`'*'` allows any); with no
 *    `origins` option only loopback origins pass on a loopback bind, same-origin requests
 *    otherwise. Requests without `Origin` (non-browser clients) pass; they still need a token if
 *    `authenticate` demands one. Failure: HTTP 403.
 * 2. **Connection limit**, counted from the start of the upgrade (connections still waiting on
 *    `authenticate` count): HTTP 503.
 * 3. **Token**: from the subprotocol list (`dataloom.token.<base64url(token)>`, alongside
 *    `dataloom.v1`; what browsers can send) or else the `token` query parameter.
 * 4. **authenticate(token, req)** → a user value (anything truthy) or null/false/throw → HTTP 401.
 *    Without `authenticate` every connection is anonymous (`user = null`): development only.
 */
import { DataloomError } from '@dataloom/core';
import { schemaAsData } from '@dataloom/core/internals';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { Connection, type AuthorizeWrite } from './connection.js';
import { checkStaticDir, createHttpHandler } from './http/static.js';
import { hostAllowed, isLoopback, originAllowed } from './http/guard.js';
import { SyncNode } from './node/sync-node.js';
import { ACKS_FEATURE, CloseCode, SUBPROTOCOL, offersFeature, resolveLimits, tokenFromProtocols, type Limits } from '@dataloom/protocol';
import { openStore } from './storage/open.js';
import { ReplicaClocks, backendTransact, type TransactOptions, type TransactResult } from './sources/transact.js';
import { Sources, type SourceConfig } from './sources/registry.js';
import type { SourceStatus } from './sources/status.js';
import { NodeAccess } from './permissions/access.js';
import type { DraftRules } from './drafts/visibility.js';
import type { ServerStore } from './storage/types.js';

export interface ServerOptions {
  /** `sqlite:<file>`, `postgres://…` (optional `?namespace=`), or a store instance. */
  store: string | ServerStore;
  /** TCP port (default 8787; 0 picks a free one). */
  port?: number;
  /** Interface to bind (default `127.0.0.1`; use `0.0.0.0` to expose). */
  host?: string;
  /** Schema (EDN string, parsed map, plain object or Datomic-style vector). Written to the log as data. */
  schema?: unknown;
  /** Verifies the connection token; returns the user (truthy) or null/false to refuse (401). */
  authenticate?: (token: string | null, req: IncomingMessage) => unknown;
  /** Write-permission hook, called for every pushed transaction before it is judged and stored. */
  authorizeWrite?: AuthorizeWrite;
  /**
   * Accept client transactions on schema attributes. Default false: the schema is the one the
   * server is started with (written to the log as data, so clients receive it); changing it means
   * restarting the server with a new schema.
   */
  allowClientSchemaChanges?: boolean;
  /**
   * Who may see and edit a draft (default: an open draft — no `:draft/author` — everyone; a private
   * one its author and `:draft/collaborators`). A private draft's operations reach no one else.
   */
  drafts?: DraftRules;
  /**
   * Permission rules as Datalog (EDN text or data): `(can-read ?user ?e)`, optionally
   * `(can-read-attr ?user ?e ?a)`, and `(can-write ?user ?e)`, with `?user` bound to what
   * `authenticate` returned (a string or number, or its `id`). Rules may recurse. Each connection
   * receives only the datoms its user may read. See `permissions/rules.ts` and PROTOCOL.md.
   */
  permissions?: unknown;
  /**
   * Allowed `Origin`s for browser connections, or `'*'`. Default: loopback origins (any port) when
   * bound to a loopback host, else same origin only. A loopback-bound server also refuses requests
   * whose `Host` is not a loopback name (DNS rebinding).
   */
  origins?: readonly string[] | '*';
  limits?: Partial<Limits>;
  /** Directory served over HTTP (e.g. `demo-app/dist`); must exist (`server/static-missing`). */
  static?: string;
  /** Node id (diagnostics; default host/pid/random). */
  nodeId?: string;
  /** Poll the store head every N ms as a fan-out safety net (default 1000 for PostgreSQL, off for SQLite). */
  pollMs?: number;
  /**
   * Log compaction below a retention horizon (PROTOCOL.md "Retention"): keep the last `entries`
   * log entries and/or the entries of the last `ms` milliseconds as they were written (with both,
   * an entry is kept when either keeps it); older entries lose the ops the merge rules superseded.
   * Clients whose cursor is older are bootstrapped from a snapshot. Runs every `everyMs` (default
   * 60 000) and on {@link DataloomServer.compact}. Default: no compaction.
   */
  retention?: RetentionOptions;
  /**
   * Write a checkpoint of the committed state to the store once this many log entries were
   * committed since the last one (default 100,000), and on {@link DataloomServer.close}; a start
   * reads the checkpoint and the log after it instead of replaying the whole log. 0: never write
   * one. See `state/checkpoint.ts`.
   */
  checkpointEvery?: number;
  /** External sources feeding the log, e.g. `{ postgres: url, tables: { … } }` (see `sources/`). */
  sources?: readonly SourceConfig[];
  /** Called with unexpected internal errors (default: `console.error`). */
  onError?: (err: unknown) => void;
}

export interface RetentionOptions {
  entries?: number;
  ms?: number;
  everyMs?: number;
}

export interface DataloomServer {
  /** WebSocket URL clients connect to, e.g. `ws://127.0.0.1:8787/`. */
  url: string;
  /** HTTP base URL (health, static files). */
  httpUrl: string;
  port: number;
  nodeId: string;
  /** Highest log position this node has applied. */
  head(): number;
  /** Number of open client connections. */
  connections(): number;
  /**
   * Trusted back-end write: transaction data as clients write it (entity maps, tempids, lookup
   * refs, `:db/cas`, …), validated by the schema (and by the write rules and `authorizeWrite` when
   * `as` names a user),
   * stamped by this node's server replica, appended and synced to every client. Resolves once
   * durable, with the log position; rejects with a typed `DataloomError` and writes nothing.
   */
  transact(tx: unknown, opts?: TransactOptions): Promise<TransactResult>;
  /** State, lag and last error of each configured source. */
  sources(): SourceStatus[];
  /**
   * Compacts the log now, below the horizon `retention` gives (or, when given, `horizon` itself);
   * resolves with the horizon in effect. See {@link ServerOptions.retention}.
   */
  compact(horizon?: number): Promise<number>;
  /** Close every connection (1001), stop listening and release the store. */
  close(): Promise<void>;
}

export async function createServer(options: ServerOptions): Promise<DataloomServer> {
  const limits = resolveLimits(options.limits);
  const retention = checkRetention(options.retention);
  const every = options.checkpointEvery;
  if (every !== undefined && (typeof every !== 'number' || !Number.isSafeInteger(every) || every < 0)) {
    throw new DataloomError('server/bad-option', `checkpointEvery must be a non-negative integer (log entries), got ${JSON.stringify(every)}`, { field: 'checkpointEvery' });
  }
  if (options.static !== undefined) checkStaticDir(options.static);
  const store = openStore(options.store);
  const nodeId = options.nodeId ?? `${hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const onError = options.onError ?? ((e: unknown) => console.error('[dataloom]', e));
  const node = new SyncNode(store, {
    nodeId,
    maxClockDriftMs: limits.maxClockDriftMs,
    tailBytes: limits.maxTailBytes,
    compactBytes: limits.compactAfterBytes,
    schema: schemaAsData(options.schema),
    pollMs: options.pollMs ?? (store.kind === 'postgres' ? 1000 : 0),
    checkpointEvery: options.checkpointEvery,
  });
  const access = new NodeAccess(node, { drafts: options.drafts, permissions: options.permissions, onError });
  const sources = new Sources(node, options.sources ?? [], limits, onError); // checks the configuration
  await node.start();

  const conns = new Set<Connection>();
  const wss = new WebSocketServer({
    noServer: true,
    // Frames up to 2× the limit reach the decoder, which closes with 1009 *and* an error message
    // saying what the limit is; bigger ones are cut off by ws itself (1009, no reason).
    maxPayload: limits.maxMessageBytes * 2,
    perMessageDeflate: false,
    // checked by the connection, which answers with a typed error (1007 protocol/invalid-utf8)
    skipUTF8Validation: true,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  const boundLoopback = isLoopback(options.host ?? '127.0.0.1');
  /** Upgrades under way (Origin, authenticate): counted against `maxConnections` with the open ones. */
  let upgrading = 0;
  const handler = createHttpHandler({
    staticDir: options.static,
    // Details only for whom `authenticate` accepts (or anyone, on a server without it).
    health: async (req) => ((await authorized(req)) ? { ok: true, node: nodeId, store: store.kind, head: node.head, connections: conns.size, catchupBytes: node.readersBuffered() } : { ok: true }),
  });
  const authorized = async (req: IncomingMessage): Promise<boolean> => {
    if (!options.authenticate) return true;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? null;
    try {
      return !!(await options.authenticate(bearer ?? tokenOf(req), req));
    } catch {
      return false;
    }
  };
  const http = createHttpServer((req, res) => {
    if (!hostAllowed(req, boundLoopback)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('host not allowed');
      return;
    }
    handler(req, res);
  });

  const alive = new WeakMap<WebSocket, boolean>();
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, 30_000);
  heartbeat.unref();

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!hostAllowed(req, boundLoopback)) return refuse(socket, 403, 'host not allowed');
    if (!originAllowed(req, options.origins, boundLoopback)) return refuse(socket, 403, 'origin not allowed');
    if (conns.size + upgrading >= limits.maxConnections) return refuse(socket, 503, 'too many connections');
    upgrading++;
    void (async () => {
      let user: unknown = null;
      if (options.authenticate) {
        try {
          // a hook that never answers must not hold a connection slot forever
          user = await withTimeout(Promise.resolve(options.authenticate(tokenOf(req), req)), limits.helloTimeoutMs);
        } catch (e) {
          return refuse(socket, 401, e instanceof DataloomError ? e.message : 'authentication failed');
        }
        if (!user) return refuse(socket, 401, 'authentication failed');
      }
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        alive.set(ws, true);
        ws.on('pong', () => alive.set(ws, true));
        const c = new Connection(ws, user, { node, limits, authorizeWrite: options.authorizeWrite, access: access.forUser(user), allowClientSchemaChanges: options.allowClientSchemaChanges, batchAcks: offersFeature(req.headers['sec-websocket-protocol'], ACKS_FEATURE), onError });
        conns.add(c);
        ws.on('close', () => conns.delete(c));
      });
    })()
      .catch((e) => {
        onError(e);
        refuse(socket, 500, 'internal error');
      })
      // refused, or handed over (`handleUpgrade` calls back synchronously: it is in `conns` now)
      .finally(() => upgrading--);
  });

  const port = await new Promise<number>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      const addr = http.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
  const host = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : '127.0.0.1';
  const hostPart = host.includes(':') ? `[${host}]` : host;

  sources.start();
  const retentionHorizon = async (): Promise<number> => {
    if (!retention) return 0;
    const byEntries = retention.entries === undefined ? null : node.head - retention.entries;
    const byAge = retention.ms === undefined ? null : await store.positionAt(Date.now() - retention.ms);
    return Math.max(0, Math.min(byEntries ?? Infinity, byAge ?? Infinity));
  };
  let compacting: Promise<number> | null = null;
  const compact = (horizon?: number): Promise<number> =>
    (compacting ??= (async () => node.compactLog(horizon ?? (await retentionHorizon())))().finally(() => (compacting = null)));
  const compactTimer = retention ? setInterval(() => void compact().catch(onError), retention.everyMs ?? 60_000) : null;
  compactTimer?.unref();
  const writer = { node, limits, authorizeWrite: options.authorizeWrite, access };
  const clocks = new ReplicaClocks(node);
  let closing: Promise<void> | null = null;
  return {
    url: `ws://${hostPart}:${port}/`,
    httpUrl: `http://${hostPart}:${port}/`,
    port,
    nodeId,
    head: () => node.head,
    connections: () => conns.size,
    transact: (tx, opts) => {
      if (closing) return Promise.reject(new DataloomError('server/closed', 'the server is closed'));
      return backendTransact(writer, clocks, node.serverReplica, tx, opts);
    },
    sources: () => sources.statuses(),
    compact: (horizon) => (closing ? Promise.reject(new DataloomError('server/closed', 'the server is closed')) : compact(horizon)),
    close: () =>
      (closing ??= (async () => {
        clearInterval(heartbeat);
        if (compactTimer) clearInterval(compactTimer);
        await compacting?.catch(() => {});
        const closed = new Promise<void>((r) => http.close(() => r()));
        for (const ws of wss.clients) ws.close(CloseCode.goingAway, 'server shutting down');
        // Give clients a moment for the close handshake, then cut whoever has not answered.
        for (let i = 0; i < 25 && wss.clients.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
        for (const ws of wss.clients) ws.terminate();
        http.closeAllConnections?.();
        await closed;
        await sources.stop();
        await node.stop();
        access.close();
      })()),
  };
}

/** The retention option, checked: `server/bad-option` saying which field is wrong. */
function checkRetention(r: RetentionOptions | undefined): RetentionOptions | null {
  if (r === undefined) return null;
  const bad = (field: string, why: string) => new DataloomError('server/bad-option', `retention.${field} ${why}`, { field: `retention.${field}` });
  if (typeof r !== 'object' || r === null) throw new DataloomError('server/bad-option', 'retention must be an object { entries?, ms?, everyMs? }', { field: 'retention' });
  for (const k of Object.keys(r)) if (k !== 'entries' && k !== 'ms' && k !== 'everyMs') throw bad(k, 'is not an option (entries, ms, everyMs)');
  for (const k of ['entries', 'ms', 'everyMs'] as const) {
    const v = r[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (k === 'everyMs' ? 1 : 0))) throw bad(k, `must be a ${k === 'everyMs' ? 'positive' : 'non-negative'} integer, got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`);
  }
  if (r.entries === undefined && r.ms === undefined) throw bad('entries', 'or retention.ms must be given');
  return r;
}

/** `p`, or a `sync/auth-timeout` DataloomError after `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const late = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new DataloomError('sync/auth-timeout', `authentication took longer than ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function refuse(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const text = { 401: 'Unauthorized', 403: 'Forbidden', 500: 'Internal Server Error', 503: 'Service Unavailable' }[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
}

/** The token from `Sec-WebSocket-Protocol` (`dataloom.token.<base64url>`) or the `token` query parameter. */
export function tokenOf(req: IncomingMessage): string | null {
  const fromProtocols = tokenFromProtocols(req.headers['sec-websocket-protocol']);
  if (fromProtocols !== null) return fromProtocols;
  try {
    return new URL(req.url ?? '/', 'http://x').searchParams.get('token');
  } catch {
    return null;
  }
}

