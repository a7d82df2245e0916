/**
 * The server's configured schema, written to the log as data where the logged schema differs
 * (schema as data: `@dataloom/core` `schema-data.ts`), so every client receives schema changes
 * through the ordinary op stream.
 */
import { type Op, type WireValue } from '@dataloom/core';
import { attrEntityId, wireValueKey } from '@dataloom/core/internals';
import type { ServerState } from './server-state.js';

/**
 * The ops (stamped `tx`) that make the logged schema say what `want` says (`schemaAsData` form):
 * new attributes get their entity {@link attrEntityId}; changed properties are asserted; a
 * uniqueness no longer wanted is retracted. Empty when the log already agrees.
 */
export function schemaBootstrapOps(want: ReadonlyMap<string, ReadonlyMap<string, WireValue>>, state: ServerState, tx: string): Op[] {
  const ops: Op[] = [];
  const push = (op: Omit<Op, 'id' | 'tx'>) => ops.push({ id: `${tx}/${ops.length}`, tx, ...op });
  for (const [ident, props] of want) {
    const existing = state.attributeEntity(ident);
    const e = existing ?? attrEntityId(ident);
    const have = (a: string) => (existing === null ? null : state.value(e, a));
    if (existing === null) push({ e, op: 'add', a: 'db/ident', v: { kw: ident } });
    for (const [a, v] of props) {
      const cur = have(a);
      const implicitFalse = v === false && cur === null && (a === 'db/isComponent' || a === 'db/index');
      if (implicitFalse || (cur !== null && wireValueKey(cur) === wireValueKey(v))) continue;
      push({ e, op: 'add', a, v });
    }
    if (!props.has('db/unique') && have('db/unique') !== null) push({ e, op: 'retract', a: 'db/unique' });
  }
  return ops;
}
