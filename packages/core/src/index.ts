export * from './edn/index.js';
export * from './errors.js';
export * from './ops/index.js';
export * from './db/index.js';
export * from './hlc/index.js';
export * from './results/index.js';
