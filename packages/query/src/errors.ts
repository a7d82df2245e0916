/**
 * Error codes thrown by `@dataloom/query`. Every error is a `DataloomError` whose `data.form` holds
 * the offending form (the clause, binding, find element or the whole query) where there is one.
 *
 * | code                      | DataScript equivalent                          | when                                   |
 * |---------------------------|------------------------------------------------|----------------------------------------|
 * | `query/parse`             | `:parser/*`                                    | malformed query, clause, binding, rule |
 * | `query/unknown-vars`      | `:parser/query` "Query for unknown vars"       | find/with var bound nowhere            |
 * | `query/or-vars`           | `:query/where` "All clauses in 'or' must use…" | or branches with different free variables (those not bound before the or) |
 * | `query/unbound`           | `:query/where` "Insufficient bindings"         | predicate/fn/not on unbound variables  |
 * | `query/unknown-function`  | `:query/where` "Unknown predicate/function"    | unknown function or aggregate          |
 * | `query/unknown-rule`      | `:query/where` "Unknown rule"                  | rule call with no such rule            |
 * | `query/inputs`            | `:query/inputs`                                | wrong number of inputs for `:in`       |
 * | `query/binding`           | `:query/binding`                               | input/fn result does not fit its form  |
 * | `query/source`            | —                                              | a `$` input that is not a database     |
 * | `query/lookup-ref`        | `:lookup-ref/*`                                | lookup ref that matches nothing        |
 * | `query/call`              | —                                              | a built-in/user function threw         |
 */
import { DataloomError, printEdn } from '@dataloom/core';

export type QueryErrorCode =
  | 'query/parse'
  | 'query/unknown-vars'
  | 'query/or-vars'
  | 'query/unbound'
  | 'query/unknown-function'
  | 'query/unknown-rule'
  | 'query/inputs'
  | 'query/binding'
  | 'query/source'
  | 'query/lookup-ref'
  | 'query/call';

/** Builds a query error; `form` (when given) is printed into the message and kept in `data.form`. */
export function queryError(code: QueryErrorCode, message: string, form?: unknown, extra: Record<string, unknown> = {}): DataloomError {
  const data: Record<string, unknown> = { ...extra };
  let msg = message;
  if (form !== undefined) {
    data.form = form;
    let printed: string;
    try {
      printed = typeof form === 'string' ? form : printEdn(form);
    } catch {
      printed = String(form);
    }
    if (printed.length > 300) printed = printed.slice(0, 300) + '…';
    msg = `${message} in ${printed}`;
  }
  return new DataloomError(code, msg, data);
}
