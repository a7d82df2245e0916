/**
 * Value order shared with the rest of Dataloom: DataScript's cross-type `compare`, from
 * `@dataloom/core`. (A thin adapter so the engine has one import site.)
 */
import { compareValues as coreCompare } from '@dataloom/core';

export function compareValues(a: unknown, b: unknown): number {
  return coreCompare(a, b);
}
