#!/usr/bin/env node
// The `dataloom` command. Runs the built CLI (`dist/cli.js`); in a source checkout where
// `npm run build` has not run yet (a fresh clone right after `npm install`), it runs the
// TypeScript source (`src/cli.ts`) through tsx instead, with `@dataloom/*` resolved to each
// package's `src/index.ts`. DATALOOM_FROM_SOURCE=1 forces the source path.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

const dist = new URL('../dist/cli.js', import.meta.url);
const source = new URL('../src/cli.ts', import.meta.url);

if (existsSync(dist) && process.env.DATALOOM_FROM_SOURCE !== '1') {
  await import(dist.href);
} else if (existsSync(source)) {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    process.stderr.write('dataloom: packages/server is not built and tsx is not installed; run `npm run build` first\n');
    process.exit(1);
  }
  register(new URL('./source-hooks.js', import.meta.url));
  tsx.register();
  await import(source.href);
} else {
  process.stderr.write(`dataloom: missing ${dist.pathname}; reinstall @dataloom/server\n`);
  process.exit(1);
}
