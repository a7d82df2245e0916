import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The offline shell's plugin is a devDependency added after some checkouts installed theirs: say
// so and build without the shell rather than fail (e2e/demo/offline-shell.test.ts then fails
// saying the same).
const { VitePWA } = await import('vite-plugin-pwa').catch(() => {
  console.warn('[demo] vite-plugin-pwa is not installed (run npm install): building without the offline shell');
  return { VitePWA: null };
});

const pkg = (name: string) => fileURLToPath(new URL(`../packages/${name}/src/index.ts`, import.meta.url));
const internals = (name: string) => fileURLToPath(new URL(`../packages/${name}/src/internals.ts`, import.meta.url));

/**
 * The demo builds straight from the packages' TypeScript sources (no package build needed).
 * `npm run build -w @dataloom/demo-app` writes `demo-app/dist`, which `dataloom serve` serves.
 *
 * Offline shell: vite-plugin-pwa (Workbox) generates a service worker that precaches the built
 * app — HTML, scripts (the replica's Web Worker too), styles, icon — so the app opens with the
 * server down and reads its data from the IndexedDB replica. It updates itself when a new build is
 * served; `/sync` (the WebSocket) and `/health` never go through it.
 */
export default defineConfig({
  plugins: [
    react(),
    VitePWA?.({
      registerType: 'autoUpdate',
      injectRegister: 'script-defer',
      manifest: {
        name: 'Dataloom — team ledger demo',
        short_name: 'Dataloom',
        description: 'An offline-first collaborative app on Dataloom',
        theme_color: '#1f2a44',
        background_color: '#f6f5f1',
        display: 'standalone',
        icons: [{ src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
      },
      includeAssets: ['icon.svg'],
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,webmanifest}'],
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^\/sync/, /^\/health/],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
        maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
      },
    }),
  ],
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
      '@dataloom/react': pkg('react'),
    },
  },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  worker: { format: 'es' },
});
