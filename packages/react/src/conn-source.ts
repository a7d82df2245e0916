import { DataloomError } from '@dataloom/core';
import type { DataloomSource, LiveView, QuerySpec } from './source.js';

/** The part of a dataflow `conn` (`createConn(schema)` in `@dataloom/dataflow`) the adapter uses. */
export interface ConnLike {
  register(name: string, query: unknown, ...inputs: unknown[]): LiveView;
  transact(txData: unknown): unknown;
}

let counter = 0;

/**
 * Wraps a dataflow `conn` as a {@link DataloomSource}: `watch` registers an anonymous named query
 * (`react/view-<n>`), or, for a {@link QuerySpec} with `name`, the query under that name. A conn
 * keeps no history: `asOf`/`since` are refused (`react/unsupported`). For in-memory apps and tests
 * without the full client.
 */
export function connSource(conn: ConnLike): DataloomSource {
  return {
    watch: (query, ...inputs) => {
      if (!isSpec(query)) return conn.register(`react/view-${++counter}`, query, ...inputs);
      if (query.asOf !== undefined || query.since !== undefined) {
        throw new DataloomError('react/unsupported', 'a dataflow conn keeps no history: asOf/since need the client', {});
      }
      return conn.register(query.name ?? `react/view-${++counter}`, query.query, ...inputs);
    },
    transact: (txData) => conn.transact(txData),
  };
}

function isSpec(x: unknown): x is QuerySpec {
  return typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype && 'query' in x;
}
