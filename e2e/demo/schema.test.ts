/** The demo's schema file (read by `dataloom serve --schema`) and the client's copy stay equal. */
import { readFileSync } from 'node:fs';
import { parseEdn, printEdn } from '@dataloom/core';
import { expect, it } from 'vitest';
import { schema } from '../../demo-app/src/schema.js';

it('demo-app/schema.edn equals the schema the demo client opens with', () => {
  const file = parseEdn(readFileSync(new URL('../../demo-app/schema.edn', import.meta.url), 'utf8'));
  expect(printEdn(file)).toBe(printEdn(schema));
});

it('the demo schema has the draft attributes its shared form needs (draftSchema)', async () => {
  const { draftSchema } = await import('@dataloom/core');
  const demo = schema as unknown as Map<unknown, unknown> | Record<string, unknown>;
  const has = (k: string) => printEdn(demo as never).includes(k);
  for (const attr of Object.keys(draftSchema)) expect(has(attr), attr).toBe(true);
});
