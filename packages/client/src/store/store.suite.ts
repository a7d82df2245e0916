/**
 * The shared contract suite for {@link ReplicaStore} backends under vitest:
 *
 * ```ts
 * runStoreTests('memory', async () => { const b = memoryBacking(); return { open: () => new MemoryStore(b) }; });
 * ```
 * `open()` must return a new store over the *same* data each time (a reload). The cases live in
 * `./contract.ts` so the Chromium e2e page runs the very same checks against real IndexedDB.
 */
import { describe, expect, it } from 'vitest';
import { storeContract, type StoreFixture } from './contract.js';

export type { StoreFixture } from './contract.js';

export function runStoreTests(name: string, setup: () => Promise<StoreFixture>): void {
  describe(`ReplicaStore contract: ${name}`, () => {
    for (const c of storeContract) {
      it(c.name, async () => {
        const f = await setup();
        try {
          await c.run(f, { equal: (a, b, m) => expect(a, m).toEqual(b) });
        } finally {
          await f.cleanup?.();
        }
      });
    }
  });
}
