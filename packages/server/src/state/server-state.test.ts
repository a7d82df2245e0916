import { describe, expect, it } from 'vitest';
import { type Op, type TxEnvelope, type WireValue } from '@dataloom/core';
import { attrEntityId } from '@dataloom/core/internals';
import { ServerState } from './server-state.js';

let c = 0;
const NOW = 1_800_000_000_000;
function tx(ops: Array<Omit<Op, 'id' | 'tx'>>, extra: Partial<TxEnvelope> = {}, ms = NOW): TxEnvelope {
  const t = `${ms.toString(36).padStart(12, '0')}-${(c++).toString(36).padStart(4, '0')}-r1`;
  return { tx: t, replica: 'r1', ops: ops.map((o, i) => ({ ...o, id: `${t}/${i}`, tx: t })), ...extra };
}
const kw = (k: string): WireValue => ({ kw: k });
function schemaTx(attrs: Record<string, Record<string, WireValue>>): TxEnvelope {
  const ops: Array<Omit<Op, 'id' | 'tx'>> = [];
  for (const [ident, props] of Object.entries(attrs)) {
    const e = attrEntityId(ident);
    ops.push({ e, op: 'add', a: 'db/ident', v: kw(ident) });
    for (const [a, v] of Object.entries(props)) ops.push({ e, op: 'add', a, v });
  }
  return tx(ops);
}
function state(): ServerState {
  const s = new ServerState({ maxClockDriftMs: 60_000, now: () => NOW });
  const boot = schemaTx({
    'p/name': { 'db/valueType': kw('db.type/string') },
    'p/age': { 'db/valueType': kw('db.type/long') },
    'p/email': { 'db/valueType': kw('db.type/string'), 'db/unique': kw('db.unique/value') },
    'p/friend': { 'db/valueType': kw('db.type/ref'), 'db/cardinality': kw('db.cardinality/many') },
    'p/bio': { 'db/valueType': kw('db.type/text') },
  });
  expect(s.check(boot)).toEqual({ ok: true });
  return s;
}
const code = (v: ReturnType<ServerState['check']>) => (v.ok ? 'ok' : v.code);

describe('ServerState (the server-side judge)', () => {
  it('derives the schema from schema ops', () => {
    const s = state();
    // core's merge schema (MergeAttr): the same facts as the server's former AttrSpec
    expect(s.schema.get('p/email')).toMatchObject({ valueType: 'string', uniqueValue: true, many: false });
    expect(s.schema.get('p/friend')).toMatchObject({ valueType: 'ref', many: true });
  });

  it('checks value types, text ops and refs', () => {
    const s = state();
    expect(code(s.check(tx([{ e: 'r1.a', op: 'add', a: 'p/age', v: 'old' }])))).toBe('sync/schema-mismatch');
    expect(code(s.check(tx([{ e: 'r1.a', op: 'add', a: 'p/age', v: 1.5 }])))).toBe('sync/schema-mismatch');
    expect(code(s.check(tx([{ e: 'r1.a', op: 'text', a: 'p/name', v: 'AAAA' }])))).toBe('sync/schema-mismatch');
    expect(code(s.check(tx([{ e: 'r1.a', op: 'text', a: 'p/bio', v: 'AAAA' }])))).toBe('ok');
    expect(code(s.check(tx([{ e: 'r1.a', op: 'add', a: 'p/friend', v: { ref: 'r1.nobody' } }])))).toBe('sync/unknown-ref');
    expect(code(s.check(tx([{ e: 'r1.b', op: 'add', a: 'p/name', v: 'B' }, { e: 'r1.a', op: 'add', a: 'p/friend', v: { ref: 'r1.b' } }])))).toBe('ok');
    expect(code(s.check(tx([{ e: 'r1.c', op: 'add', a: 'p/friend', v: { ref: 'r1.b' } }])))).toBe('ok');
    expect(code(s.check(tx([{ e: 'r1.c', op: 'add', a: 'untyped/attr', v: { ref: 'r1.b' } }])))).toBe('sync/schema-mismatch');
    expect(code(s.check(tx([{ e: 'r1.c', op: 'add', a: 'untyped/attr', v: 42 }])))).toBe('ok');
  });

  it('rejects two values for a cardinality-one attribute in one transaction, allows many', () => {
    const s = state();
    expect(code(s.check(tx([{ e: 'r1.a', op: 'add', a: 'p/age', v: 1 }, { e: 'r1.a', op: 'add', a: 'p/age', v: 2 }])))).toBe('sync/cardinality');
    expect(code(s.check(tx([{ e: 'r1.b', op: 'add', a: 'p/name', v: 'b' }, { e: 'r1.a', op: 'add', a: 'p/friend', v: { ref: 'r1.a' } }, { e: 'r1.a', op: 'add', a: 'p/friend', v: { ref: 'r1.b' } }])))).toBe('ok');
  });

  it('judges cas against the last-writer-wins value, honouring retractEntity', () => {
    const s = state();
    expect(code(s.check(tx([{ e: 'r1.a', op: 'add', a: 'p/age', v: 1 }])))).toBe('ok');
    const cas = (expected: WireValue | null, v: number) =>
      tx([{ e: 'r1.a', op: 'add', a: 'p/age', v }], { checks: [{ kind: 'cas', e: 'r1.a', a: 'p/age', expected, v }] });
    expect(code(s.check(cas(5, 6)))).toBe('sync/cas-failed');
    expect(code(s.check(cas(1, 2)))).toBe('ok');
    expect(s.value('r1.a', 'p/age')).toBe(2);
    expect(code(s.check(tx([{ e: 'r1.a', op: 'retractEntity' }])))).toBe('ok');
    expect(s.value('r1.a', 'p/age')).toBe(null);
    expect(code(s.check(cas(null, 7)))).toBe('ok');
    // an older op (earlier stamp) does not win over a newer one
    expect(code(s.check(tx([{ e: 'r1.a', op: 'add', a: 'p/age', v: 99 }], {}, NOW - 10_000)))).toBe('ok');
    expect(s.value('r1.a', 'p/age')).toBe(7);
    expect(code(s.check(tx([{ e: 'r1.a', op: 'add', a: 'p/age', v: 1 }], { checks: [{ kind: 'cas', e: 'r1.a', a: 'p/friend', expected: null, v: 1 }] })))).toBe('sync/invalid-check');
  });

  it('enforces :db.unique/value across entities, not within one entity', () => {
    const s = state();
    expect(code(s.check(tx([{ e: 'r1.a', op: 'add', a: 'p/email', v: 'x@y' }])))).toBe('ok');
    expect(code(s.check(tx([{ e: 'r1.b', op: 'add', a: 'p/email', v: 'x@y' }])))).toBe('sync/unique');
    expect(code(s.check(tx([{ e: 'r1.a', op: 'add', a: 'p/email', v: 'x@y' }])))).toBe('ok');
    expect(code(s.check(tx([{ e: 'r1.c', op: 'add', a: 'p/email', v: 'z@y' }, { e: 'r1.d', op: 'add', a: 'p/email', v: 'z@y' }])))).toBe('sync/unique');
    // once the holder moves on, the value is free
    expect(code(s.check(tx([{ e: 'r1.a', op: 'add', a: 'p/email', v: 'new@y' }])))).toBe('ok');
    expect(code(s.check(tx([{ e: 'r1.b', op: 'add', a: 'p/email', v: 'x@y' }])))).toBe('ok');
    // retracted entity frees its values
    expect(code(s.check(tx([{ e: 'r1.b', op: 'retractEntity' }])))).toBe('ok');
    expect(code(s.check(tx([{ e: 'r1.e', op: 'add', a: 'p/email', v: 'x@y' }])))).toBe('ok');
  });

  it('rejects stamps too far ahead, invalid schema values, and reserved attributes', () => {
    const s = state();
    expect(code(s.check(tx([{ e: 'r1.a', op: 'add', a: 'p/age', v: 1 }], {}, NOW + 3_600_000)))).toBe('sync/clock-drift');
    expect(code(s.check(tx([{ e: attrEntityId('q/x'), op: 'add', a: 'db/valueType', v: kw('db.type/blob') }])))).toBe('sync/schema-invalid');
    expect(code(s.check(tx([{ e: 'r1.a', op: 'add', a: 'db/txInstant', v: 1 }])))).toBe('sync/schema-mismatch');
  });

  it('applies a transaction’s own schema ops to its data ops', () => {
    const s = state();
    const e = attrEntityId('q/n');
    expect(code(s.check(tx([{ e, op: 'add', a: 'db/ident', v: kw('q/n') }, { e, op: 'add', a: 'db/valueType', v: kw('db.type/long') }, { e: 'r1.a', op: 'add', a: 'q/n', v: 'str' }])))).toBe('sync/schema-mismatch');
    expect(code(s.check(tx([{ e, op: 'add', a: 'db/ident', v: kw('q/n') }, { e, op: 'add', a: 'db/valueType', v: kw('db.type/long') }, { e: 'r1.a', op: 'add', a: 'q/n', v: 3 }])))).toBe('ok');
    expect(s.schema.get('q/n')?.valueType).toBe('long');
  });

  it('does not let draft operations change the committed state', () => {
    const s = state();
    expect(code(s.check(tx([{ e: 'r1.d', op: 'add', a: 'p/age', v: 1 }], { draft: 'form1' })))).toBe('ok');
    expect(s.value('r1.d', 'p/age')).toBe(null);
    expect(s.hasEntity('r1.d')).toBe(false);
    expect(code(s.check(tx([{ e: 'r1.e', op: 'add', a: 'p/friend', v: { ref: 'r1.d' } }], { draft: 'form1' })))).toBe('ok');
    expect(code(s.check(tx([{ e: 'r1.e', op: 'add', a: 'p/friend', v: { ref: 'r1.d' } }])))).toBe('sync/unknown-ref');
  });

  it('unique values are judged on the merged result: moving a value within one transaction is fine', () => {
    const s = state();
    expect(code(s.check(tx([{ e: 'r1.a', op: 'add', a: 'p/email', v: 'x@y' }])))).toBe('ok');
    expect(code(s.check(tx([{ e: 'r1.a', op: 'retract', a: 'p/email' }, { e: 'r1.b', op: 'add', a: 'p/email', v: 'x@y' }])))).toBe('ok');
    expect(s.value('r1.b', 'p/email')).toBe('x@y');
    // an older write that loses its register to the retract holds nothing: accepted, still one holder
    expect(code(s.check(tx([{ e: 'r1.a', op: 'add', a: 'p/email', v: 'x@y' }], {}, NOW - 50_000)))).toBe('ok');
    expect(s.value('r1.a', 'p/email')).toBe(null);
    expect(code(s.check(tx([{ e: 'r1.c', op: 'add', a: 'p/email', v: 'x@y' }])))).toBe('sync/unique');
  });

  it('reports every applied envelope once, in order, with the datoms it changed', () => {
    const seen: Array<{ pos: number; changes: string[] }> = [];
    const s = new ServerState({ maxClockDriftMs: 60_000, now: () => NOW, onCommit: (c) => seen.push({ pos: c.pos, changes: c.changes.map((d) => `${d.added ? '+' : '-'}${d.e} ${d.a} ${JSON.stringify(d.v)}`) }) });
    const a = tx([{ e: 'r1.a', op: 'add', a: 'p/n', v: 1 }]);
    const b = tx([{ e: 'r1.a', op: 'add', a: 'p/n', v: 2 }]);
    expect(code(s.check(a))).toBe('ok');
    expect(code(s.check(b))).toBe('ok');
    expect(seen).toEqual([]); // not committed yet
    s.settle([{ pos: 1, env: a }, { pos: 2, env: b }]);
    s.catchUp([{ pos: 3, env: tx([{ e: 'r1.a', op: 'retractEntity' }]) }]);
    expect(seen).toEqual([
      { pos: 1, changes: ['+r1.a p/n 1'] },
      { pos: 2, changes: ['-r1.a p/n 1', '+r1.a p/n 2'] },
      { pos: 3, changes: ['-r1.a p/n 2'] },
    ]);
    expect(s.head).toBe(3);
    expect(s.dirty).toBe(false);
  });

  it('compaction drops superseded ops without changing what is visible, now or after late writes and schema changes', () => {
    const s = new ServerState({ maxClockDriftMs: 60_000, now: () => NOW, compactEvery: 1 });
    let pos = 0;
    const commit = (e: TxEnvelope) => {
      expect(code(s.check(e))).toBe('ok');
      s.settle([{ pos: ++pos, env: e }]);
    };
    for (let i = 0; i < 20; i++) commit(tx([{ e: 'r1.a', op: 'add', a: 'q/v', v: i % 3 }], {}, NOW - 1000 + i));
    expect(s.merged.size).toBeLessThan(20);
    expect(s.value('r1.a', 'q/v')).toBe(19 % 3);
    commit(tx([{ e: 'r1.a', op: 'add', a: 'q/v', v: 99 }], {}, NOW - 2000)); // late and older: loses
    expect(s.value('r1.a', 'q/v')).toBe(19 % 3);
    // cardinality one → many would make every value ever asserted visible: compaction kept only
    // the register's last op, so this needs the history (a server restarted with the schema has it)
    const e = attrEntityId('q/v');
    const many = tx([{ e, op: 'add', a: 'db/ident', v: kw('q/v') }, { e, op: 'add', a: 'db/cardinality', v: kw('db.cardinality/many') }]);
    expect(code(s.check(many))).toBe('sync/schema-history');
    const full = ServerState.fromLog([], { maxClockDriftMs: 60_000, now: () => NOW });
    full.catchUp(Array.from({ length: 20 }, (_, i) => ({ pos: i + 1, env: tx([{ e: 'r1.a', op: 'add', a: 'q/v', v: i % 3 }], {}, NOW - 1000 + i) })));
    full.catchUp([{ pos: 21, env: many }]);
    expect(full.merged.values('r1.a', 'q/v')).toEqual([0, 1, 2]);
    // a component needs history the state no longer has
    const h = attrEntityId('q/home');
    expect(code(s.check(tx([{ e: h, op: 'add', a: 'db/ident', v: kw('q/home') }, { e: h, op: 'add', a: 'db/valueType', v: kw('db.type/ref') }, { e: h, op: 'add', a: 'db/isComponent', v: true }])))).toBe('sync/schema-history');
  });

  it('refuses a schema definition that would not validate', () => {
    const s = state();
    const e = attrEntityId('p/name');
    expect(code(s.check(tx([{ e, op: 'add', a: 'db/isComponent', v: true }])))).toBe('sync/schema-invalid');
    expect(s.schema.get('p/name').component).toBe(false);
  });
});

