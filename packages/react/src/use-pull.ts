import { isKeyword, isSym, kw, List, printEdn, sym } from '@dataloom/core';
import { useQuery } from './use-query.js';

/**
 * The live pull of `pattern` on entity `id`: re-renders when any pulled attribute changes (the
 * query `[:find (pull ?e pattern) :in $ ?e]` is maintained incrementally). `null` when the entity
 * has none of the attributes. `pattern` is an EDN string (`'[:todo/title {:todo/tags [*]}]'`) or
 * data, where strings in attribute positions are read as keywords (`['todo/title', '*']`).
 */
export function usePull(pattern: unknown, id: unknown): unknown {
  const rows = useQuery(pullQuery(pattern), id);
  return rows.length > 0 ? (rows[0]![0] ?? null) : null;
}

/**
 * Every attribute of entity `id`, live (`usePull('[*]', id)`). A plain value, not a lazy entity:
 * follow refs with another `useEntity`, or use {@link usePull} with a nested pattern.
 */
export function useEntity(id: unknown): unknown {
  return usePull('[*]', id);
}

/** @internal the query a pull hook watches. */
export function pullQuery(pattern: unknown): string {
  const text = typeof pattern === 'string' ? pattern : printEdn(normalizePattern(pattern));
  return `[:find (pull ?e ${text}) :in $ ?e]`;
}

/** Strings in attribute positions become keywords, `'*'` the wildcard symbol. */
function normalizePattern(p: unknown): unknown {
  if (typeof p === 'string') return p === '*' ? sym('*') : kw(p);
  if (isKeyword(p) || isSym(p)) return p;
  if (Array.isArray(p)) return p.map(normalizePattern);
  if (p instanceof List) return new List(p.items.map((x, i) => (i === 0 ? normalizePattern(x) : x)) as never);
  if (p instanceof Map) {
    const m = new Map<unknown, unknown>();
    for (const [k, v] of p) m.set(normalizePattern(k), normalizePattern(v));
    return m;
  }
  if (p !== null && typeof p === 'object' && Object.getPrototypeOf(p) === Object.prototype) {
    const m = new Map<unknown, unknown>();
    for (const [k, v] of Object.entries(p as Record<string, unknown>)) m.set(normalizePattern(k), normalizePattern(v));
    return m;
  }
  return p;
}
