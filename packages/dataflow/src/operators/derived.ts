/**
 * A derived relation: the output of a rule operator, a recursive component, or a query.
 */
import { Arrangement } from '../arrangement/arrangement.js';
import type { RelSource } from '../ir/types.js';
import { freshId } from './operator.js';

export class DerivedRel implements RelSource {
  readonly id = freshId();
  readonly arr: Arrangement;
  /** `shared`: the arrangement of another relation with the same rows (written by its producer only). */
  constructor(
    readonly label: string,
    arity: number,
    readonly isMagic = false,
    shared?: Arrangement,
  ) {
    this.arr = shared ?? new Arrangement(arity, true);
  }
}
