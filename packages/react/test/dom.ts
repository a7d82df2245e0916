/**
 * The React root every hook test renders into — one home for their setup and teardown. Call
 * `mountRoot()` at a test file's top level (the file needs `// @vitest-environment happy-dom`):
 * before each test a fresh container in happy-dom's document and a root over it, with React's act
 * environment on; after each test, in this order, the tree unmounted (hooks close their views),
 * the clients the test handed to `closing` closed, and the container removed. A test opens a
 * client and registers it in one step, `dom.closing(createClient(…))`, so no file keeps its own
 * list or depends on the order of its `afterEach` hooks.
 */
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach } from 'vitest';

export interface TestRoot {
  /** This test's root. */
  readonly root: Root;
  /** The element it renders into. */
  readonly container: HTMLElement;
  /** Waits (letting React work inside `act`) until `pred` holds; the error shows the DOM. */
  until(pred: () => boolean, ms?: number): Promise<void>;
  /** Unmounts the tree now (inside `act`), for a test that checks what unmounting releases. */
  unmount(): void;
  /** Closes `client` at the end of this test, after the tree is unmounted; returns it. */
  closing<C extends { close(): unknown }>(client: C): C;
  /**
   * The end of the test now: unmounts the tree, then closes the clients given to `closing` (for a
   * test that must close them before something else, e.g. the server they sync with).
   */
  release(): Promise<void>;
}

export function mountRoot(): TestRoot {
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
  let root: Root | null = null;
  let container: HTMLElement | null = null;
  let mounted = false;
  const clients: Array<{ close(): unknown }> = [];
  beforeEach(() => {
    container = document.createElement('div');
    document.body.appendChild(container);
    root = createRoot(container);
    mounted = true;
  });
  const unmount = () => {
    const r = root;
    if (r === null || !mounted) return;
    mounted = false;
    act(() => r.unmount());
  };
  const release = async () => {
    unmount();
    await Promise.all(clients.splice(0).map((c) => c.close()));
  };
  afterEach(async () => {
    await release();
    container?.remove();
    root = null;
    container = null;
  });
  return {
    get root() {
      return root!;
    },
    get container() {
      return container!;
    },
    unmount,
    closing(client) {
      clients.push(client);
      return client;
    },
    release,
    async until(pred: () => boolean, ms = 5_000): Promise<void> {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out; DOM: ${container?.innerHTML ?? '(none)'}`);
        await act(async () => {
          await new Promise((r) => setTimeout(r, 10));
        });
      }
    },
  };
}
