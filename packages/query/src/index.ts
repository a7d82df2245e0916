/**
 * `@dataloom/query` — DataScript-compatible Datalog: parser, planner and one-shot evaluator.
 *
 * ```ts
 * import { createDb } from '@dataloom/core';
 * import { q } from '@dataloom/query';
 * const db = createDb().with('[{:db/id -1 :name "Ivan" :age 37}]').dbAfter;
 * q('[:find ?n . :where [?e :age 37] [?e :name ?n]]', db); // → "Ivan"
 * ```
 * @packageDocumentation
 */
export type * from './ast.js';
export { walkClauses, bindingVars } from './ast.js';
export { parseQuery, parseRules } from './parser.js';
export { parseBinding } from './parse-terms.js';
export { collectVars } from './parse-where.js';
export { q } from './q.js';
export type { QueryErrorCode } from './errors.js';
export { BUILTINS, type QueryFn } from './eval/builtins.js';
export { AGGREGATES, type AggregateFn } from './eval/aggregates.js';
