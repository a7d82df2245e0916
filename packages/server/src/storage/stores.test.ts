import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresStore } from './postgres.js';
import { createSqliteStore } from './sqlite.js';
import { runServerStoreTests } from './store-suite.js';

runServerStoreTests('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dataloom-store-'));
  const file = join(dir, 'db.sqlite');
  return {
    make: async () => createSqliteStore({ file }),
    again: () => createSqliteStore({ file }),
    concurrent: false,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

const PG = process.env.DATALOOM_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
let n = 0;
runServerStoreTests('postgres', async () => {
  const namespace = `dl_test_${process.pid}_${Date.now().toString(36)}_${n++}`;
  const make = () => createPostgresStore({ url: PG, namespace });
  return {
    make: async () => make(),
    again: make,
    concurrent: true,
    cleanup: async () => make().destroy(),
  };
});
