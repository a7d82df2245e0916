/**
 * For checkpoint.test.ts: a sync node on the SQLite file argv[2] committing a seeded workload
 * (seed argv[3], stamps from argv[4] ms) and writing checkpoints back to back, until it is killed.
 * Prints `appended <head>` once a batch is durable and `writing` as each checkpoint starts.
 */
import { SyncNode } from '../../../packages/server/src/node/sync-node.js';
import { createSqliteStore } from '../../../packages/server/src/storage/sqlite.js';
import { mulberry32 } from '../../gen/prng.js';
import { CP_SCHEMA_DATA, Workload } from './checkpoint-workload.js';

const [file, seed, ms] = process.argv.slice(2);
const node = new SyncNode(createSqliteStore({ file: file! }), { nodeId: 'cp-child', maxClockDriftMs: 10 * 60_000, schema: CP_SCHEMA_DATA, checkpointEvery: 0 });
await node.start();
// many entities, so a checkpoint is a write of some size (about 1 MB)
const w = new Workload(mulberry32(Number(seed)), 'r1', Number(ms) - 60_000, 3000);
for (;;) {
  await Promise.all(Array.from({ length: 200 }, () => node.submit(w.next())));
  process.stdout.write(`appended ${node.head}\n`);
  process.stdout.write('writing\n');
  await node.checkpoint();
}
