import type { DataloomSource, LiveView } from './source.js';

/** The part of a dataflow `conn` (`createConn(schema)` in `@dataloom/dataflow`) the adapter uses. */
export interface ConnLike {
  register(name: string, query: unknown, ...inputs: unknown[]): LiveView;
  transact(txData: unknown): unknown;
}

let counter = 0;

/**
 * Wraps a dataflow `conn` as a {@link DataloomSource}: `watch` registers an anonymous named query
 * (`react/view-<n>`). For in-memory apps and tests without the full client.
 */
export function connSource(conn: ConnLike): DataloomSource {
  return {
    watch: (query, ...inputs) => conn.register(`react/view-${++counter}`, query, ...inputs),
    transact: (txData) => conn.transact(txData),
  };
}
