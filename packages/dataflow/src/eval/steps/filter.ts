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

type Call = Extract<Step, { kind: 'pred' | 'fn' }>;

/**
 * The call a predicate or function clause makes, as one closure per binding (shared by the filter
 * and bind steps). A built-in's arguments are passed straight (no argument array per binding for
 * one to three arguments, the usual `[(> ?a 50)]`); a function bound as an input is looked up in the
 * binding and called through {@link callFn}.
 */
export function callOf(s: Call): (env: unknown[]) => unknown {
  const args = s.args;
  const fn = s.fn;
  const n = args.length;
  if (fn.kind === 'builtin') {
    const f = fn.f;
    const a0 = args[0]!;
    const a1 = args[1]!;
    const a2 = args[2]!;
    const c0 = a0?.kind === 'const';
    const c1 = a1?.kind === 'const';
    if (n === 1) return (env) => f(termVal(a0, env));
    if (n === 2) {
      // `[(> ?a 50)]`: a variable against a constant, read without a term switch per binding.
      if (!c0 && c1 && a0.kind === 'var') {
        const slot = a0.slot;
        const k = a1.value;
        return (env) => f(env[slot], k);
      }
      return (env) => f(termVal(a0, env), termVal(a1, env));
    }
    if (n === 3) return (env) => f(termVal(a0, env), termVal(a1, env), termVal(a2, env));
  }
  return (env) => {
    const f = fn.kind === 'builtin' ? fn.f : env[fn.slot];
    const xs = new Array(n);
    for (let i = 0; i < n; i++) xs[i] = termVal(args[i]!, env);
    return callFn(f, xs, s.form);
  };
}

export function filterStep(s: Pred, next: Op): Op {
  const call = callOf(s);
  return (env, w) => {
    if (truthy(call(env))) next(env, w);
  };
}
