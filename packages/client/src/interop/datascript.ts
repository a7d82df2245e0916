/**
 * DataScript interop (the datsync use case): `toDataScript(client, datascript)` keeps a
 * DataScript connection in sync with the replica, for apps already written against DataScript's
 * JS API. The connection receives every current datom, then each transaction's changes (local,
 * remote, other tabs, rollbacks) as `:db/add`/`:db/retract` with the replica's integer entity ids.
 *
 * Values as DataScript's JS API expects them: attributes as `"ns/name"` strings, keywords as
 * `":ns/name"` strings, uuids as strings, instants as `Date`s, refs as entity ids. The schema
 * is passed on without `:db.type/text` (text values arrive as their string).
 *
 * The DataScript connection is read-only by convention: write through `client.transact`.
 */
import { Keyword, Uuid } from '@dataloom/core';
import type { Client } from '../runtime/client.js';
import type { DatomRow } from '../runtime/types.js';

/** The parts of the `datascript` npm package's JS API this adapter uses. */
export interface DataScriptApi {
  create_conn(schema?: unknown): unknown;
  transact(conn: unknown, txData: unknown[]): unknown;
}

/** A synced DataScript connection. */
export interface DataScriptSync {
  /** The DataScript connection (`datascript.db(conn)` for its current value). */
  readonly conn: unknown;
  /** Errors DataScript raised while applying a batch (should stay empty). */
  readonly errors: unknown[];
  /** Resolves after the initial datoms were loaded. */
  readonly ready: Promise<void>;
  /** Stop syncing. */
  close(): void;
}

function jsSchema(schema: unknown): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const entries = schema instanceof Map ? [...schema] : Object.entries((schema ?? {}) as Record<string, unknown>);
  for (const [k, props] of entries) {
    const a = k instanceof Keyword ? k.fqn : String(k).replace(/^:/, '');
    const p: Record<string, unknown> = {};
    const pe = props instanceof Map ? [...props] : Object.entries((props ?? {}) as Record<string, unknown>);
    for (const [pk, pv] of pe) {
      const key = ':' + (pk instanceof Keyword ? pk.fqn : String(pk).replace(/^:/, ''));
      const val = pv instanceof Keyword ? ':' + pv.fqn : pv;
      if (key === ':db/valueType' && (val === ':db.type/text' || val === 'db.type/text')) continue;
      p[key] = val;
    }
    out[a] = p;
  }
  return out;
}

function jsValue(v: unknown): unknown {
  if (v instanceof Keyword) return ':' + v.fqn;
  if (v instanceof Uuid) return v.value;
  return v;
}

/** Keeps a new DataScript connection in sync with `client` (see module docs). */
export function toDataScript(client: Client, datascript: DataScriptApi, schema?: unknown): DataScriptSync {
  const conn = datascript.create_conn(jsSchema(schema));
  const errors: unknown[] = [];
  let stop: (() => void) | null = null;
  let closed = false;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  const apply = (rows: DatomRow[], initial: boolean) => {
    const tx = rows.map(([e, a, v, added]) => [added ? ':db/add' : ':db/retract', e, a, jsValue(v)]);
    if (tx.length) {
      try {
        datascript.transact(conn, tx);
      } catch (e) {
        errors.push(e);
      }
    }
    if (initial) resolveReady();
  };
  void client.streamDatoms(apply).then((off) => {
    if (closed) off();
    else stop = off;
  });
  return {
    conn,
    errors,
    ready,
    close() {
      closed = true;
      stop?.();
    },
  };
}
