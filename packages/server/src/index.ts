/**
 * `@dataloom/server`: the sync server. Public surface: {@link createServer}, the protocol
 * constants and message types, the storage interface and adapters.
 */
export { createServer, tokenOf, type ServerOptions, type DataloomServer } from './server.js';
export type { AuthorizeWrite } from './connection.js';
export type { ServerDbView } from './node/sync-node.js';
export * from './protocol/messages.js';
export { DEFAULT_LIMITS, resolveLimits, type Limits } from './protocol/limits.js';
export { ProtocolError, decodeClientMessage, validateEnvelope } from './protocol/validate.js';
export type { ServerStore, LogEntry, Judge, Verdict, AppendOutcome, AppendResult } from './storage/types.js';
export { createSqliteStore, type SqliteStoreOptions } from './storage/sqlite.js';
export { createPostgresStore, type PostgresStoreOptions } from './storage/postgres.js';
export { openStore } from './storage/open.js';
export { parseSchema, attrEntityId, type AttrSpec } from './state/schema.js';
export { readSchemaFile } from './schema-file.js';
