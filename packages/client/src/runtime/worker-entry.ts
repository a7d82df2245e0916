/** A ready-made Web Worker script: `new Worker(new URL('./worker-entry.js', import.meta.url), { type: 'module' })`. */
import { exposeClientHost } from './worker.js';

exposeClientHost();
