/**
 * Filter: a predicate clause `[(< ?a ?b)]` lets a binding through when the predicate, a built-in or
 * a function passed as an input, returns anything but `false`, `nil` or `undefined`.
 */
import { DataloomError } from '@dataloom/core';
import type { Step } from '../../ir/types.js';
import { formText, type Op, termVal } from './step.js';

type Pred = Extract<Step, { kind: 'pred' }>;

function truthy(x: unknown): boolean {
  return x !== false && x !== null && x !== undefined;
}

/** Calls a predicate or function; `query/unknown-function` when the input bound to it is none. */
export function callFn(f: unknown, xs: unknown[], form: unknown): unknown {
  if (typeof f !== 'function') {
    throw new DataloomError('query/unknown-function', `Unknown function or predicate in ${formText(form)}`, { form });
  }
  return (f as (...a: unknown[]) => unknown)(...xs);
}

export function filterStep(s: Pred, next: Op): Op {
  const args = s.args;
  const fn = s.fn;
  const n = args.length;
  return (env, w) => {
    const f = fn.kind === 'builtin' ? fn.f : (env[fn.slot] as (...a: unknown[]) => unknown);
    const xs = new Array(n);
    for (let i = 0; i < n; i++) xs[i] = termVal(args[i]!, env);
    if (truthy(callFn(f, xs, s.form))) next(env, w);
  };
}
