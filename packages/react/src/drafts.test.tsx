// @vitest-environment happy-dom
/**
 * `useDraft` and `useUndo` over the real `@dataloom/client` (in-process, memory storage): a form
 * edits a draft, the list (a main view) does not change until commit, conflicts show, and undo
 * buttons follow the stack.
 */
import { createClient, type Client } from '@dataloom/client';
import { draftSchema } from '@dataloom/core';
import { act } from 'react';
import { describe, expect, it } from 'vitest';
import { DataloomProvider, useDraft, useQuery, useUndo } from './index.js';
import { mountRoot } from '../test/dom.js';

const schema = { ...draftSchema, ':todo/title': {} };
let n = 0;
const dom = mountRoot();

function client(): Client {
  return dom.closing(createClient({ name: `react-drafts-${n++}`, schema, storage: 'memory', tabs: false }));
}

const text = (id: string) => dom.container.querySelector(`#${id}`)?.textContent ?? '';

let api: ReturnType<typeof useDraft<[string]>> | null = null;
let undoApi: ReturnType<typeof useUndo> | null = null;

function App({ draft, e }: { draft: string; e: number }) {
  const list = useQuery<[string]>('[:find ?t :where [_ :todo/title ?t]]');
  const d = useDraft<[string]>(draft, '[:find ?t :in $ ?e :where [?e :todo/title ?t]]', e);
  const u = useUndo(draft);
  api = d;
  undoApi = u;
  return (
    <div>
      <span id="list">{list.map((r) => r[0]).join(',')}</span>
      <span id="form">{d.rows.map((r) => r[0]).join(',')}</span>
      <span id="conflicts">{d.conflicts.length}</span>
      <span id="undo">{`${u.canUndo}/${u.canRedo}`}</span>
    </div>
  );
}

describe('useDraft / useUndo', () => {
  it('a form edits the draft; the list changes only on commit; undo follows the stack', async () => {
    const c = client();
    const r = await c.transact([{ ':db/id': 'x', ':todo/title': 'milk' }]);
    const e = r.tempids['x']!;
    const id = await c.createDraft();
    act(() => dom.root.render(<DataloomProvider client={c}><App draft={id} e={e} /></DataloomProvider>));
    await dom.until(() => text('form') === 'milk' && text('list') === 'milk');
    expect(text('undo')).toBe('false/false');
    await act(async () => void (await api!.transact([[':db/add', e, ':todo/title', 'oat milk']])));
    await dom.until(() => text('form') === 'oat milk' && text('undo') === 'true/false');
    expect(text('list')).toBe('milk');
    // a committed change to the same value since: a conflict; the draft's value stays in the form
    await act(async () => void (await c.transact([[':db/add', e, ':todo/title', 'soy milk']])));
    await dom.until(() => text('conflicts') === '1' && text('list') === 'soy milk');
    expect(text('form')).toBe('oat milk');
    await act(async () => void (await undoApi!.undo()));
    await dom.until(() => text('form') === 'soy milk' && text('undo') === 'false/true');
    await act(async () => void (await undoApi!.redo()));
    await dom.until(() => text('form') === 'oat milk');
    await act(async () => void (await api!.commit()));
    await dom.until(() => text('list') === 'oat milk' && text('conflicts') === '0');
    expect(text('form')).toBe('oat milk');
  });
});
