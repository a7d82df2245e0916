/**
 * The demo's server configuration, used by `npm start` (scripts/start.mjs) and by the e2e tests:
 * options for `createServer` from `@dataloom/server` besides store, port and static directory.
 *
 * - **authenticate**: demo sign-in (one of a few demo users; see below).
 * - **authorizeWrite**: business rules the server enforces for every client, online or after an
 *   offline spell: earnings are whole dollars and never negative; a memo's owner is the user who
 *   writes it; leads come only from the CRM feed. A refused transaction is rolled back on the
 *   client that made it, with the rule's message.
 * - **permissions**: the read and write rules of `permissions.edn` (a private memo reaches only its
 *   owner; only its owner edits, hides, deletes or hands on a memo).
 * - **startJobs(server)**: the back-end jobs `npm start` and the e2e harness run next to the
 *   server: the user registry the read rules name, and the CRM feed (the Sources screen), which
 *   writes through `server.transact` — the trusted back-end write API.
 */
import { DataloomError } from '@dataloom/core';
import { readFileSync } from 'node:fs';

/** The schema file the server judges writes by; the app's copy is `src/schema.ts`. */
export const schemaFile = new URL('./schema.edn', import.meta.url);

/** The read rules (`createServer({ permissions })`); the Permissions screen shows the same file. */
export const permissionsFile = new URL('./permissions.edn', import.meta.url);

/**
 * Earnings must stay whole, non-negative numbers, whoever writes them; a memo is written as its
 * writer's own; leads are the CRM feed's (clients read them). Back-end writes (`server.transact`
 * without `as`) are trusted and not judged here.
 */
export function authorizeWrite(user, tx) {
  for (const op of tx.ops) {
    if (op.a?.startsWith('lead/')) {
      throw new DataloomError('demo/lead', `leads come from the CRM feed, not from clients (${op.a} written by ${user})`, { e: op.e, a: op.a });
    }
    if (op.op !== 'add') continue;
    if (op.a === 'memo/owner' && op.v !== user) {
      throw new DataloomError('demo/memo-owner', `a memo's owner is the user who writes it: ${user} cannot write one for ${JSON.stringify(op.v)}`, { e: op.e, a: op.a, v: op.v });
    }
    if (op.a !== 'thug/earnings') continue;
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

/** Everything `createServer` needs from the demo (schema and read rules as EDN text). */
export function serverOptions() {
  return { schema: readFileSync(schemaFile, 'utf8'), permissions: readFileSync(permissionsFile, 'utf8'), authorizeWrite, authenticate };
}

/**
 * The "CRM" the feed reads: a stand-in for an external system (a demo has none to call). With
 * PostgreSQL the same rows would come from a table through a PostgreSQL source
 * (`createServer({ sources: [{ postgres, tables }] })`); `npm start` runs on SQLite, so a back-end
 * job writes them through `server.transact` instead.
 */
export const CRM = [
  { id: 'L-101', company: 'Harbor Freight Co.', region: 'west', value: 12000 },
  { id: 'L-102', company: 'Lakeside Bakery', region: 'east', value: 3500 },
  { id: 'L-103', company: 'Northwind Traders', region: 'west', value: 27000 },
  { id: 'L-104', company: 'Quarry & Sons', region: 'east', value: 8800 },
  { id: 'L-105', company: 'Pullman Cycles', region: 'east', value: 4200 },
  { id: 'L-106', company: 'Union Stockyards', region: 'west', value: 15500 },
];
export const STAGES = ['new', 'contacted', 'qualified', 'proposal', 'won'];

/**
 * One step of the CRM feed: tick `n` moves lead `n mod 6` one stage on (after `won`, a renewal
 * starts at `new`). Deterministic, so tests can call it and know the result.
 */
export function feedTick(server, n) {
  const lead = CRM[n % CRM.length];
  const round = Math.floor(n / CRM.length) + 1;
  const stage = STAGES[round % STAGES.length];
  return server.transact([{ 'lead/id': lead.id, 'lead/stage': stage, 'lead/updated': Date.now() }]);
}

/**
 * The back-end jobs next to the demo server: writes the user registry the read rules name and the
 * CRM's leads (upserts: a restart adds nothing new and leaves their stages), then moves one lead on every `feedMs`
 * (env DATALOOM_DEMO_FEED_MS, default 20 s; 0: no timer). Returns a function that stops them.
 */
export async function startJobs(server, { feedMs = Number(process.env.DATALOOM_DEMO_FEED_MS ?? 20_000) } = {}) {
  await server.transact([...DEMO_USERS, 'guest'].map((id) => ({ 'user/id': id })));
  // the stage is the feed's to move: a lead without one is new
  await server.transact(CRM.map((l) => ({ 'lead/id': l.id, 'lead/company': l.company, 'lead/region': l.region, 'lead/value': l.value })));
  let n = 0;
  const timer = feedMs > 0 ? setInterval(() => void feedTick(server, n++).catch((e) => console.error('[demo feed]', e.message)), feedMs) : null;
  timer?.unref?.();
  return () => {
    if (timer) clearInterval(timer);
  };
}
