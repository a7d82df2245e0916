/**
 * The replica's serial queue: every mutating call runs here as one job, one job at a time, so
 * store writes, state changes and emitted batches happen in one order.
 */
import { DataloomError } from '@dataloom/core';

export class SerialQueue {
  private chain: Promise<unknown> = Promise.resolve();
  private jobs = 0;
  private queued = 0;
  /** Set by the last job (`close`): every job that starts later throws `replica/closed`. */
  closed = false;

  /** `onIdle` runs whenever the last running or waiting job finishes. */
  constructor(private readonly onIdle: () => void) {}

  /** Jobs running or waiting. */
  get size(): number {
    return this.jobs;
  }

  /** How many jobs were ever queued; a job's number is this value right after {@link run} queued it. */
  get count(): number {
    return this.queued;
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    this.jobs++;
    this.queued++;
    const job = this.chain.then(async () => {
      try {
        if (this.closed) throw new DataloomError('replica/closed', 'the replica is closed', {});
        return await fn();
      } finally {
        if (--this.jobs === 0) this.onIdle();
      }
    });
    this.chain = job.catch(() => {});
    return job;
  }
}
