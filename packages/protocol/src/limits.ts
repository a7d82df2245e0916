/**
 * Hard limits, known to both ends. The envelope limits ({@link EnvelopeLimits}) bound one
 * transaction and are part of the envelope rules (`envelope.ts`); the rest bound a connection and
 * a server process. All are per connection unless said otherwise.
 */

/** What one transaction envelope may hold. */
export interface EnvelopeLimits {
  /** Operations per transaction. */
  maxOpsPerTx: number;
  /** `cas` checks per transaction. */
  maxChecksPerTx: number;
  /** Longest string value (UTF-16 code units) in an op, including base64 text updates. */
  maxStringLength: number;
  /** Longest id (entity ids, replica ids, draft ids). */
  maxIdLength: number;
  /** Longest attribute name (and keyword value). */
  maxAttrLength: number;
}

export interface Limits extends EnvelopeLimits {
  /** Largest accepted frame in bytes; larger frames close the connection with 1009. */
  maxMessageBytes: number;
  /** Deepest JSON nesting accepted in a frame (checked on the raw text before `JSON.parse`). */
  maxDepth: number;
  /** Transactions per `push` message. */
  maxTxsPerPush: number;
  /** Token bucket: sustained messages per second per connection, and the burst size. */
  messagesPerSecond: number;
  messageBurst: number;
  /** Token bucket on incoming bytes per second per connection, and the burst size. */
  bytesPerSecond: number;
  bytesBurst: number;
  /** Bytes queued for a client before it is considered too slow and closed (1013). */
  maxBufferedBytes: number;
  /**
   * Per server process: output queued for connections that are catching up, all together. A
   * catching-up connection with output still queued waits while the total is above this, so many
   * clients reading a long log at once (after a restart, say) cannot fill the server's memory.
   */
  maxCatchupBytes: number;
  /** Open connections per server process; more are refused at the upgrade with HTTP 503. */
  maxConnections: number;
  /** A connection must say hello within this many milliseconds. */
  helloTimeoutMs: number;
  /**
   * A transaction stamped further than this in the future (server clock) is rejected
   * (`sync/clock-drift`). Trade-off: this is how long a writer whose clock runs fast can win
   * last-writer-wins over everyone else; a client whose clock is further ahead has its
   * transactions rejected until its clock is corrected. Default 30 s.
   */
  maxClockDriftMs: number;
  /** Per server process: bytes of envelope JSON the in-memory log tail keeps (older entries are read from the store). */
  maxTailBytes: number;
  /**
   * Per server process: the judging state drops superseded values after this many bytes of new
   * values (as well as after a number of ops), so its memory follows the database, not the
   * history pushed.
   */
  compactAfterBytes: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxMessageBytes: 1 << 20,
  maxDepth: 8,
  maxTxsPerPush: 200,
  maxOpsPerTx: 1000,
  maxChecksPerTx: 100,
  maxStringLength: 256 * 1024,
  maxIdLength: 128,
  maxAttrLength: 256,
  messagesPerSecond: 200,
  messageBurst: 1000,
  bytesPerSecond: 8 << 20,
  bytesBurst: 16 << 20,
  maxBufferedBytes: 16 << 20,
  maxCatchupBytes: 64 << 20,
  maxConnections: 10_000,
  helloTimeoutMs: 10_000,
  maxClockDriftMs: 30_000,
  maxTailBytes: 64 << 20,
  compactAfterBytes: 64 << 20,
});

/** Defaults overridden by `partial`; every limit must be a positive number (TypeError otherwise). */
export function resolveLimits(partial?: Partial<Limits>): Limits {
  const out = { ...DEFAULT_LIMITS, ...(partial ?? {}) };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'number' || !(v > 0)) throw new TypeError(`limits.${k} must be a positive number, got ${String(v)}`);
  }
  return out;
}
