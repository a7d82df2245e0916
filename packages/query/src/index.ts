/**
 * `@dataloom/query` — DataScript-compatible Datalog: parser, planner and one-shot evaluator.
 * @packageDocumentation
 */
export type * from './ast.js';
export { walkClauses, bindingVars } from './ast.js';
export { parseQuery, parseRules, parseBinding, collectVars } from './parser.js';
export { type QueryErrorCode } from './errors.js';
