export * from './hlc.js';
export * from './clock.js';
export * from './ids.js';
