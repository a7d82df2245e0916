import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));
const internals = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/internals.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      // Before the packages: a string alias also matches the paths below it.
      '@dataloom/core/internals': internals('core'),
      '@dataloom/query/internals': internals('query'),
      '@dataloom/core': pkg('core'),
      '@dataloom/protocol': pkg('protocol'),
      '@dataloom/query': pkg('query'),
      '@dataloom/dataflow': pkg('dataflow'),
      '@dataloom/client': pkg('client'),
      '@dataloom/server': pkg('server'),
      '@dataloom/react': pkg('react'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/src/**/*.test.tsx', 'test/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
