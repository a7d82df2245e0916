import { parseQuery } from '@dataloom/query';
import type { FindKind } from './row-set.js';

/**
 * The find spec kind of `query` (EDN string or data), which says how to read a view's `result()`
 * as rows. A query that does not parse is reported as `'rel'`: the engine's `watch` throws the
 * real error for it.
 */
export function findKind(query: unknown): FindKind {
  try {
    return parseQuery(query as never).find.kind;
  } catch {
    return 'rel';
  }
}
