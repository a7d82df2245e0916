/**
 * A sync server in its own process, for tests that SIGKILL servers. Reads a JSON config from
 * argv[2] (`{ store, port, schema?, limits? }`), prints `READY <url>` when listening.
 * Run: `TSX_TSCONFIG_PATH=test/sync/support/tsconfig.json node --import tsx server-child.ts '<json>'`.
 */
import { createServer } from '@dataloom/server';

const cfg = JSON.parse(process.argv[2]!);
const server = await createServer({ ...cfg, onError: (e: unknown) => console.error('[child]', e) });
process.stdout.write(`READY ${server.url}\n`);
process.on('SIGTERM', () => {
  server.close().then(() => process.exit(0));
});
