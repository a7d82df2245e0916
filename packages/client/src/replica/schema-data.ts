/**
 * Schema as data: the server writes attributes as entities holding `db/ident` plus schema
 * properties (`db/valueType`, `db/cardinality`, …). A replica reads them from its stored ops when
 * it loads; they take effect on the next load when they arrive while running.
 */
import type { Op } from '@dataloom/core';

const SCHEMA_PROPS = new Set(['db/valueType', 'db/cardinality', 'db/unique', 'db/isComponent', 'db/index', 'db/doc']);

/**
 * The app schema extended with attributes defined as data in `ops` (latest op per property wins;
 * those win over the app's). Returns `schema` itself when the ops define nothing.
 */
export function schemaWithData(schema: unknown, ops: readonly Op[]): unknown {
  const byEntity = new Map<string, Map<string, Op>>();
  for (const o of ops) {
    if (o.a === undefined || (o.a !== 'db/ident' && !SCHEMA_PROPS.has(o.a))) continue;
    let m = byEntity.get(o.e);
    if (!m) byEntity.set(o.e, (m = new Map()));
    const prev = m.get(o.a);
    if (!prev || o.id > prev.id) m.set(o.a, o);
  }
  const defs: Record<string, Record<string, unknown>> = {};
  for (const m of byEntity.values()) {
    const ident = m.get('db/ident');
    if (!ident || ident.op !== 'add' || typeof ident.v !== 'object' || !('kw' in ident.v)) continue;
    const props: Record<string, unknown> = {};
    for (const [a, o] of m) {
      if (a === 'db/ident' || o.op !== 'add' || o.v === undefined) continue;
      props[':' + a] = typeof o.v === 'object' && 'kw' in o.v ? ':' + o.v.kw : o.v;
    }
    if (Object.keys(props).length) defs[':' + ident.v.kw] = props;
  }
  if (Object.keys(defs).length === 0) return schema;
  const base: Record<string, unknown> = {};
  const entries = schema instanceof Map ? [...schema] : Object.entries((schema ?? {}) as Record<string, unknown>);
  for (const [k, v] of entries) {
    const name = typeof k === 'string' ? k : String(k);
    base[name.startsWith(':') ? name : ':' + name] = v;
  }
  return { ...base, ...defs };
}
