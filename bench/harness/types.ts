/**
 * The contract between benchmark suites and the runner.
 *
 * A suite file `bench/suites/<suite>.bench.ts` exports `suite` (its name) and `rows(opts)`: a list
 * of {@link RowSpec}s. Each side of a row is a *setup* function that prepares its data and returns
 * the function to time, so nothing is built for rows the filter skips, and a Dataloom setup that
 * throws (e.g. "not implemented" while the engine is being written) makes that cell `n/a` instead
 * of crashing the run.
 */

/** What the runner passes to a suite. */
export interface SuiteOptions {
  /** Data sizes (people count), from `BENCH_SIZES` (default `20000,100000`). */
  sizes: number[];
}

/** A prepared, timeable function: called many times; must not mutate shared state. */
export type Timed = () => unknown;

/**
 * What a setup returns instead of a {@link Timed} when the row times only part of each call
 * itself (e.g. a delete whose undo must not be timed): the median it measured, in ms.
 */
export interface Premeasured {
  premeasuredMs: number;
  result?: unknown;
}

export function isPremeasured(x: unknown): x is Premeasured {
  return typeof x === 'object' && x !== null && typeof (x as Premeasured).premeasuredMs === 'number';
}

/** One benchmark row: the same work done by Dataloom and by the peer (DataScript). */
export interface RowSpec {
  /** Row name, e.g. `q1`. Matched with `BENCH_FILTER` as `<suite>/<name>`. */
  name: string;
  /** Size of the data the row works on (people, entities or datoms; see the suite). */
  n: number;
  /** Prepares the Dataloom side and returns the function to time. */
  dataloom: () => Timed | Premeasured | Promise<Timed | Premeasured>;
  /** Prepares the peer side and returns the function to time. */
  peer: () => Timed | Premeasured | Promise<Timed | Premeasured>;
  /**
   * Optional sanity check on one result from each side (e.g. same number of rows). Returns a
   * message when they disagree; the runner prints it and marks the row.
   */
  check?: (dataloomResult: unknown, peerResult: unknown) => string | undefined;
}

/** A suite module. */
export interface SuiteModule {
  suite: string;
  /** Peer name written to results (default `datascript`). */
  peer?: string;
  rows(opts: SuiteOptions): RowSpec[];
}

/** One line of `bench/results/<suite>.json`. Times are medians in ms; null when not available. */
export interface ResultRow {
  suite: string;
  name: string;
  n: number;
  dataloom_ms: number | null;
  peer: string;
  peer_ms: number | null;
  /** `dataloom_ms / peer_ms` (below 1: Dataloom is faster). */
  ratio: number | null;
}
