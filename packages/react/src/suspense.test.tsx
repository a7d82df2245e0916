// @vitest-environment happy-dom
/**
 * `useSuspenseQuery` over the real client (in-process, memory storage; its views answer
 * asynchronously): the Suspense fallback shows until the first result, then the rows, live.
 */
import { createClient, type Client } from '@dataloom/client';
import { Suspense, act } from 'react';
import { beforeEach, describe, expect, it } from 'vitest';
import { DataloomProvider, useSuspenseQuery } from './index.js';
import { mountRoot } from '../test/dom.js';

const dom = mountRoot();
let client: Client;
beforeEach(() => {
  client = dom.closing(createClient({ name: 'suspense', schema: { ':todo/title': {} }, storage: 'memory', tabs: false }));
});

function Titles() {
  const rows = useSuspenseQuery<[string]>('[:find ?t :where [_ :todo/title ?t]]');
  return <ul>{[...rows].map(([t]) => t).sort().map((t) => <li key={t}>{t}</li>)}</ul>;
}

describe('useSuspenseQuery', () => {
  it('suspends until the first result, then shows it and follows changes', async () => {
    await client.transact([{ ':todo/title': 'milk' }]);
    const renders: string[] = [];
    act(() =>
      dom.root.render(
        <DataloomProvider client={client}>
          <Suspense fallback={<p data-testid="fallback">loading…</p>}>
            <Titles />
          </Suspense>
        </DataloomProvider>,
      ),
    );
    renders.push(dom.container.textContent ?? '');
    await dom.until(() => dom.container.querySelectorAll('li').length === 1);
    expect(renders[0]).toBe('loading…'); // never an empty list first
    expect(dom.container.textContent).toBe('milk');
    await act(async () => void (await client.transact([{ ':todo/title': 'eggs' }])));
    await dom.until(() => dom.container.querySelectorAll('li').length === 2);
    expect(dom.container.textContent).toBe('eggsmilk');
  });
});
