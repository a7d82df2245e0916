#!/usr/bin/env node
/**
 * `dataloom serve [--port 8787] [--host 127.0.0.1] [--store sqlite:.data/dataloom.sqlite | postgres://…]
 *                 [--static demo-app/dist] [--schema schema.edn] [--permissions rules.edn] [--token <secret>] [--origins a,b | '*']
 *                 [--retain-entries n] [--retain-ms ms]`
 *
 * `dataloom import <file> [--store …] [--schema …]` and `dataloom export [--store …] [--history]`:
 * see `sources/cli-commands.ts`.
 *
 * SQLite is the default store: zero set-up, one file. Without `--token` the server accepts
 * anonymous connections (development); with it, clients must present that token. On a host other
 * than loopback a token is required, unless `--insecure` says anonymous access is meant.
 * Environment fallbacks: PORT, HOST, DATALOOM_STORE, DATALOOM_STATIC, DATALOOM_SCHEMA, DATALOOM_TOKEN.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSchemaFile } from './schema-file.js';
import { createServer } from './server.js';
import { isLoopback } from './http/guard.js';
import { DEFAULT_LIMITS, type Limits } from '@dataloom/protocol';
import { EXPORT_USAGE, IMPORT_USAGE, readSourcesFile, runExport, runImport } from './sources/cli-commands.js';

const USAGE = `usage: dataloom <command> [options]

commands:
  serve               run the sync server (and serve a static app)
  import <file>       bulk-load transactions (EDN or JSON lines) into a store, idempotently
  export              print the current state (or --history) of a store as EDN
  --help              print this help

dataloom serve [options]
  --port <n>          TCP port (default 8787; env PORT)
  --host <addr>       interface to bind (default 127.0.0.1; env HOST)
  --store <spec>      sqlite:<file> (default sqlite:.data/dataloom.sqlite) or postgres://… (env DATALOOM_STORE)
  --static <dir>      serve this directory over HTTP, e.g. demo-app/dist (env DATALOOM_STATIC)
  --schema <file>     schema as EDN or JSON (env DATALOOM_SCHEMA)
  --permissions <file>  permission rules as EDN: (can-read ?user ?e), (can-write ?user ?e), … (env DATALOOM_PERMISSIONS)
  --sources <file>    JSON array of sources feeding the log, e.g. [{"postgres": "postgres://…", "tables": {"orders": true}}] (env DATALOOM_SOURCES)
  --token <secret>    require this token from clients (env DATALOOM_TOKEN)
  --origins <list>    comma-separated allowed Origins, or '*' (default: loopback origins on a
                      loopback host, else same origin)
  --insecure          allow anonymous clients on a non-loopback --host (default: a token is required there)
  --retain-entries <n>  compact the log below its last n entries (superseded ops removed;
                      older clients bootstrap from a snapshot; env DATALOOM_RETAIN_ENTRIES)
  --retain-ms <ms>    compact the log below the entries of the last ms milliseconds (env DATALOOM_RETAIN_MS)
  --limit <name=n>    override a limit, repeatable, e.g. --limit maxClockDriftMs=10000
                      (names and defaults: DEFAULT_LIMITS in @dataloom/protocol, PROTOCOL.md)

${IMPORT_USAGE}

${EXPORT_USAGE}`;

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(USAGE); // asked for: stdout, exit 0
    return;
  }
  if (cmd === 'import') return runImport(rest);
  if (cmd === 'export') return runExport(rest);
  if (cmd !== 'serve') {
    console.error(cmd === undefined ? USAGE : `dataloom: unknown command ${JSON.stringify(cmd)}\n\n${USAGE}`);
    process.exit(2);
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      store: { type: 'string' },
      static: { type: 'string' },
      schema: { type: 'string' },
      permissions: { type: 'string' },
      sources: { type: 'string' },
      token: { type: 'string' },
      origins: { type: 'string' },
      insecure: { type: 'boolean' },
      limit: { type: 'string', multiple: true },
      'retain-entries': { type: 'string' },
      'retain-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const env = process.env;
  const port = Number(values.port ?? env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  const schemaFile = values.schema ?? env.DATALOOM_SCHEMA;
  const schema = schemaFile ? readSchemaFile(schemaFile) : undefined;
  const permissionsFile = values.permissions ?? env.DATALOOM_PERMISSIONS;
  const permissions = permissionsFile ? readFileSync(permissionsFile, 'utf8') : undefined;
  const sourcesFile = values.sources ?? env.DATALOOM_SOURCES;
  const token = values.token ?? env.DATALOOM_TOKEN;
  const origins = values.origins === '*' ? '*' : values.origins?.split(',').map((s) => s.trim());
  const host = values.host ?? env.HOST;
  if (host !== undefined && !isLoopback(host) && !token && !values.insecure) {
    throw new Error(`--host ${host} is reachable from other machines: give --token <secret> (or DATALOOM_TOKEN), or --insecure to accept anonymous clients`);
  }
  const limits = parseLimits(values.limit ?? []);
  const retainEntries = values['retain-entries'] ?? env.DATALOOM_RETAIN_ENTRIES;
  const retainMs = values['retain-ms'] ?? env.DATALOOM_RETAIN_MS;
  const retention = retainEntries === undefined && retainMs === undefined ? undefined : { ...(retainEntries !== undefined ? { entries: Number(retainEntries) } : {}), ...(retainMs !== undefined ? { ms: Number(retainMs) } : {}) };
  const server = await createServer({
    limits,
    store: values.store ?? env.DATALOOM_STORE ?? 'sqlite:.data/dataloom.sqlite',
    port,
    host,
    static: values.static ?? env.DATALOOM_STATIC,
    schema,
    permissions,
    retention,
    ...(sourcesFile ? { sources: readSourcesFile(sourcesFile) } : {}),
    origins,
    authenticate: token ? (t) => (t === token ? { token: true } : null) : undefined,
  });
  console.log(`dataloom: sync on ${server.url}  http on ${server.httpUrl}  (node ${server.nodeId})`);
  const stop = (sig: string) => {
    console.log(`dataloom: ${sig}, shutting down`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

/** `name=value` pairs naming limits of `DEFAULT_LIMITS`, each a positive number. */
function parseLimits(pairs: readonly string[]): Partial<Limits> {
  const out: Partial<Limits> = {};
  for (const p of pairs) {
    const m = /^([A-Za-z]+)=(\d+(?:\.\d+)?)$/.exec(p);
    if (!m || !(m[1]! in DEFAULT_LIMITS)) throw new Error(`--limit ${p}: expected <name>=<number> with a name of ${Object.keys(DEFAULT_LIMITS).join(', ')}`);
    out[m[1] as keyof Limits] = Number(m[2]);
  }
  return out;
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`dataloom: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
