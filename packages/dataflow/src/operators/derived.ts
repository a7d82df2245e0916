/**
 * A derived relation: the output of a rule operator, a recursive component, or a query.
 */
import { Arrangement } from '../arrangement/arrangement.js';
import type { RelSource } from '../ir/types.js';
import { freshId } from './operator.js';

export class DerivedRel implements RelSource {
  readonly id = freshId();
  readonly arr: Arrangement;
  constructor(
    readonly label: string,
    arity: number,
    readonly isMagic = false,
  ) {
    this.arr = new Arrangement(arity);
  }
}
