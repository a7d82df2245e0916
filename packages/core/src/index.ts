export * from './edn/index.js';
export * from './errors.js';
export type * from './ops/types.js';
export * from './db/index.js';
export * from './hlc/index.js';
