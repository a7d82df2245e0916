/**
 * The demo's server configuration, used by `npm start` (scripts/start.mjs) and by the e2e tests:
 * options for `createServer` from `@dataloom/server` besides store, port and static directory.
 *
 * - **authenticate**: demo sign-in (one of a few demo users; see below).
 * - **authorizeWrite**: a business rule the server enforces for every client, online or after an
 *   offline spell: earnings are whole dollars and never negative. A refused transaction is rolled
 *   back on the client that made it, with the rule's message.
 */
import { DataloomError } from '@dataloom/core';
import { readFileSync } from 'node:fs';

/** The schema file the server judges writes by; the app's copy is `src/schema.ts`. */
export const schemaFile = new URL('./schema.edn', import.meta.url);

/** Earnings must stay whole, non-negative numbers, whoever writes them. */
export function authorizeWrite(_user, tx) {
  for (const op of tx.ops) {
    if (op.op !== 'add' || op.a !== 'thug/earnings') continue;
    const v = op.v;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new DataloomError('demo/earnings', `earnings cannot be ${JSON.stringify(v)}: they are whole dollars and never negative`, { e: op.e, a: op.a, v });
    }
  }
  return true;
}

/**
 * Demo sign-in: the token is one of the demo users' ids (`src/users.ts`), and becomes the user
 * the server knows (drafts' authors). No token: a guest. A demo only — a real app verifies a
 * signed token here.
 */
export const DEMO_USERS = ['ann', 'ben', 'cleo'];
export function authenticate(token) {
  if (token === null || token === undefined || token === '') return 'guest';
  return DEMO_USERS.includes(token) ? token : null;
}

/** Everything `createServer` needs from the demo (schema as EDN text). */
export function serverOptions() {
  return { schema: readFileSync(schemaFile, 'utf8'), authorizeWrite, authenticate };
}
