// Module resolution hook for running the `dataloom` CLI from source (see dataloom.js):
// `@dataloom/<name>` resolves to `packages/<name>/src/index.ts` of this checkout,
// `@dataloom/<name>/internals` to `packages/<name>/src/internals.ts`.
import { existsSync } from 'node:fs';

const packages = new URL('../../', import.meta.url);

export async function resolve(specifier, context, next) {
  const m = /^@dataloom\/([a-z-]+)(\/internals)?$/.exec(specifier);
  if (m) {
    const url = new URL(`${m[1]}/src/${m[2] ? 'internals' : 'index'}.ts`, packages);
    if (existsSync(url)) return { url: url.href, shortCircuit: true };
  }
  return next(specifier, context);
}
