export { type Diff, type FindKind, resultOf, rowsOf } from './shape.js';
export { RowSet } from './row-set.js';
