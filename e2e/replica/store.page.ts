/**
 * Runs the ReplicaStore contract (the same cases as `runStoreTests`) against real IndexedDB in
 * the browser; results land in `window.storeResults`.
 */
import { IdbStore } from '@dataloom/client';
import { storeContract } from '../../packages/client/src/store/contract.js';

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

async function run(): Promise<Array<{ name: string; ok: boolean; error?: string }>> {
  const out: Array<{ name: string; ok: boolean; error?: string }> = [];
  let n = 0;
  for (const c of storeContract) {
    const name = `contract-${n++}`;
    const fixture = { open: () => new IdbStore(name), cleanup: () => new IdbStore(name).destroy() };
    try {
      await c.run(fixture, {
        equal(actual, expected, message) {
          if (!deepEqual(actual, expected)) {
            throw new Error(`${message ?? 'not equal'}: ${JSON.stringify(actual)} !== ${JSON.stringify(expected)}`);
          }
        },
      });
      out.push({ name: c.name, ok: true });
    } catch (e) {
      out.push({ name: c.name, ok: false, error: String((e as Error).stack ?? e) });
    } finally {
      await fixture.cleanup().catch(() => {});
    }
  }
  return out;
}

(window as unknown as { storeResults: unknown }).storeResults = run();
