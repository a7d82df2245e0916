/**
 * Store URLs: `sqlite:<file>` (relative paths resolve against the working directory) or
 * `postgres://…` / `postgresql://…` (optional `?namespace=<pg schema>`).
 */
import { DataloomError } from '@dataloom/core';
import { resolve } from 'node:path';
import { createPostgresStore } from './postgres.js';
import { createSqliteStore } from './sqlite.js';
import type { ServerStore } from './types.js';

export function openStore(spec: string | ServerStore): ServerStore {
  if (typeof spec !== 'string') return spec;
  if (spec.startsWith('sqlite:')) {
    const file = spec.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!file) throw new DataloomError('server/store', 'sqlite: store needs a file path, e.g. sqlite:.data/dataloom.sqlite', { store: spec });
    return createSqliteStore({ file: resolve(file) });
  }
  if (spec.startsWith('postgres://') || spec.startsWith('postgresql://')) return createPostgresStore({ url: spec });
  throw new DataloomError('server/store', `unknown store ${JSON.stringify(spec)}: use sqlite:<file> or postgres://…`, { store: spec });
}
