import { DataloomDevtools, type ErrorLog } from '@dataloom/react';
import { what } from '../offline/pending.js';

/**
 * The demo's devtools: `@dataloom/react`'s panel (sync state, pending transactions with their age,
 * last errors with Clear, watched queries with row counts and last update cost, the worker's time
 * per operator) in the demo's dark style, saying what a pending transaction touches in words. Its
 * own chunk, loaded when first opened.
 */
export default function Devtools({ errors, onClose }: { errors: ErrorLog; onClose: () => void }) {
  return <DataloomDevtools errors={errors} onClose={onClose} describe={what} className="devtools" />;
}
