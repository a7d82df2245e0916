import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const pkg = (name: string) => fileURLToPath(new URL(`../packages/${name}/src/index.ts`, import.meta.url));

/**
 * The demo builds straight from the packages' TypeScript sources (no package build needed).
 * `npm run build -w @dataloom/demo-app` writes `demo-app/dist`, which `dataloom serve` serves.
 */
export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: {
      '@dataloom/core': pkg('core'),
      '@dataloom/protocol': pkg('protocol'),
      '@dataloom/query': pkg('query'),
      '@dataloom/dataflow': pkg('dataflow'),
      '@dataloom/client': pkg('client'),
      '@dataloom/react': pkg('react'),
    },
  },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  worker: { format: 'es' },
});
