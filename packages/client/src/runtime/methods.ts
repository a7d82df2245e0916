/**
 * The worker RPC's one method table: every method of {@link ClientService} the calling thread may
 * call, by name. Both ends are built from it — `host.ts` (the replica's side: decode the
 * arguments, call the service, encode the result, typed errors as plain data) and `rpc.ts`'s
 * caller on the calling thread — so adding a method is one line here plus its implementation in
 * `service.ts`.
 *
 * - `'call'`: the client offers it as it is (`client.q(...)` is `service.q(...)`, asynchronous);
 * - `'facade'`: the client's own code uses it to build something richer on the calling thread
 *   (a mirrored watch, a `Y.Text`, a database view, a datom stream).
 *
 * Arguments and results cross with the codec (`codec.ts`); a function argument crosses as a
 * callback whose own arguments cross with the codec too.
 */
import type { ClientService } from './service.js';

export const METHODS = {
  loaded: 'call',
  transact: 'call',
  confirmed: 'call',
  q: 'call',
  pull: 'call',
  pullMany: 'call',
  entity: 'call',
  globalId: 'call',
  history: 'call',
  syncStatus: 'call',
  setOffline: 'call',
  pending: 'call',
  whenSynced: 'call',
  storageKind: 'call',
  operatorTimes: 'call',
  createDraft: 'call',
  undo: 'call',
  redo: 'call',
  undoStatus: 'call',
  subscribe: 'facade',
  unsubscribe: 'facade',
  unregister: 'call',
  register: 'facade',
  rule: 'facade',
  watch: 'facade',
  unwatch: 'facade',
  streamDatoms: 'facade',
  unstreamDatoms: 'facade',
  asOf: 'facade',
  since: 'facade',
  historyQ: 'facade',
  textOpen: 'facade',
  textUpdate: 'facade',
  textClose: 'facade',
  events: 'facade',
  draftTransact: 'facade',
  draftQ: 'facade',
  draftPull: 'facade',
  draftWatch: 'facade',
  draftWatchConflicts: 'facade',
  draftUnwatch: 'facade',
  draftConflicts: 'facade',
  draftCommit: 'facade',
  draftDiscard: 'facade',
  draftInfo: 'facade',
  draftInvite: 'facade',
  undoWatch: 'facade',
  undoUnwatch: 'facade',
  close: 'facade',
} as const satisfies Partial<Record<keyof ClientService, 'call' | 'facade'>>;

/** A method of the table. */
export type MethodName = keyof typeof METHODS;

/** The methods the client offers as they are. */
export type CallName = { [K in MethodName]: (typeof METHODS)[K] extends 'call' ? K : never }[MethodName];

/** A method as seen across the boundary: same parameters, result always a promise. */
export type Remote<T> = {
  [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never;
};

/** The service's table methods as the calling thread calls them. */
export type ServiceApi = Remote<Pick<ClientService, MethodName>>;

/** The `'call'` methods of `api`, as the client offers them. */
export function callMethods(api: ServiceApi): Pick<ServiceApi, CallName> {
  const out: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(METHODS)) if (kind === 'call') out[name] = api[name as MethodName];
  return out as Pick<ServiceApi, CallName>;
}
