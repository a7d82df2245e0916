/**
 * Errors said with the entities' readable names: the engine and the server name an entity by its
 * id (a global id such as `k3x9a2.5`, or an integer), which means nothing to a person. Given the
 * attributes that name entities in this app (`DataloomProvider`'s `entityNames`), each id found in
 * the error's message or `data.e` is looked up on the client and replaced by the first of those
 * attributes the entity has.
 */
import { isGlobalId } from '@dataloom/core';
import type { DataloomSource } from './source.js';

/** An error a hook surfaces: what went wrong, and which entity by name when the app names it. */
export interface NamedError {
  readonly code: string;
  /** The message, with entity ids replaced by their names where known. */
  readonly message: string;
  /** The name of the entity the error concerns (the first named one), or null. */
  readonly entity: string | null;
  /** The transaction refused, when known. */
  readonly tx: string | null;
  /** The error as thrown or reported. */
  readonly cause: unknown;
}

interface Pulls {
  pull?(pattern: unknown, eid: unknown): unknown;
}

const kw = (a: string) => (a.startsWith(':') ? a : `:${a}`);

/** The name of entity `id` on `client` by the first of `attrs` it has, or null. */
async function nameOf(client: Pulls, attrs: readonly string[], id: unknown): Promise<string | null> {
  if (!client.pull || attrs.length === 0) return null;
  try {
    const pulled = (await client.pull(`[${attrs.map(kw).join(' ')}]`, id)) as Map<unknown, unknown> | null;
    if (!(pulled instanceof Map)) return null;
    for (const a of attrs) for (const [k, v] of pulled) if (String(k) === kw(a) && v !== null && v !== undefined) return String(v);
  } catch {
    // not an entity here (a token that only looked like an id): no name
  }
  return null;
}

/** `e` as a {@link NamedError}, its entity ids named by `attrs` (none: as it is). */
export async function nameError(client: DataloomSource, attrs: readonly string[], e: unknown, tx: string | null = null): Promise<NamedError> {
  const err = e as { code?: unknown; message?: unknown; data?: { e?: unknown } };
  const code = typeof err?.code === 'string' ? err.code : 'error';
  let message = typeof err?.message === 'string' ? err.message : String(e);
  const ids = new Set<unknown>();
  const de = err?.data?.e;
  if (typeof de === 'number' || isGlobalId(de)) ids.add(de);
  for (const token of message.split(/[^0-9A-Za-z_.]+/)) if (isGlobalId(token)) ids.add(token);
  let entity: string | null = null;
  for (const id of ids) {
    const name = await nameOf(client as Pulls, attrs, id);
    if (name === null) continue;
    entity ??= name;
    if (typeof id === 'string') message = message.split(id).join(name);
  }
  return { code, message, entity, tx, cause: e };
}
