/**
 * Built-in predicates and functions, shared with the one-shot engine: the `BUILTINS` table of
 * `@dataloom/query` (DataScript's `datascript.built-ins`), so both engines agree on every
 * function's semantics.
 */
import { BUILTINS } from '@dataloom/query';

export type Fn = (...args: unknown[]) => unknown;

/** The built-in function named `name`, or undefined. */
export function builtinFn(name: string): Fn | undefined {
  return BUILTINS.get(name) as Fn | undefined;
}
