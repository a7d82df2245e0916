export * from './types.js';
export { parseEdn, parseEdnAll, type ReadOptions } from './reader.js';
export { printEdn } from './printer.js';
export { valueKey, keyedByIdentity, pairKey, tupleKey, colsKey, valueEquals, type ValueKey } from './key.js';
