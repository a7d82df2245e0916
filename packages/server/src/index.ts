/**
 * `@dataloom/server`: the sync server. Public surface: {@link createServer}, the storage interface
 * and adapters. The wire contract (messages, limits, features) is `@dataloom/protocol`.
 */
export { createServer, tokenOf, type ServerOptions, type DataloomServer, type RetentionOptions } from './server.js';
export type { AuthorizeWrite } from './connection.js';
export type { ServerDbView } from './node/sync-node.js';
export type { DraftRules, DraftFacts, UserId } from './drafts/visibility.js';
export type { ServerStore, LogEntry, Judge, Verdict, AppendOutcome, AppendResult } from './storage/types.js';
export { createSqliteStore, type SqliteStoreOptions } from './storage/sqlite.js';
export { createPostgresStore, type PostgresStoreOptions } from './storage/postgres.js';
export { openStore } from './storage/open.js';
export { readSchemaFile } from './schema-file.js';
export type { TransactOptions, TransactResult } from './sources/transact.js';
export type { SourceConfig } from './sources/registry.js';
export type { SourceStatus } from './sources/status.js';
export type { PostgresSourceConfig } from './sources/postgres/source.js';
export type { TxLogSourceConfig, DataScriptApi } from './sources/txlog/source.js';
export { readTxReport, type ExtTx, type ExtDatom } from './sources/txlog/datoms.js';
export type { PostgresTableMapping } from './sources/postgres/mapping.js';
export type { CommittedEntry } from './state/server-state.js';
