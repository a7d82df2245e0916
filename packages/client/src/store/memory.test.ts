import { memoryBacking, MemoryStore } from './memory.js';
import { runStoreTests } from './store.suite.js';

runStoreTests('memory', async () => {
  const backing = memoryBacking();
  return { open: () => new MemoryStore(backing) };
});
