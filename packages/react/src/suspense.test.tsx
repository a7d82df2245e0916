// @vitest-environment happy-dom
/**
 * `useSuspenseQuery` over the real client (in-process, memory storage; its views answer
 * asynchronously): the Suspense fallback shows until the first result, then the rows, live.
 */
import { createClient, type Client } from '@dataloom/client';
import { Suspense, act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataloomProvider, useSuspenseQuery } from './index.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLElement;
let root: Root;
let client: Client;
beforeEach(() => {
  container = document.createElement('div');
  document.body.appendChild(container);
  root = createRoot(container);
  client = createClient({ name: 'suspense', schema: { ':todo/title': {} }, storage: 'memory', tabs: false });
});
afterEach(async () => {
  act(() => root.unmount());
  container.remove();
  await client.close();
});

async function until(pred: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out; DOM: ${container.innerHTML}`);
    await act(async () => {
      await new Promise((r) => setTimeout(r, 10));
    });
  }
}

function Titles() {
  const rows = useSuspenseQuery<[string]>('[:find ?t :where [_ :todo/title ?t]]');
  return <ul>{[...rows].map(([t]) => t).sort().map((t) => <li key={t}>{t}</li>)}</ul>;
}

describe('useSuspenseQuery', () => {
  it('suspends until the first result, then shows it and follows changes', async () => {
    await client.transact([{ ':todo/title': 'milk' }]);
    const renders: string[] = [];
    act(() =>
      root.render(
        <DataloomProvider client={client}>
          <Suspense fallback={<p data-testid="fallback">loading…</p>}>
            <Titles />
          </Suspense>
        </DataloomProvider>,
      ),
    );
    renders.push(container.textContent ?? '');
    await until(() => container.querySelectorAll('li').length === 1);
    expect(renders[0]).toBe('loading…'); // never an empty list first
    expect(container.textContent).toBe('milk');
    await act(async () => void (await client.transact([{ ':todo/title': 'eggs' }])));
    await until(() => container.querySelectorAll('li').length === 2);
    expect(container.textContent).toBe('eggsmilk');
  });
});
