/**
 * The `import` and `export` commands of the `dataloom` CLI (`cli.ts` parses the command name and
 * hands the rest here). Both open the store directly (no HTTP server); a SQLite store is held by
 * one process at a time, so stop `dataloom serve` on that file first (PostgreSQL needs no pause).
 * Data goes to stdout, progress and messages to stderr.
 */
import { DataloomError } from '@dataloom/core';
import { schemaAsData } from '@dataloom/core/internals';
import { resolveLimits } from '@dataloom/protocol';
import { createWriteStream, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SyncNode } from '../node/sync-node.js';
import { readSchemaFile } from '../schema-file.js';
import { openStore } from '../storage/open.js';
import { exportHistory, exportState } from './export.js';
import { importFile } from './import.js';
import type { SourceConfig } from './registry.js';
import { readTxFile } from './tx-file.js';

export const IMPORT_USAGE = `dataloom import <file.edn | file.jsonl> [options]
  --store <spec>      as for serve (env DATALOOM_STORE)
  --schema <file>     schema as EDN or JSON, written to the log first (env DATALOOM_SCHEMA)
  --name <name>       import name: entity ids derive from it (default: the file's base name)
  Re-running an import of the same file changes nothing; tempids name one entity across the file.`;

export const EXPORT_USAGE = `dataloom export [options]
  --store <spec>      as for serve (env DATALOOM_STORE)
  --history           every transaction of the log instead of the current state
  --out <file>        write there instead of stdout`;

const DEFAULT_STORE = 'sqlite:.data/dataloom.sqlite';

async function openNode(storeSpec: string, schemaFile: string | undefined, nodeId: string): Promise<SyncNode> {
  const limits = resolveLimits();
  const node = new SyncNode(openStore(storeSpec), {
    nodeId,
    maxClockDriftMs: limits.maxClockDriftMs,
    schema: schemaAsData(schemaFile ? readSchemaFile(schemaFile) : undefined),
    pollMs: 0,
  });
  try {
    await node.start();
  } catch (e) {
    const msg = (e as Error).message;
    if (/locked|busy/i.test(msg)) throw new DataloomError('server/store', `store ${storeSpec} is in use by another process (stop dataloom serve on it first): ${msg}`, { store: storeSpec });
    throw e;
  }
  return node;
}

export async function runImport(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { store: { type: 'string' }, schema: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return void console.log(IMPORT_USAGE);
  if (positionals.length !== 1) throw new DataloomError('import/usage', `import takes one file\n\n${IMPORT_USAGE}`, {});
  const file = readTxFile(positionals[0]!);
  const env = process.env;
  const node = await openNode(values.store ?? env.DATALOOM_STORE ?? DEFAULT_STORE, values.schema ?? env.DATALOOM_SCHEMA, 'import');
  const tty = process.stderr.isTTY === true;
  let shown = 0;
  try {
    const s = await importFile(node, file, {
      name: values.name,
      limits: resolveLimits(),
      onProgress: (done, total) => {
        const step = tty ? Math.max(1, Math.floor(total / 200)) : Math.max(1, Math.floor(total / 10));
        if (done - shown < step && done !== total) return;
        shown = done;
        const line = `import: ${done}/${total} transactions (${Math.floor((100 * done) / total)}%)`;
        process.stderr.write(tty ? `\r${line}` : `${line}\n`);
      },
    });
    if (tty && file.txs.length > 0) process.stderr.write('\n');
    console.log(`imported ${s.file} as ${s.name}: ${s.transactions} transactions (${s.appended} appended, ${s.present} already present), ${s.ops} ops, ${s.tempids} tempids, log head ${s.head}, ${s.ms} ms`);
  } finally {
    await node.stop();
  }
}

export async function runExport(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { store: { type: 'string' }, history: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) return void console.log(EXPORT_USAGE);
  const node = await openNode(values.store ?? process.env.DATALOOM_STORE ?? DEFAULT_STORE, undefined, 'export');
  const out = values.out ? createWriteStream(values.out) : process.stdout;
  const write = (line: string) => void out.write(line + '\n');
  try {
    const n = values.history ? await exportHistory(node, write) : exportState(node, write);
    process.stderr.write(`export: ${n} ${values.history ? 'transactions' : 'entities'}${values.out ? ` to ${values.out}` : ''}\n`);
  } finally {
    if (values.out) await new Promise<void>((r, j) => (out as ReturnType<typeof createWriteStream>).end((e?: Error | null) => (e ? j(e) : r())));
    await node.stop();
  }
}

/**
 * `dataloom serve --sources <file.json>`: a JSON array of source configurations (PostgreSQL
 * sources and `txLog` files; a live DataScript connection needs code). @throws `source/config`
 * naming the file.
 */
export function readSourcesFile(file: string): SourceConfig[] {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new DataloomError('source/config', `sources file ${file}: ${why}`, { file });
  }
  if (!Array.isArray(v) || v.some((x) => x === null || typeof x !== 'object' || 'datascript' in x)) {
    throw new DataloomError('source/config', `sources file ${file}: expected a JSON array of { "postgres": url, "tables": {…} } or { "name", "txLog": file }`, { file });
  }
  return v as SourceConfig[];
}
