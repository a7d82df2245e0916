/**
 * The React root every hook test renders into: a fresh container in happy-dom's document and a
 * root over it before each test, unmounted and removed after it, with React's act environment on.
 * Call at a test file's top level (the file needs `// @vitest-environment happy-dom`), after the
 * file's own `afterEach` hooks: after-hooks run last-registered first, so the tree unmounts before
 * the file closes the clients it rendered.
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
}

export function rootPerTest(): TestRoot {
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
  let root: Root | null = null;
  let container: HTMLElement | null = null;
  let mounted = false;
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
  afterEach(() => {
    unmount();
    container!.remove();
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
