/**
 * `@dataloom/query/internals` — what the engine packages share with the one-shot evaluator and
 * apps do not import: binding an `:in` value to its binding form with DataScript's rules
 * (`bindValue`, used by `q` and by dataflow's registered queries alike); what is known of each
 * built-in (`cannotThrow`, `DB_FNS`: the server's permission rules wrap the others). Not a stable API.
 */
export { bindValue, printBinding } from './eval/bind.js';
export type { Relation } from './eval/relation.js';
export { cannotThrow, DB_FNS } from './eval/builtins.js';
