/**
 * Undo and redo through the client API: per client, per scope (main database and each draft),
 * skipping values someone else changed since, surviving a reload.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { draftSchema, type Op, type TxEnvelope } from '@dataloom/core';
import { createClient, type Client } from '../runtime/client.js';
import { serviceOf } from '../runtime/client.js';
import { MemoryStore, memoryBacking, type MemoryBacking } from '../store/memory.js';

const schema = {
  ...draftSchema,
  'item/title': {},
  'item/count': {},
  'item/tags': { ':db/cardinality': ':db.cardinality/many' },
  'item/note': { ':db/valueType': ':db.type/text' },
};

const clients: Client[] = [];
afterEach(async () => {
  while (clients.length) await clients.pop()!.close();
});

let n = 0;
function open(backing: MemoryBacking = memoryBacking()): Client {
  const c = createClient({ name: `undo-${n++}`, schema, store: new MemoryStore(backing), tabs: false });
  clients.push(c);
  return c;
}

/** Everything `from` holds (committed and drafts), as remote envelopes for `to`. */
async function exchange(from: Client, to: Client): Promise<void> {
  const a = serviceOf(from)!.replica;
  const b = serviceOf(to)!.replica;
  const byTx = new Map<string, Op[]>();
  for (const op of a.merged().allOps()) byTx.set(op.tx, [...(byTx.get(op.tx) ?? []), op]);
  const envs: TxEnvelope[] = [...byTx].map(([tx, ops]) => ({ tx, replica: tx.slice(18), ops: ops.sort((x, y) => Number(x.id.split('/')[1]) - Number(y.id.split('/')[1])) }));
  for (const d of a.drafts.ids()) envs.push(...a.drafts.envelopes(d));
  await b.applyRemote(envs, null);
}

const title = async (c: Client) => c.q('[:find ?t . :where [_ :item/title ?t]]');
const tags = async (c: Client) => ((await c.q('[:find [?t ...] :where [_ :item/tags ?t]]')) as string[]).sort();

describe('undo / redo', () => {
  it('undoes and redoes this client’s changes in order, and a new change clears redo', async () => {
    const c = open();
    const r = await c.transact([{ ':db/id': 'x', 'item/title': 'one', 'item/tags': ['a'] }]);
    const x = r.tempids['x']!;
    await c.transact([[':db/add', x, ':item/title', 'two'], [':db/add', x, ':item/tags', 'b']]);
    await c.transact([[':db/retract', x, ':item/tags', 'a']]);
    expect(await c.undoStatus()).toEqual({ canUndo: true, canRedo: false });
    await c.undo();
    expect(await tags(c)).toEqual(['a', 'b']);
    await c.undo();
    expect(await title(c)).toBe('one');
    expect(await tags(c)).toEqual(['a']);
    await c.redo();
    expect(await title(c)).toBe('two');
    expect(await tags(c)).toEqual(['a', 'b']);
    await c.undo();
    await c.undo();
    expect(await title(c)).toBe(null);
    expect((await c.undo()).tx).toBe(null);
    expect(await c.undoStatus()).toEqual({ canUndo: false, canRedo: true });
    await c.redo();
    expect(await title(c)).toBe('one');
    await c.transact([[':db/add', x, ':item/count', 1]]);
    expect(await c.undoStatus()).toEqual({ canUndo: true, canRedo: false });
  });

  it('leaves a value someone else changed since in place, and undoes the rest', async () => {
    const a = open();
    const b = open();
    const r = await a.transact([{ ':db/id': 'x', 'item/title': 'one', 'item/count': 1 }]);
    const x = r.globalIds['x']!;
    await a.transact([[':db/add', x, ':item/title', 'A title'], [':db/add', x, ':item/count', 2]]);
    await exchange(a, b);
    await b.transact([[':db/add', x, ':item/title', 'B title']]);
    await exchange(b, a);
    await a.undo();
    expect(await title(a)).toBe('B title');
    expect(await a.q('[:find ?c . :where [_ :item/count ?c]]')).toBe(1);
    // B's stack is B's: undoing there reverts only B's change
    await exchange(a, b);
    await b.undo();
    expect(await title(b)).toBe('A title');
    expect(await b.q('[:find ?c . :where [_ :item/count ?c]]')).toBe(1);
  });

  it('keeps one stack per draft; the stacks survive a reload', async () => {
    const backing = memoryBacking();
    const c = open(backing);
    const r = await c.transact([{ ':db/id': 'x', 'item/title': 'one' }]);
    const x = r.globalIds['x']!;
    const d = c.draft('form');
    await d.transact([[':db/add', x, ':item/title', 'draft 1']]);
    await d.transact([[':db/add', x, ':item/title', 'draft 2']]);
    await c.transact([[':db/add', x, ':item/count', 7]]);
    await d.undo();
    expect(await d.q('[:find ?t . :where [_ :item/title ?t]]')).toBe('draft 1');
    expect(await c.q('[:find ?c . :where [_ :item/count ?c]]')).toBe(7);
    await c.close();
    clients.splice(clients.indexOf(c), 1);
    const c2 = open(backing);
    const d2 = c2.draft('form');
    expect(await c2.undoStatus(d2.id)).toEqual({ canUndo: true, canRedo: true });
    await d2.redo();
    expect(await d2.q('[:find ?t . :where [_ :item/title ?t]]')).toBe('draft 2');
    await c2.undo();
    expect(await c2.q('[:find ?c . :where [_ :item/count ?c]]')).toBe(null);
    await d2.undo();
    await d2.undo();
    expect(await d2.q('[:find ?t . :where [_ :item/title ?t]]')).toBe('one');
    expect(await c2.q('[:find ?t . :where [_ :item/title ?t]]')).toBe('one');
  });

  it('undoes a commit in the main database (the draft stays closed)', async () => {
    const c = open();
    const r = await c.transact([{ ':db/id': 'x', 'item/title': 'one' }], { undo: 'skip' });
    const x = r.globalIds['x']!;
    const d = c.draft(await c.createDraft());
    await d.transact([[':db/add', x, ':item/title', 'committed from draft'], { 'item/title': 'new one' }]);
    await d.commit();
    expect(((await c.q('[:find [?t ...] :where [_ :item/title ?t]]')) as string[]).sort()).toEqual(['committed from draft', 'new one']);
    await c.undo();
    expect(await c.q('[:find [?t ...] :where [_ :item/title ?t]]')).toEqual(['one']);
    expect((await d.collaborators()).live).toBe(0);
  });
});
