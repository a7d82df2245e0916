/**
 * The per-entity functions `get-else`, `get-some` and `missing?`: each reads one attribute (or the
 * first of several) at one entity. After other steps they are point lookups on the entity column;
 * as the start of a delta plan they change exactly at the entities whose attribute changed
 * (`entityChanges`: old result out, new result in).
 */
import { DataloomError, valueEquals, valueKey } from '@dataloom/core';
import type { Step } from '../../ir/types.js';
import { entityChanges } from './entity-changes.js';
import { bindPat } from './bind.js';
import { type CtxRef, type Mode, type Op, oldReader, termVal, unify } from './step.js';

type EntityStep = Extract<Step, { kind: 'get-else' | 'get-some' | 'missing' }>;

export function entityStep(s: EntityStep, pre: Set<number>, mode: Mode, ctxRef: CtxRef, next: Op): Op {
  const isOld = oldReader(mode, ctxRef);
  switch (s.kind) {
    case 'get-else': {
      const arr = s.src.arr;
      const outBound = pre.has(s.out);
      return (env, w) => {
        const e = termVal(s.e, env);
        const ek = valueKey(e);
        let any = false;
        arr.each(1, ek, isOld(), (t) => {
          any = true;
          if (outBound) {
            if (valueEquals(env[s.out], t[1])) next(env, w);
          } else {
            env[s.out] = t[1];
            next(env, w);
          }
        });
        if (!any) {
          const d = termVal(s.dflt, env);
          if (outBound) {
            if (valueEquals(env[s.out], d)) next(env, w);
          } else {
            env[s.out] = d;
            next(env, w);
          }
        }
      };
    }
    case 'get-some': {
      return (env, w) => {
        const e = termVal(s.e, env);
        const ek = valueKey(e);
        const old = isOld();
        for (let i = 0; i < s.srcs.length; i++) {
          let found: unknown = undefined;
          s.srcs[i]!.arr.each(1, ek, old, (t) => {
            if (found === undefined) found = t[1];
          });
          if (found !== undefined) {
            bindPat(s.out, [s.attrs[i], found], env, pre, (en) => next(en, w));
            return;
          }
        }
      };
    }
    case 'missing': {
      const arr = s.src.arr;
      return (env, w) => {
        const ek = valueKey(termVal(s.e, env));
        let any = false;
        arr.each(1, ek, isOld(), () => {
          any = true;
        });
        if (!any) next(env, w);
      };
    }
    default:
      throw new DataloomError('dataflow/internal', 'not an entity function step', {});
  }
}

/** An entity function as the start of a delta plan: its changed results at the changed entities. */
export function entityDeltaScan(s: EntityStep, ctxRef: CtxRef, next: Op): Op {
  return (env, w) => {
    const ctx = ctxRef.c!;
    entityChanges(s, (e, out, dw) => {
      if (ctx.sign !== 0 && Math.sign(dw) !== ctx.sign) return;
      if (!unify(s.e, e, env, false)) return;
      if (s.kind === 'get-else') {
        env[s.out] = out;
        next(env, w * dw);
      } else if (s.kind === 'get-some') {
        bindPat(s.out, out, env, new Set(), (en) => next(en, w * dw));
      } else next(env, w * dw);
    });
  };
}
