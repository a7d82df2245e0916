/** What `server.sources()` reports for each source. */
export interface SourceStatus {
  name: string;
  kind: 'postgres' | 'txlog';
  /** `standby`: another process holds this source. */
  state: 'starting' | 'snapshot' | 'following' | 'standby' | 'error' | 'stopped';
  /** Transactions this source appended to the log (since start). */
  transactions: number;
  /** Rows (snapshot rows and row changes) written since start. */
  rows: number;
  /**
   * For the last batch written: from the change (PostgreSQL: its time on the database clock; a
   * DataScript report: its arrival) to durable in the log, in ms.
   */
  lagMs: number | null;
  /** The last read found nothing more to apply. */
  caughtUp: boolean;
  /** The last error (cleared by the next success), and how many errors since start. */
  error: { code: string; message: string; at: number } | null;
  errors: number;
}

/** What the registry needs of a running source. */
export interface RunningSource {
  readonly name: string;
  start(): void;
  stop(): Promise<void>;
  snapshotStatus(): SourceStatus;
}
